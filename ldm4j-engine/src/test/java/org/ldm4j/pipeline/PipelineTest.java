package org.ldm4j.pipeline;

import org.bytedeco.pytorch.InferenceMode;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch.ScalarType;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.ldm4j.nn.Dtypes;
import org.ldm4j.nn.Engine;
import org.ldm4j.nn.Rng;
import org.ldm4j.schedulers.Schedulers;
import org.ldm4j.weights.WeightFormatException;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.*;

class PipelineTest {
    @TempDir static Path dir;
    static StableDiffusion sd;

    @BeforeAll static void load() throws Exception {
        Engine.threads(1);
        sd = TinyStableDiffusion.load(dir.resolve("tiny"), 0);
    }

    static GenerationRequest request(String scheduler, long seed, int steps, Double strength) {
        return new GenerationRequest(strength == null ? "txt2img" : "img2img", "tiny", "a red house beside a tree", "",
                16, 16, steps, 5.0, scheduler, seed, 1, 0, 0, strength, null);
    }

    static double maxAbsDiff(Tensor a, Tensor b) { return a.sub(b).abs().max().item_double(); }

    @Test void loadsTheFolderThroughTheStrictLoader() {
        assertEquals(2, sd.vaeScaleFactor());
        assertEquals(16, sd.defaultSize());
        assertEquals("PNDMScheduler", sd.defaultScheduler().className());
    }

    @Test void sameSeedSameImageOtherSeedOtherImage() {
        try (InferenceMode im = new InferenceMode()) {
            Tensor a = Txt2Img.run(sd, request("ddim", 7, 4, null), List.of(), null).get(0);
            Tensor b = Txt2Img.run(sd, request("ddim", 7, 4, null), List.of(), null).get(0);
            Tensor c = Txt2Img.run(sd, request("ddim", 8, 4, null), List.of(), null).get(0);
            assertArrayEquals(new long[]{1, 3, 16, 16}, a.sizes().vec().get());
            assertEquals(0.0, maxAbsDiff(a, b));
            assertTrue(maxAbsDiff(a, c) > 1e-3);
        }
    }

    /** Each image keeps its own seed's noise (ancestral noise included), whatever batch it is denoised in. */
    @Test void batchedImagesAreTheOneAtATimeImages() {
        try (InferenceMode im = new InferenceMode()) {
            for (String scheduler : List.of("ddim", "euler-a")) {
                GenerationRequest five = request(scheduler, 11, 4, null).withCount(5);
                List<Tensor> single = Txt2Img.run(sd, five, List.of(), null);
                List<Tensor> batched = Txt2Img.runBatched(sd, five, 2, List.of(), null);   // batches of 2, 2, 1
                assertEquals(5, batched.size());
                for (int k = 0; k < 5; k++) {
                    assertArrayEquals(new long[]{1, 3, 16, 16}, batched.get(k).sizes().vec().get());
                    assertEquals(0.0, maxAbsDiff(single.get(k), batched.get(k)), 1e-4, scheduler + " image " + k);
                }
                assertTrue(maxAbsDiff(batched.get(0), batched.get(1)) > 1e-3, "different seeds, different images");
            }
            var e = assertThrows(IllegalArgumentException.class, () -> Txt2Img.runBatched(sd, request("ddim", 0, 2, null), 0, List.of(), null));
            assertTrue(e.getMessage().contains("batch must be at least 1"), e.getMessage());
        }
    }

    @Test void everySchedulerRunsThroughTheSharedLoop() {
        try (InferenceMode im = new InferenceMode()) {
            for (String s : List.of("ddim", "pndm", "euler", "euler-a", "dpm++2m", "ddpm", "lms")) {
                Tensor img = Txt2Img.run(sd, request(s, 1, 5, null), List.of(), null).get(0);
                assertFalse(Double.isNaN(img.sum().item_double()), s);
            }
        }
    }

    @Test void hooksSeeEveryStepAndPredictedX0() {
        List<Integer> seen = new ArrayList<>();
        StepHook recorder = new StepHook() {
            @Override public Tensor afterStep(Tensor z, Tensor x0, Step s) {
                assertArrayEquals(z.sizes().vec().get(), x0.sizes().vec().get());
                seen.add(s.index());
                return z;
            }
        };
        try (InferenceMode im = new InferenceMode()) {
            Txt2Img.run(sd, request("ddim", 3, 6, null), List.of(recorder), null);
        }
        assertEquals(List.of(0, 1, 2, 3, 4, 5), seen);
    }

    @Test void cancellationStopsBetweenSteps() {
        int[] steps = {0};
        StepHook counter = new StepHook() {
            @Override public Tensor afterStep(Tensor z, Tensor x0, Step s) { steps[0]++; return z; }
        };
        try (InferenceMode im = new InferenceMode()) {
            assertThrows(StepHook.Cancelled.class,
                    () -> Txt2Img.run(sd, request("ddim", 3, 10, null), List.of(counter), () -> steps[0] >= 3));
        }
        assertEquals(3, steps[0]);
    }

    @Test void img2imgAtStrengthZeroIsTheVaeRoundTrip() {
        try (InferenceMode im = new InferenceMode()) {
            Tensor x = new Rng(5).randn(1, 3, 16, 16).tanh();
            Tensor out = Img2Img.run(sd, request("ddim", 11, 10, 0.0), x, List.of(), null).get(0);
            Tensor expected = sd.decodeLatents(sd.encodeImage(x, new Rng(11)));
            assertEquals(0.0, maxAbsDiff(out, expected), 1e-6);
            Tensor changed = Img2Img.run(sd, request("ddim", 11, 10, 0.6), x, List.of(), null).get(0);
            assertTrue(maxAbsDiff(changed, expected) > 1e-3, "strength 0.6 must change the image");
        }
    }

    @Test void infotextNamesTheRequestsSamplerElseTheModelsOwn() {
        assertEquals(Schedulers.fromAlias("euler-a").a1111Label(), sd.infotext(request("euler-a", 3, 7, null)).settings().get("Sampler"));
        org.ldm4j.image.Infotext own = sd.infotext(request(null, 3, 7, null));
        assertEquals(sd.defaultScheduler().a1111Label(), own.settings().get("Sampler"));
        assertEquals("PNDMScheduler", sd.defaultScheduler().className());
        assertEquals(List.of("7", "3", "16x16", sd.name), List.of(own.settings().get("Steps"), own.settings().get("Seed"),
                own.settings().get("Size"), own.settings().get("Model")));
    }

    @Test void badRequestsAreRejectedByName() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () ->
                Txt2Img.run(sd, new GenerationRequest("txt2img", "tiny", "a tree", "", 15, 16, 4, 5, null, 0, 1, 0, 0, null, null),
                        List.of(), null));
        assertTrue(e.getMessage().contains("multiple of 2"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> Txt2Img.run(sd, request("warp-drive", 0, 4, null), List.of(), null));
        assertTrue(e.getMessage().contains("unknown scheduler"), e.getMessage());
    }

    @Test void missingTensorsAreListedByName() throws Exception {
        Path broken = TinyStableDiffusion.write(dir.resolve("broken"), 0);
        // replace the VAE weights with the text encoder's: every name is wrong
        Files.copy(broken.resolve("text_encoder/model.safetensors"), broken.resolve("vae/diffusion_pytorch_model.safetensors"),
                java.nio.file.StandardCopyOption.REPLACE_EXISTING);
        WeightFormatException e = assertThrows(WeightFormatException.class,
                () -> ModelLoader.load(broken.toString(), Dtypes.device("cpu"), ScalarType.Float));
        assertTrue(e.getMessage().contains("missing") && e.getMessage().contains("unexpected")
                && e.getMessage().contains("encoder.conv_in.weight"), e.getMessage());
    }
}
