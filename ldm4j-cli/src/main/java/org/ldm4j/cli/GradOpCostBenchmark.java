package org.ldm4j.cli;

import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.Scalar;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch;
import org.ldm4j.bench.EngineBenchmark;
import org.ldm4j.methods.gradop.BaselineSettings;
import org.ldm4j.methods.gradop.GradOpPlus;
import org.ldm4j.methods.gradop.GradOpPlusSettings;
import org.ldm4j.methods.gradop.Stroke2ImgBaselines;
import org.ldm4j.methods.gradop.StrokePrompt;
import org.ldm4j.models.unet.UNetExtras;
import org.ldm4j.nn.Rng;
import org.ldm4j.nn.Tensors;
import org.ldm4j.pipeline.StableDiffusion;

import java.io.PrintStream;
import java.util.List;
import java.util.Locale;
import java.util.function.Supplier;

/**
 * The cost of GradOP+ against SDEdit at one size (issue #7's "ratio of GradOP+ to SDEdit wall time in one run"),
 * measured two ways in the same process:
 * <ol>
 *   <li>end to end: SDEdit(0.8) and GradOP+ (1 iteration of {@code gradSteps} Adam steps, loss scale 1 and 2) with
 *       the same short DDIM schedule;</li>
 *   <li>by component: one CFG UNet step u, one VAE encode, one decode, and one decoder forward+backward d_s at each
 *       loss scale; then the official settings' ratio (50 steps, 3 x 12 Adam steps vs SDEdit's 40 steps)
 *       (50·u + 36·d_s + decode) / (40·u + encode + decode), a cost model whose every term was measured here.</li>
 * </ol>
 */
final class GradOpCostBenchmark {
    private final PrintStream out;

    GradOpCostBenchmark(PrintStream out) { this.out = out; }

    /** @param steps DDIM steps of the end-to-end runs; 0 = components only (the cost model) */
    void run(StableDiffusion sd, int size, int steps, int gradSteps) {
        Tensor painting = blocks(size);
        StrokePrompt prompt = StrokePrompt.of("a castle on a hill", 0);
        BaselineSettings sdedit = BaselineSettings.official().withSteps(Math.max(steps, 1)).validate();
        out.printf(Locale.ROOT, "GradOP+ vs SDEdit on %s at %dx%d, CFG 7.5, fp32%n", sd.name, size, size);
        double sde = steps == 0 ? 0 : seconds(() -> Stroke2ImgBaselines.sdedit(sd, prompt, painting, sdedit, List.of(), null));
        if (steps > 0) out.printf(Locale.ROOT, "  end to end, %d DDIM steps: sdedit(0.8) %.2f s%n", steps, sde);
        // the official blur (35 / sigma 7 at 512 px) scaled to the width, as the evaluator does
        org.ldm4j.toyworld.eval.PaintingFunction blur = org.ldm4j.toyworld.eval.PaintingFunction.forWidth(size);
        for (int scale : steps == 0 ? new int[0] : new int[]{1, 2}) {
            GradOpPlusSettings p = GradOpPlusSettings.official().withSteps(steps).withIterations(1).withGradSteps(gradSteps)
                    .withPainting(org.ldm4j.methods.gradop.PaintingSettings.official().withBlur(blur.kernel().length, blur.sigma()))
                    .withLossScale(scale).validate();
            double g = seconds(() -> GradOpPlus.run(sd, prompt, painting, p, null, List.of(), null).image());
            out.printf(Locale.ROOT, "  gradop+ (1 x %d Adam steps, loss scale %d): %.2f s = %.2fx SDEdit%n", gradSteps, scale, g, g / sde);
        }

        Rng rng = new Rng(0);
        long latent = size / sd.vaeScaleFactor();
        Tensor z = rng.randn(1, 4, latent, latent), z2 = rng.randn(2, 4, latent, latent);
        Tensor context = sd.textEncoder.promptEmbeds(Tensors.ofLongs(new long[77], 1, 77), 0).repeat(2, 1, 1);
        Tensor t = torch.full(new long[]{}, new Scalar(981L));
        double unet = EngineBenchmark.timeBest(() -> sd.unet.forward(z2, t, context, UNetExtras.NONE), 1);
        double decode = EngineBenchmark.timeBest(() -> sd.vae.decodeScaled(z), 1);
        Tensor image = painting.mul(new Scalar(2.0)).sub(new Scalar(1.0));
        double encode = EngineBenchmark.timeBest(() -> sd.vae.encode(image).mean(), 1);
        out.printf(Locale.ROOT, "  components: CFG UNet step %.2f s, VAE encode %.2f s, decode %.2f s%n", unet, encode, decode);
        for (int scale : new int[]{1, 2}) {
            double d = decoderForwardBackward(sd, z, scale);
            double ratio = (50 * unet + 36 * d + decode) / (40 * unet + encode + decode);
            out.printf(Locale.ROOT, "  decoder forward+backward, loss scale %d: %.2f s -> official settings (50 steps, 3 x 12 Adam "
                    + "steps) cost %.2fx SDEdit(0.8); with 3 x 4 Adam steps %.2fx; with 3 x %d %.2fx%n", scale, d, ratio,
                    (50 * unet + 12 * d + decode) / (40 * unet + encode + decode), gradSteps,
                    (50 * unet + 3 * gradSteps * d + decode) / (40 * unet + encode + decode));
        }
        out.printf(Locale.ROOT, "  peak resident memory: %.2f GB%n", EngineBenchmark.peakRssBytes() / 1e9);
    }

    /** One timed decoder forward+backward pass after a warm-up, on the latent area-averaged s x. */
    private static double decoderForwardBackward(StableDiffusion sd, Tensor z, int scale) {
        Supplier<Tensor> pass = () -> {
            Tensor leaf = z.detach().clone().requires_grad_(true);
            Tensor loss = sd.vae.decodeScaled(scale == 1 ? leaf : torch.avg_pool2d(leaf, scale, scale)).square().mean();
            loss.backward();
            return loss;
        };
        seconds(pass);   // warm-up: first calls allocate and build kernels
        return seconds(pass);
    }

    private static double seconds(Supplier<Tensor> work) {
        try (PointerScope scope = new PointerScope()) {
            long t0 = System.nanoTime();
            work.get();
            return (System.nanoTime() - t0) / 1e9;
        }
    }

    /** A four-block colour painting (1, 3, size, size) in [0, 1]: the cost does not depend on what is painted. */
    static Tensor blocks(int size) {
        float[] rgb = new float[3 * size * size];
        float[][] colours = {{0.2f, 0.5f, 0.9f}, {0.1f, 0.6f, 0.2f}, {0.8f, 0.2f, 0.1f}, {0.9f, 0.8f, 0.3f}};
        for (int y = 0; y < size; y++) {
            for (int x = 0; x < size; x++) {
                float[] c = colours[(y * 2 / size) * 2 + x * 2 / size];
                for (int ch = 0; ch < 3; ch++) rgb[(ch * size + y) * size + x] = c[ch];
            }
        }
        return Tensors.ofFloats(rgb, 1, 3, size, size);
    }
}
