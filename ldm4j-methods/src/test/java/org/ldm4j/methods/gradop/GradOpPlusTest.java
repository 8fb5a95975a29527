package org.ldm4j.methods.gradop;

import org.bytedeco.pytorch.InferenceMode;
import org.bytedeco.pytorch.Scalar;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch.ScalarType;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.ldm4j.nn.Dtypes;
import org.ldm4j.nn.Engine;
import org.ldm4j.nn.Rng;
import org.ldm4j.nn.Tensors;
import org.ldm4j.pipeline.ModelLoader;
import org.ldm4j.pipeline.StableDiffusion;
import org.ldm4j.pipeline.Step;
import org.ldm4j.pipeline.TinyStableDiffusion;
import org.ldm4j.schedulers.NoiseSchedule;
import org.ldm4j.schedulers.Scheduler;

import java.nio.file.Path;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.*;

class GradOpPlusTest {
    @TempDir static Path dir;
    static StableDiffusion sd;

    /** The tiny model: 16x16 images, VAE factor 2, SD's beta schedule. Blur shrunk to fit 16 px. */
    static final PaintingSettings SMALL_BLUR = PaintingSettings.official().withBlur(5, 1.0);

    @BeforeAll static void load() throws Exception {
        Engine.threads(1);
        sd = TinyStableDiffusion.load(dir.resolve("tiny"), 0);
    }

    /** Left half red, right half blue, in [0, 1]. */
    static Tensor painting(int w, int h) {
        float[] px = new float[3 * h * w];
        for (int i = 0; i < h; i++) for (int j = 0; j < w; j++) px[(j < w / 2 ? 0 : 2) * h * w + i * w + j] = 1f;
        return Tensors.ofFloats(px, 1, 3, h, w);
    }

    static GradOpPlusSettings fast() {
        return GradOpPlusSettings.official().withSteps(10).withGradSteps(3).withPainting(SMALL_BLUR);
    }

    @Test void startStepTableOfTheBrief() {
        // strength -> igrad_start = int(50 * (1 - strength)) and the timesteps the three injections happen at
        Map<Double, int[]> table = Map.of(
                0.6, new int[]{20, 561, 541, 521}, 0.7, new int[]{15, 661, 641, 621}, 0.75, new int[]{12, 721, 701, 681},
                0.8, new int[]{9, 781, 761, 741}, 0.85, new int[]{7, 821, 801, 781}, 0.9, new int[]{4, 881, 861, 841},
                1.0, new int[]{0, 961, 941, 921});
        Scheduler ddim = GradOpScheduling.officialDdim(sd).create(50, new Rng(0));
        double[] ts = ddim.timesteps();
        for (int k = 0; k < 50; k++) assertEquals(981 - 20 * k, ts[k], "official DDIM timesteps");
        table.forEach((strength, row) -> {
            GradOpPlusSettings s = GradOpPlusSettings.official().withStrength(strength);
            assertEquals(row[0], s.firstIteration(), "igrad_start at strength " + strength);
            int n = 0;
            for (int i = 0; i < 50; i++) {
                if (GradOpPlusHook.optimisesAfter(i, 50, s)) assertEquals(row[1 + n++], ts[i + 1], "injection " + n + " at " + strength);
            }
            assertEquals(3, n);
        });
        // truncation, not rounding: 0.8 starts at 9
        assertEquals(9, GradOpPlusSettings.official().firstIteration());
        // never after the last step
        assertFalse(GradOpPlusHook.optimisesAfter(49, 50, GradOpPlusSettings.official().withStrength(0.02)));
    }

    @Test void officialStartLatentIsNoisedZeros() {
        Scheduler ddim = GradOpScheduling.officialDdim(sd).create(50, new Rng(0));
        Tensor z = GradOpScheduling.startLatent(GradOpPlusSettings.StartLatent.NOISED_ZEROS, ddim, new Rng(5), sd, 16, 16);
        Tensor eps = new Rng(5).randn(1, 4, 8, 8);
        NoiseSchedule schedule = GradOpScheduling.officialDdim(sd).noiseSchedule();
        double scale = Math.sqrt(1 - schedule.alphaCumprod(981));
        assertEquals(0.99711, scale, 1e-5);
        assertTrue(z.sub(eps.mul(new Scalar(scale))).abs().max().item_double() < 1e-6);
    }

    @Test void decoderGradientMatchesFiniteDifferencesInFloat64() throws Exception {
        TinyStableDiffusion.write(dir.resolve("tiny64"), 0);
        StableDiffusion sd64 = ModelLoader.load(dir.resolve("tiny64").toString(), Dtypes.device("cpu"), ScalarType.Double);
        PaintingLoss loss = new PaintingLoss(sd64, painting(16, 16).to(ScalarType.Double), SMALL_BLUR, 1);
        Tensor z = new Rng(2).randn(1, 4, 8, 8).to(ScalarType.Double).mul(new Scalar(0.3));
        Tensor zg = z.clone().requires_grad_(true);
        loss.faithfulness(zg).backward();
        double[] grad = new double[(int) z.numel()];
        zg.grad().contiguous().data_ptr_double().get(grad);
        double h = 1e-6;
        for (int idx : new int[]{0, 17, 63, 100, 190, 255}) {
            Tensor plus = z.clone(), minus = z.clone();
            plus.view(-1).select(0, idx).add_(new Scalar(h));
            minus.view(-1).select(0, idx).sub_(new Scalar(h));
            double fd = (loss.faithfulness(plus).item_double() - loss.faithfulness(minus).item_double()) / (2 * h);
            assertEquals(fd, grad[idx], 1e-7 + 1e-5 * Math.abs(fd), "dL/dz at " + idx);
        }
        assertTrue(java.util.Arrays.stream(grad).map(Math::abs).sum() > 0);
    }

    @Test void paintingLossDecreasesOverTheGradStepsAndWeightsGetNoGradient() {
        sd.vae.requiresGrad(false);
        PaintingLoss loss = new PaintingLoss(sd, painting(16, 16), SMALL_BLUR, 1);
        Tensor z = new Rng(4).randn(1, 4, 8, 8);
        LatentOptimizer.Result r;
        try (InferenceMode im = new InferenceMode()) {   // works inside a caller's inference mode
            r = LatentOptimizer.optimise(loss, z, 12, 0.1);
        }
        assertEquals(12, r.losses().length);
        assertTrue(r.last() < r.first() * 0.9, "loss " + r.first() + " -> " + r.last());
        assertTrue(loss.faithfulness(r.z()).item_double() < r.first());
        assertFalse(r.z().requires_grad());
        sd.vae.namedParameters().forEach((n, p) -> assertFalse(p.t().grad().defined(), n + " has a gradient"));
        // the proximity term keeps z closer to its anchor
        LatentOptimizer.Result anchored = LatentOptimizer.optimise(loss, z, 12, 0.1, z, 100.0);
        assertTrue(anchored.z().sub(z).pow(new Scalar(2)).mean().item_double() < r.z().sub(z).pow(new Scalar(2)).mean().item_double());
    }

    @Test void lowerResolutionLossDecodesASmallerImage() {
        PaintingLoss loss = new PaintingLoss(sd, painting(16, 16), PaintingSettings.official().withBlur(3, 0.5), 2);
        Tensor z = new Rng(4).randn(1, 4, 8, 8);
        assertArrayEquals(new long[]{1, 3, 8, 8}, loss.decodeToUnit(z).sizes().vec().get());
        assertArrayEquals(new long[]{1, 3, 8, 8}, loss.target().sizes().vec().get());
        LatentOptimizer.Result r = LatentOptimizer.optimise(loss, z, 6, 0.1);
        assertTrue(r.last() < r.first());
    }

    @Test void hookOptimisesThenReNoisesToTheCurrentLevelWithTheNextDraw() {
        Scheduler ddim = GradOpScheduling.officialDdim(sd).create(10, new Rng(0));
        PaintingLoss loss = new PaintingLoss(sd, painting(16, 16), SMALL_BLUR, 1);
        Tensor latents = new Rng(8).randn(1, 4, 8, 8), x0 = new Rng(9).randn(1, 4, 8, 8);
        NoiseSchedule schedule = GradOpScheduling.officialDdim(sd).noiseSchedule();
        for (GradOpPlusSettings.Optimised which : GradOpPlusSettings.Optimised.values()) {
            GradOpPlusSettings s = fast().withGradSteps(0).withOptimised(which);   // no Adam step: z* = the input
            GradOpPlusHook hook = new GradOpPlusHook(ddim, new Rng(11), loss, s);
            int i = s.firstIteration();
            Tensor out = hook.afterStep(latents, x0, new Step(i, ddim.timesteps()[i], 10, 0));
            double ab = schedule.alphaCumprod((int) ddim.timesteps()[i + 1]);
            Tensor src = which == GradOpPlusSettings.Optimised.PREDICTED_X0 ? x0 : latents;
            Tensor expected = src.mul(new Scalar(Math.sqrt(ab))).add(new Rng(11).randn(1, 4, 8, 8).mul(new Scalar(Math.sqrt(1 - ab))));
            assertTrue(out.sub(expected).abs().max().item_double() < 1e-5, which.name());
            // outside the window the latents pass through untouched
            assertSame(latents, hook.afterStep(latents, x0, new Step(i + s.iterations(), 0, 10, 0)));
        }
    }

    @Test void deterministicBySeedAndTheOptimisationChangesTheResult() {
        StrokePrompt p = StrokePrompt.of("a red house a blue tree", 7);
        Tensor y = painting(16, 16);
        GradOpPlus.Result a = GradOpPlus.run(sd, p, y, fast(), null, List.of(), null);
        GradOpPlus.Result b = GradOpPlus.run(sd, p, y, fast(), null, List.of(), null);
        GradOpPlus.Result c = GradOpPlus.run(sd, p.withSeed(8), y, fast(), null, List.of(), null);
        GradOpPlus.Result none = GradOpPlus.run(sd, p, y, fast().withIterations(0), null, List.of(), null);
        assertArrayEquals(new long[]{1, 3, 16, 16}, a.image().sizes().vec().get());
        assertEquals(0.0, a.image().sub(b.image()).abs().max().item_double());
        assertTrue(a.image().sub(c.image()).abs().max().item_double() > 1e-4);
        assertTrue(a.image().sub(none.image()).abs().max().item_double() > 1e-4);
        assertEquals(3, a.iterations().size());
        for (LatentOptimizer.Result r : a.iterations()) assertTrue(r.last() < r.first(), "every iteration lowers the loss");
        assertEquals(0, none.iterations().size());
        GradOpPlus.Result x0 = GradOpPlus.run(sd, p, y, fast().withOptimised(GradOpPlusSettings.Optimised.PREDICTED_X0), null, List.of(), null);
        assertTrue(a.image().sub(x0.image()).abs().max().item_double() > 1e-4);
    }

    @Test void runsInsideACallersInferenceMode() {
        StrokePrompt p = StrokePrompt.of("a red house", 5);
        Tensor plain = GradOpPlus.run(sd, p, painting(16, 16), fast(), null, List.of(), null).image();
        try (InferenceMode im = new InferenceMode()) {
            Tensor inside = GradOpPlus.run(sd, p, painting(16, 16), fast(), null, List.of(), null).image();
            assertEquals(0.0, plain.sub(inside).abs().max().item_double());
        }
    }

    @Test void nonSquareAndRectangularPaintingsWork() {
        GradOpPlus.Result r = GradOpPlus.run(sd, StrokePrompt.of("a boat", 1), painting(24, 16), fast().withSteps(4), null, List.of(), null);
        assertArrayEquals(new long[]{1, 3, 16, 24}, r.image().sizes().vec().get());
    }

    @Test void badInputsAreClearErrors() {
        StrokePrompt p = StrokePrompt.of("a red house", 1);
        IllegalArgumentException size = assertThrows(IllegalArgumentException.class,
                () -> GradOpPlus.run(sd, p, painting(15, 16), fast(), null, List.of(), null));
        assertTrue(size.getMessage().contains("not a multiple of 2"), size.getMessage());
        IllegalArgumentException blur = assertThrows(IllegalArgumentException.class,
                () -> GradOpPlus.run(sd, p, painting(16, 16), GradOpPlusSettings.official().withSteps(4), null, List.of(), null));
        assertTrue(blur.getMessage().contains("blur kernel 35"), blur.getMessage());
        IllegalArgumentException strength = assertThrows(IllegalArgumentException.class,
                () -> GradOpPlus.run(sd, p, painting(16, 16), fast().withStrength(1.5), null, List.of(), null));
        assertTrue(strength.getMessage().contains("strength"));
        IllegalArgumentException phrase = assertThrows(IllegalArgumentException.class,
                () -> GradOpPlus.run(sd, p, painting(16, 16), fast(),
                        RegionSettings.of(List.of(Region.parse("#FF0000=lake"))), List.of(), null));
        assertTrue(phrase.getMessage().contains("\"lake\" does not occur"), phrase.getMessage());
        IllegalArgumentException colour = assertThrows(IllegalArgumentException.class,
                () -> GradOpPlus.run(sd, p, painting(16, 16), fast(),
                        RegionSettings.of(List.of(Region.parse("#00FF00=house"))), List.of(), null));
        assertTrue(colour.getMessage().contains("#00FF00"), colour.getMessage());
        IllegalArgumentException empty = assertThrows(IllegalArgumentException.class,
                () -> RegionSettings.of(List.of()).validate());
        assertTrue(empty.getMessage().contains("empty"));
        assertThrows(IllegalArgumentException.class, () -> new PaintingLoss(sd, painting(16, 16), SMALL_BLUR, 3));
    }
}
