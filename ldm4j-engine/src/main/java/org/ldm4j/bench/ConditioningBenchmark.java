package org.ldm4j.bench;

import org.bytedeco.pytorch.InferenceMode;
import org.bytedeco.pytorch.Scalar;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.TensorVector;
import org.bytedeco.pytorch.global.torch;
import org.ldm4j.models.adapter.T2IAdapter;
import org.ldm4j.models.adapter.T2IAdapterConfig;
import org.ldm4j.models.adapter.TimeAdapter;
import org.ldm4j.models.controlnet.ControlNetModel;
import org.ldm4j.models.unet.UNet2DConditionConfig;
import org.ldm4j.models.unet.UNet2DConditionModel;
import org.ldm4j.models.unet.UNetExtras;
import org.ldm4j.nn.Engine;
import org.ldm4j.nn.Rng;
import org.ldm4j.pipeline.AdapterSource;
import org.ldm4j.pipeline.ControlInput;
import org.ldm4j.pipeline.ControlNetSource;
import org.ldm4j.pipeline.ControlSource;
import org.ldm4j.pipeline.Step;

import java.io.PrintStream;
import java.util.List;
import java.util.Locale;

/**
 * The extra cost per classifier-free-guidance step (batch 2) of one ControlNet, one T2I-Adapter (features cached, so
 * only the additions remain) and one FG-DM TimeAdapter (recomputed every step), as ratios to the plain UNet step, on
 * the same machine in one run. Random weights: speed does not depend on values. A ControlNet is a copy of the UNet
 * encoder plus mid block, so about half a UNet is expected; a cached adapter should cost next to nothing.
 *
 * <p>Usage: {@code ConditioningBenchmark [mid|sd15] [latent] [threads]} — "mid" (default) is SD 1.5's layout at half width
 * (160, 320, 640, 640) and 32x32 latents; "sd15" the real config at 64x64.
 */
public final class ConditioningBenchmark {
    private final PrintStream out;

    public ConditioningBenchmark(PrintStream out) { this.out = out; }

    public static void main(String[] args) {
        String size = args.length > 0 ? args[0] : "mid";
        int latent = args.length > 1 ? Integer.parseInt(args[1]) : (size.equals("sd15") ? 64 : 32);
        Engine.threads(args.length > 2 ? Integer.parseInt(args[2]) : Runtime.getRuntime().availableProcessors());
        new ConditioningBenchmark(System.out).run(size, latent);
    }

    public void run(String size, int latent) {
        UNet2DConditionConfig config = UNet2DConditionConfig.sd15();
        if (size.equals("mid")) config = config.with("{\"block_out_channels\": [160, 320, 640, 640], \"attention_head_dim\": 5}");
        List<Integer> channels = config.blockOutChannels();
        try (InferenceMode im = new InferenceMode()) {
            torch.manual_seed(0);
            UNet2DConditionModel unet = new UNet2DConditionModel(config);
            ControlNetModel net = ControlNetModel.fromUnet(unet, List.of(16, 32, 96, 256), 3);
            T2IAdapter adapter = new T2IAdapter(new T2IAdapterConfig(3, channels, 2, 8, T2IAdapterConfig.FULL));
            TimeAdapter time = new TimeAdapter(4, channels, 2, config.timeEmbedDim(), 32);
            Rng rng = new Rng(0);
            Tensor z = rng.randn(1, 4, latent, latent);
            Tensor batch = torch.cat(new TensorVector(z, z), 0);
            Tensor context = rng.randn(2, 77, 768);
            Tensor t = torch.scalar_tensor(new Scalar(501.0));
            Tensor image = rng.rand(1, 3, latent * 8, latent * 8);
            ControlInput in = new ControlInput(unet, batch, t, context, true);
            Step step = new Step(0, 501, 20, 0);

            ControlNetSource control = new ControlNetSource(net, image, 1.0);
            AdapterSource cached = new AdapterSource(adapter, image, 1.0);
            AdapterSource timed = new AdapterSource(time, null, 1.0);
            cached.extras(in, step);   // the once-per-generation feature computation, outside the timing
            control.extras(in, step);  // and the hint encoding

            // interleaved rounds, best of each: a shared machine's noise hits all four alike
            double plain = Double.MAX_VALUE, withControl = Double.MAX_VALUE, withAdapter = Double.MAX_VALUE, withTime = Double.MAX_VALUE;
            for (int round = 0; round < 3; round++) {
                plain = Math.min(plain, EngineBenchmark.timeBest(() -> unet.forward(batch, t, context, UNetExtras.NONE), 1));
                withControl = Math.min(withControl, time(unet, control, in, step));
                withAdapter = Math.min(withAdapter, time(unet, cached, in, step));
                withTime = Math.min(withTime, time(unet, timed, in, step));
            }
            out.printf(Locale.ROOT, "%s UNet %s, %dx%d latent, CFG batch 2, %d threads%n", size, channels, latent, latent,
                    torch.get_num_threads());
            out.printf(Locale.ROOT, "plain UNet step: %.3f s%n", plain);
            report("+ 1 ControlNet", withControl, plain);
            report("+ 1 T2I-Adapter (features cached)", withAdapter, plain);
            report("+ 1 FG-DM TimeAdapter (every step)", withTime, plain);
        }
    }

    private static double time(UNet2DConditionModel unet, ControlSource source, ControlInput in, Step step) {
        return EngineBenchmark.timeBest(() -> unet.forward(in.latents(), in.timestep(), in.context(), source.extras(in, step)), 1);
    }

    private void report(String what, double seconds, double plain) {
        out.printf(Locale.ROOT, "%-36s %.3f s/step, extra cost %.2fx the UNet step%n", what, seconds, (seconds - plain) / plain);
    }
}
