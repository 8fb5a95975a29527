package org.ldm4j.bench;

import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.InferenceMode;
import org.bytedeco.pytorch.Scalar;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.TensorOptional;
import org.bytedeco.pytorch.global.torch;
import org.bytedeco.pytorch.global.torch.ScalarType;
import org.ldm4j.models.clip.CLIPTextConfig;
import org.ldm4j.models.clip.CLIPTextModel;
import org.ldm4j.models.unet.UNet2DConditionConfig;
import org.ldm4j.models.unet.UNet2DConditionModel;
import org.ldm4j.models.unet.UNetExtras;
import org.ldm4j.models.unet.UNetFlops;
import org.ldm4j.models.vae.AutoencoderKL;
import org.ldm4j.models.vae.AutoencoderKLConfig;
import org.ldm4j.nn.Rng;
import org.ldm4j.nn.Scopes;
import org.ldm4j.nn.Tensors;
import org.ldm4j.models.clip.CLIPTokenizer;
import org.ldm4j.pipeline.GenerationRequest;
import org.ldm4j.pipeline.StableDiffusion;
import org.ldm4j.pipeline.Step;
import org.ldm4j.pipeline.StepHook;
import org.ldm4j.pipeline.Txt2Img;
import org.ldm4j.weights.BundledConfigs;
import java.util.List;

import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Locale;
import java.util.function.Supplier;

/**
 * SD 1.5-size figures on this machine, all measured in one run so they can be read as ratios: the GEMM peak
 * (libtorch {@code mm} and a oneDNN 1x1 convolution, fp32 and bf16), one classifier-free-guidance UNet step
 * (batch 2, 64x64 latent, 77 tokens) in fp32 and bf16 against its analytic FLOP count, a 512x512 VAE decode, the
 * text encoder, and peak resident memory. Random weights with the real configs: speed does not depend on values.
 */
public final class EngineBenchmark {
    private final PrintStream out;
    private double bestPeak;

    public EngineBenchmark(PrintStream out) { this.out = out; }

    /**
     * @param latent latent side (64 = 512x512 images)
     * @param includeVae time a VAE decode at that size (2.5 TFLOP at 512x512)
     * @param txt2imgSteps if > 0, also run a whole text2img of that many DDIM steps with these random-weight parts
     */
    public void run(int latent, boolean includeVae, int txt2imgSteps) throws IOException {
        double mm32 = mmGflops(ScalarType.Float), mm16 = mmGflops(ScalarType.BFloat16);
        double conv32 = pointwiseConvGflops(ScalarType.Float), conv16 = pointwiseConvGflops(ScalarType.BFloat16);
        bestPeak = Math.max(mm32, conv32);
        out.printf(Locale.ROOT, "GEMM peak 4096x4096x4096 torch.mm: fp32 %.0f GFLOP/s, bf16 %.0f GFLOP/s%n", mm32, mm16);
        out.printf(Locale.ROOT, "GEMM peak 8192x1280->1280 as 1x1 conv (oneDNN): fp32 %.0f GFLOP/s, bf16 %.0f GFLOP/s%n", conv32, conv16);

        UNet2DConditionConfig config = UNet2DConditionConfig.sd15();
        UNetFlops flops = UNetFlops.of(config, latent, latent, 77);
        double stepFlops = 2 * flops.totalFlops();
        out.printf(Locale.ROOT, "UNet FLOPs per CFG step (batch 2, %dx%d latent, 77 tokens): %.3f TFLOP "
                        + "(conv %.0f + linear %.0f + attention %.0f GMAC per image)%n", latent, latent, stepFlops / 1e12,
                flops.convMacs() / 1e9, flops.linearMacs() / 1e9, flops.attentionMacs() / 1e9);
        torch.manual_seed(0);
        UNet2DConditionModel unet = new UNet2DConditionModel(config);
        CLIPTextModel text = new CLIPTextModel(CLIPTextConfig.sd1());
        AutoencoderKL vae = new AutoencoderKL(AutoencoderKLConfig.sd1());
        peak("after building the random-weight models");
        Rng rng = new Rng(0);
        Tensor sample = rng.randn(2, 4, latent, latent), context = rng.randn(2, 77, 768);
        Tensor t = torch.full(new long[]{}, new Scalar(981L));
        double fp32 = timeBest(() -> unet.forward(sample, t, context, UNetExtras.NONE), 2);
        report("UNet CFG step fp32", fp32, stepFlops, bestPeak);
        peak("after the fp32 UNet steps");
        Tensor ref = keepOutput(() -> unet.forward(sample, t, context, UNetExtras.NONE));

        Tensor ids = Tensors.ofLongs(new long[77], 1, 77);
        out.printf(Locale.ROOT, "text encoder (77 tokens, fp32): %.3f s%n", timeBest(() -> text.promptEmbeds(ids, 0), 2));
        if (includeVae) {
            Tensor z = rng.randn(1, 4, latent, latent);
            out.printf(Locale.ROOT, "VAE decode %dx%d fp32: %.2f s%n", latent * 8, latent * 8, timeBest(() -> vae.decode(z), 1));
            peak("after the VAE decode");
        }
        if (txt2imgSteps > 0) txt2img(unet, text, vae, latent * 8, txt2imgSteps);
        out.printf(Locale.ROOT, "peak resident memory (fp32 run): %.2f GB%n", peakRssBytes() / 1e9);

        unet.to(sample.device(), ScalarType.BFloat16);
        System.gc();
        double bf16 = timeBest(() -> unet.forward(sample, t, context, UNetExtras.NONE), 2);
        report("UNet CFG step bf16 (attention fp32)", bf16, stepFlops, Math.max(mm16, conv16));
        Tensor low = keepOutput(() -> unet.forward(sample, t, context, UNetExtras.NONE));
        out.printf(Locale.ROOT, "bf16 vs fp32 UNet output: relative L2 %.2e; bf16 speed-up %.2fx%n",
                low.sub(ref).norm().item_double() / ref.norm().item_double(), fp32 / bf16);
    }

    /** A whole text2img through the library's pipeline with SD 1.5-size parts (a word-level tokenizer stands in for CLIP's). */
    private void txt2img(UNet2DConditionModel unet, CLIPTextModel text, AutoencoderKL vae, int size, int steps) throws IOException {
        StableDiffusion sd = sd15(unet, text, vae);
        GenerationRequest r = new GenerationRequest("txt2img", sd.name, "a castle on a hill", "", size, size, steps, 7.5,
                "ddim", 0, 1, 0, 0, null, null);
        long[] stepNanos = new long[1];
        long[] last = {0};
        StepHook timer = new StepHook() {
            @Override public Tensor afterStep(Tensor z, Tensor x0, Step s) {
                long now = System.nanoTime();
                if (s.index() > 0) stepNanos[0] += now - last[0];
                last[0] = now;
                return z;
            }
        };
        try (InferenceMode im = new InferenceMode()) {
            long t0 = System.nanoTime();
            last[0] = t0;
            Txt2Img.run(sd, r, List.of(timer), null);
            double total = (System.nanoTime() - t0) / 1e9;
            out.printf(Locale.ROOT, "txt2img %dx%d, %d DDIM steps, CFG 7.5, fp32: %.2f s/step (steps 2..%d), %.1f s total "
                    + "(text encoder + steps + VAE decode)%n", size, size, steps, stepNanos[0] / 1e9 / Math.max(1, steps - 1), steps, total);
        }
    }

    /**
     * SD 1.5-size parts with random weights (seeded) as a {@link StableDiffusion}: what speed and memory figures at SD
     * size are measured on when the real weights cannot be downloaded. A word-level tokenizer stands in for CLIP's BPE.
     */
    public static StableDiffusion randomSd15(long seed) throws IOException {
        torch.manual_seed(seed);
        return sd15(new UNet2DConditionModel(UNet2DConditionConfig.sd15()), new CLIPTextModel(CLIPTextConfig.sd1()),
                new AutoencoderKL(AutoencoderKLConfig.sd1()));
    }

    private static StableDiffusion sd15(UNet2DConditionModel unet, CLIPTextModel text, AutoencoderKL vae) throws IOException {
        Path tok = Files.createTempDirectory("ldm4j-bench-tokenizer");
        CLIPTokenizer.writeWordLevelVocab(List.of("a", "castle", "on", "hill"), tok);
        return new StableDiffusion("sd15-random", CLIPTokenizer.load(tok), text, unet, vae,
                BundledConfigs.load(BundledConfigs.SD15, "scheduler/scheduler_config.json"));
    }

    private void peak(String when) {
        out.printf(Locale.ROOT, "  peak resident memory %s: %.2f GB (now %.2f GB)%n", when, peakRssBytes() / 1e9, rssBytes("VmRSS:") / 1e9);
    }

    private static long rssBytes(String key) {
        try {
            for (String line : Files.readAllLines(Path.of("/proc/self/status"))) {
                if (line.startsWith(key)) return Long.parseLong(line.replaceAll("[^0-9]", "")) * 1024;
            }
        } catch (IOException | NumberFormatException e) {
            return -1;
        }
        return -1;
    }

    private void report(String what, double seconds, double flops, double peak) {
        double bound = flops / (peak * 1e9);
        out.printf(Locale.ROOT, "%s: %.2f s, %.0f GFLOP/s = %.2f of the measured peak; %.2fx the FLOP bound (%.2f s at %.0f GFLOP/s)%n",
                what, seconds, flops / seconds / 1e9, flops / seconds / 1e9 / peak, seconds / bound, bound, peak);
    }

    /** Best of {@code reps} timed calls after one warm-up call (oneDNN primitive creation, first-touch faults). */
    public static double timeBest(Supplier<Tensor> work, int reps) {
        double best = Double.MAX_VALUE;
        for (int i = -1; i < reps; i++) {
            try (InferenceMode im = new InferenceMode(); PointerScope scope = new PointerScope()) {
                long t0 = System.nanoTime();
                work.get();
                double s = (System.nanoTime() - t0) / 1e9;
                if (i >= 0) best = Math.min(best, s);
            }
        }
        return best;
    }

    private static Tensor keepOutput(Supplier<Tensor> work) {
        try (InferenceMode im = new InferenceMode(); PointerScope scope = new PointerScope()) {
            return Scopes.keep(work.get().to(ScalarType.Float).clone());
        }
    }

    public static double mmGflops(ScalarType dtype) {
        try (PointerScope scope = new PointerScope()) {
            Rng rng = new Rng(1);
            Tensor a = rng.randn(4096, 4096).to(dtype), b = rng.randn(4096, 4096).to(dtype);
            double s = timeBest(() -> torch.mm(a, b), 3);
            return 2.0 * 4096L * 4096L * 4096L / s / 1e9;
        }
    }

    /** The path ldm4j's fp32 Linear takes: (M, K) x (K, N) as a 1x1 convolution over a channels-last view. */
    public static double pointwiseConvGflops(ScalarType dtype) {
        try (PointerScope scope = new PointerScope()) {
            Rng rng = new Rng(2);
            long m = 8192, k = 1280, n = 1280;
            Tensor x = rng.randn(m, k).to(dtype).reshape(1, 1, m, k).permute(0, 3, 1, 2);
            Tensor w = rng.randn(n, k, 1, 1).to(dtype);
            double s = timeBest(() -> torch.conv2d(x, w, new TensorOptional(), new long[]{1, 1}, new long[]{0, 0}, new long[]{1, 1}, 1), 3);
            return 2.0 * m * k * n / s / 1e9;
        }
    }

    /** VmHWM of this process (Linux), or -1 where /proc is not there. */
    public static long peakRssBytes() { return rssBytes("VmHWM:"); }
}
