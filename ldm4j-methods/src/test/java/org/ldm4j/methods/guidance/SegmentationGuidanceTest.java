package org.ldm4j.methods.guidance;

import org.bytedeco.pytorch.InferenceMode;
import org.bytedeco.pytorch.Scalar;
import org.bytedeco.pytorch.ScalarOptional;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.TensorOptional;
import org.bytedeco.pytorch.global.torch;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.ldm4j.methods.gradop.LatentOptimizer;
import org.ldm4j.nn.Engine;
import org.ldm4j.nn.Rng;
import org.ldm4j.nn.Tensors;
import org.ldm4j.pipeline.ClassifierFreeGuidance;
import org.ldm4j.pipeline.DenoisingLoop;
import org.ldm4j.pipeline.PromptConditioning;
import org.ldm4j.pipeline.StableDiffusion;
import org.ldm4j.pipeline.Step;
import org.ldm4j.pipeline.StepHook;
import org.ldm4j.pipeline.TinyStableDiffusion;
import org.ldm4j.schedulers.Scheduler;

import java.nio.file.Path;
import java.util.List;

import static org.junit.jupiter.api.Assertions.*;

class SegmentationGuidanceTest {
    @TempDir static Path dir;
    static StableDiffusion sd;
    static final int SIZE = 16;

    /** Three classes, one per colour channel: a pixel is the class of its strongest channel. Differentiable. */
    static final Segmenter CHANNELS = images -> images.mul(new Scalar(4.0));

    @BeforeAll static void load() throws Exception {
        Engine.threads(1);
        sd = TinyStableDiffusion.load(dir.resolve("tiny"), 0);
    }

    /** Left half red (0), right half blue (2), the top two rows not wanted. */
    static int[] halves() {
        int[] wanted = new int[SIZE * SIZE];
        for (int y = 0; y < SIZE; y++) {
            for (int x = 0; x < SIZE; x++) wanted[y * SIZE + x] = y < 2 ? SegmentationLoss.IGNORED : x < SIZE / 2 ? 0 : 2;
        }
        return wanted;
    }

    static Tensor latent(long seed) { return new Rng(seed).randn(1, 4, SIZE / 2, SIZE / 2); }

    /** libtorch's own cross-entropy (mean over the pixels not ignored) of the decoded latent against {@code wanted}. */
    static double reference(Tensor z, int[] wanted) {
        Tensor image = sd.vae.decodeScaled(z).clamp(new ScalarOptional(new Scalar(-1.0)), new ScalarOptional(new Scalar(1.0)));
        long[] target = new long[wanted.length];
        for (int i = 0; i < wanted.length; i++) target[i] = wanted[i];
        return torch.cross_entropy_loss(CHANNELS.logits(image), Tensors.ofLongs(target, 1, SIZE, SIZE), new TensorOptional(), 1, -1, 0.0).item_double();
    }

    @Test void theLossIsLibtorchsCrossEntropyOverTheWantedPixels() {
        try (InferenceMode ignored = new InferenceMode()) {
            Tensor z = latent(1);
            int[] wanted = halves();
            SegmentationLoss plain = new SegmentationLoss(sd, CHANNELS, wanted, SIZE, SIZE, 0);
            assertEquals(reference(z, wanted), plain.value(z).item_double(), 1e-5);
            assertEquals(SIZE * (SIZE - 2), plain.wantedPixels());

            // balanced: the mean over classes of each class's own mean, here red and blue the same weight
            int[] mostlyRed = halves();
            for (int i = 0; i < mostlyRed.length; i++) if (mostlyRed[i] == 2 && i % SIZE < SIZE - 2) mostlyRed[i] = 0;
            int[] redOnly = mostlyRed.clone(), blueOnly = mostlyRed.clone();
            for (int i = 0; i < mostlyRed.length; i++) {
                if (redOnly[i] == 2) redOnly[i] = SegmentationLoss.IGNORED;
                if (blueOnly[i] == 0) blueOnly[i] = SegmentationLoss.IGNORED;
            }
            double balanced = new SegmentationLoss(sd, CHANNELS, mostlyRed, SIZE, SIZE, 1).value(z).item_double();
            assertEquals((reference(z, redOnly) + reference(z, blueOnly)) / 2, balanced, 1e-5);
            assertNotEquals(reference(z, mostlyRed), balanced, 1e-3, "not the pixel mean when the classes differ in size");
            // in between: class c's mean weighted by n_c^(1 - b), here b = 0.5
            int nRed = 0, nBlue = 0;
            for (int c : mostlyRed) { if (c == 0) nRed++; else if (c == 2) nBlue++; }
            double wr = Math.sqrt(nRed), wb = Math.sqrt(nBlue);
            assertEquals((wr * reference(z, redOnly) + wb * reference(z, blueOnly)) / (wr + wb),
                    new SegmentationLoss(sd, CHANNELS, mostlyRed, SIZE, SIZE, 0.5).value(z).item_double(), 1e-5);
        }
    }

    @Test void aGuidedStepMovesTheLatentByTheX0MoveAtItsNoiseLevelAndOtherStepsNotAtAll() {
        try (InferenceMode ignored = new InferenceMode()) {
            Scheduler ddim = sd.scheduler("ddim", 0).create(10, new Rng(0));
            SegmentationLoss loss = new SegmentationLoss(sd, CHANNELS, halves(), SIZE, SIZE, 0);
            GuidanceSettings settings = new GuidanceSettings(0.5, 1.0, 3, 0.1, 0);
            SegmentationGuidance hook = new SegmentationGuidance(ddim, loss, settings);
            Tensor latents = latent(2), x0 = latent(3);

            assertSame(latents, hook.afterStep(latents, x0, new Step(4, ddim.timesteps()[4], 10, 0)), "step 4 of 10 is before the window");
            assertTrue(hook.losses().isEmpty());

            Tensor move = LatentOptimizer.optimise(loss, x0, 3, 0.1).z().sub(x0);
            Tensor guided = hook.afterStep(latents, x0, new Step(6, ddim.timesteps()[6], 10, 0));
            Tensor expected = latents.add(ddim.addNoise(move, torch.zeros_like(move), 7));
            assertTrue(torch.allclose(expected, guided, 1e-5, 1e-6, false), "x_t moves by sqrt(alphabar_next) times the x0 move");
            assertTrue(move.abs().max().item_double() > 0.05, "the x0 prediction was moved");
            Tensor last = hook.afterStep(latents, x0, new Step(9, ddim.timesteps()[9], 10, 0));
            assertTrue(torch.allclose(latents.add(move), last, 1e-5, 1e-6, false), "after the last step the latent is x0 and moves unscaled");
            assertEquals(2, hook.losses().size());
            assertEquals(3, hook.losses().get(0).length);
        }
    }

    @Test void aGuidedRunDrawsTheWantedClassesWhereTheUnguidedOneDoesNot() {
        try (InferenceMode ignored = new InferenceMode()) {
            int[] wanted = halves();
            SegmentationLoss loss = new SegmentationLoss(sd, CHANNELS, wanted, SIZE, SIZE, 0);
            double plain = reference(sample(null, loss), wanted);
            double guided = reference(sample(new GuidanceSettings(0, 1, 3, 0.1, 0), loss), wanted);
            assertTrue(guided < 0.7 * plain, "guided " + guided + " vs unguided " + plain);
            assertTrue(agreement(sample(new GuidanceSettings(0, 1, 3, 0.1, 0), loss), wanted) > agreement(sample(null, loss), wanted) + 0.2);
        }
    }

    /** Ten DDIM steps of the tiny model from seed 5, guided or not. */
    static Tensor sample(GuidanceSettings settings, SegmentationLoss loss) {
        Rng rng = new Rng(5);
        Scheduler ddim = sd.scheduler("ddim", 0).create(10, rng);
        PromptConditioning text = sd.encodePrompt("a red house", "", 0);
        List<StepHook> hooks = settings == null ? List.of() : List.of(new SegmentationGuidance(ddim, loss, settings));
        Tensor zT = rng.randn(1, 4, SIZE / 2, SIZE / 2).mul(new Scalar(ddim.initNoiseSigma()));
        return DenoisingLoop.run(zT, ddim, 0, new ClassifierFreeGuidance(sd.unet, text, 1.0, null), hooks, null);
    }

    /** Fraction of the wanted pixels whose strongest channel is the wanted class. */
    static double agreement(Tensor z, int[] wanted) {
        Tensor image = sd.vae.decodeScaled(z);
        Tensor labels = torch.argmax(image, new org.bytedeco.pytorch.LongOptional(1), false).contiguous();
        long[] l = new long[SIZE * SIZE];
        labels.data_ptr_long().get(l);
        int hit = 0, n = 0;
        for (int i = 0; i < l.length; i++) {
            if (wanted[i] == SegmentationLoss.IGNORED) continue;
            n++;
            if (l[i] == wanted[i]) hit++;
        }
        return (double) hit / n;
    }

    @Test void anEnsembleReadsTheMeanOfItsMembersLogProbabilities() {
        Segmenter reversed = images -> images.flip(new long[] {1}).mul(new Scalar(3.0));
        try (InferenceMode ignored = new InferenceMode()) {
            Tensor images = new Rng(4).randn(2, 3, SIZE, SIZE);
            Tensor pooled = Segmenter.ensemble(List.of(CHANNELS, reversed)).logits(images);
            Tensor expected = torch.log_softmax(CHANNELS.logits(images), 1).add(torch.log_softmax(reversed.logits(images), 1)).div(new Scalar(2.0));
            assertTrue(torch.allclose(expected, pooled, 1e-5, 1e-6, false));
            // where the two members disagree, the pooled reading is less sure than either member
            Tensor pooledProbability = torch.softmax(pooled, 1).amax(new long[] {1}, false).mean();
            Tensor memberProbability = torch.softmax(CHANNELS.logits(images), 1).amax(new long[] {1}, false).mean();
            assertTrue(pooledProbability.item_double() < memberProbability.item_double() - 0.05,
                    pooledProbability.item_double() + " vs " + memberProbability.item_double());
        }
        assertSame(CHANNELS, Segmenter.ensemble(List.of(CHANNELS)), "one member is itself");

        // a per-pixel segmenter reads a shifted image the same once its logits are moved back; a jittered one too
        try (InferenceMode ignored = new InferenceMode()) {
            Tensor images = new Rng(5).randn(1, 3, SIZE, SIZE);
            assertTrue(torch.allclose(CHANNELS.logits(images), CHANNELS.shifted(2, -1).logits(images), 1e-6, 1e-6, false));
            assertTrue(torch.allclose(torch.log_softmax(CHANNELS.logits(images), 1), CHANNELS.jittered(1).logits(images), 1e-5, 1e-6, false));
            // one that reads 2x2 blocks (as a strided network does) sees other blocks after a 1-pixel shift
            Segmenter blocks = x -> torch.upsample_nearest2d(torch.avg_pool2d(x, new long[] {2, 2}), new long[] {SIZE, SIZE});
            assertFalse(torch.allclose(blocks.logits(images), blocks.shifted(1, 0).logits(images), 1e-3, 1e-3, false));
            assertTrue(torch.allclose(blocks.logits(images), blocks.shifted(2, 0).logits(images), 1e-5, 1e-6, false), "a whole block: the same");
        }
        assertThrows(IllegalArgumentException.class, () -> CHANNELS.jittered(9));
        assertThrows(IllegalArgumentException.class, () -> Segmenter.ensemble(List.of()));
    }

    @Test void badInputsAreClearErrors() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> new SegmentationLoss(sd, CHANNELS, new int[10], SIZE, SIZE, 0));
        assertTrue(e.getMessage().contains("10 values for a 16x16"), e.getMessage());
        int[] none = new int[SIZE * SIZE];
        java.util.Arrays.fill(none, SegmentationLoss.IGNORED);
        e = assertThrows(IllegalArgumentException.class, () -> new SegmentationLoss(sd, CHANNELS, none, SIZE, SIZE, 0));
        assertTrue(e.getMessage().contains("nothing to guide toward"), e.getMessage());
        none[3] = -2;
        e = assertThrows(IllegalArgumentException.class, () -> new SegmentationLoss(sd, CHANNELS, none, SIZE, SIZE, 0));
        assertTrue(e.getMessage().contains("-2"), e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> new GuidanceSettings(0.5, 0.5, 3, 0.1, 0));
        assertThrows(IllegalArgumentException.class, () -> new GuidanceSettings(-0.1, 1, 3, 0.1, 0));
        assertThrows(IllegalArgumentException.class, () -> new GuidanceSettings(0, 1, 0, 0.1, 0));
        assertThrows(IllegalArgumentException.class, () -> new GuidanceSettings(0, 1, 3, Double.NaN, 0));
        assertThrows(IllegalArgumentException.class, () -> new GuidanceSettings(0, 1, 3, 0.1, 1.5));
        assertThrows(IllegalArgumentException.class, () -> new SegmentationLoss(sd, CHANNELS, halves(), SIZE, SIZE, -0.5));
        try (InferenceMode ignored = new InferenceMode()) {
            SegmentationLoss wrongSize = new SegmentationLoss(sd, CHANNELS, new int[8 * 8], 8, 8, 0);
            e = assertThrows(IllegalArgumentException.class, () -> wrongSize.value(latent(1)));
            assertTrue(e.getMessage().contains("decodes to 16x16"), e.getMessage());
        }
    }
}
