package org.ldm4j.methods.blended;

import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.InferenceMode;
import org.bytedeco.pytorch.Scalar;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.ldm4j.nn.Engine;
import org.ldm4j.nn.Param;
import org.ldm4j.nn.Rng;
import org.ldm4j.nn.Scopes;
import org.ldm4j.pipeline.ClassifierFreeGuidance;
import org.ldm4j.pipeline.GenerationRequest;
import org.ldm4j.pipeline.PromptConditioning;
import org.ldm4j.pipeline.StableDiffusion;
import org.ldm4j.pipeline.Step;
import org.ldm4j.pipeline.StepHook;
import org.ldm4j.pipeline.TinyStableDiffusion;
import org.ldm4j.pipeline.Txt2Img;
import org.ldm4j.schedulers.Scheduler;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.*;

/** Blended Latent Diffusion on the tiny random SD (16x16 images, 8x8 latents): the invariants the paper states. */
class BlendedLatentDiffusionTest {
    @TempDir static Path dir;
    static StableDiffusion sd;
    static Tensor image, mask, outside;   // (1,3,16,16), (1,1,16,16) edit square rows/cols 4..11, 1 - mask

    @BeforeAll static void load() throws Exception {
        Engine.threads(1);
        torch.set_num_threads(1);
        sd = TinyStableDiffusion.load(dir.resolve("tiny"), 0);
        image = Scopes.keep(new Rng(42).rand(1, 3, 16, 16).mul(new Scalar(2)).sub(new Scalar(1)));
        mask = Scopes.keep(torch.zeros(1, 1, 16, 16));
        mask.narrow(2, 4, 8).narrow(3, 4, 8).fill_(new Scalar(1.0));
        outside = Scopes.keep(mask.neg().add(new Scalar(1.0)));
    }

    static GenerationRequest request(long seed, int count, int steps) {
        return new GenerationRequest("edit", "tiny", "a red boat", "", 16, 16, steps, 5.0, "ddim", seed, count, 0, 0, null, null);
    }

    static BlendSettings plain() {   // the blend alone: no repair, no pastes, no mask attention
        return BlendSettings.recommended().withRepair(BackgroundRepair.Settings.off()).withPixelBlend(false).withFinalLatentPaste(false)
                .withMaskAttention(0);
    }

    static boolean sameOutside(Tensor a, Tensor b, Tensor m) {
        Tensor out = m.neg().add(new Scalar(1.0));
        return torch.equal(a.mul(out), b.mul(out));
    }

    @Test void theOutsideIsTheNoisedSourceAtEveryStep() {
        for (BlendSettings.BlendPoint point : BlendSettings.BlendPoint.values()) {
            BlendSettings s = plain().withBlendPoint(point).withBlendStart(0.25);
            List<int[]> seen = new ArrayList<>();   // {step index, noise index}
            List<Tensor> blended = new ArrayList<>();
            Scheduler reference = sd.scheduler("ddim", 0).create(8, new Rng(0));   // addNoise is deterministic
            try (InferenceMode im = new InferenceMode()) {
                BlendedLatentDiffusion bld = new BlendedLatentDiffusion(sd, s);
                Tensor zSrc = bld.encodeMean(image);
                bld = bld.observedBy(b -> {
                    assertTrue(sameOutside(b.result(), b.background(), b.mask()), point + ": outside != background at " + b.step());
                    Tensor expected = reference.addNoise(zSrc, b.noise(), b.noiseIndex());
                    assertTrue(torch.equal(expected, b.background()), point + ": background is not noise(z_src, t)");
                    seen.add(new int[]{b.step().index(), b.noiseIndex()});
                    blended.add(Scopes.keep(b.result()));
                });
                // a user hook after the blend sees exactly the blended latents (after the step) or feeds them (before)
                List<Tensor> afterHook = new ArrayList<>();
                StepHook recorder = new StepHook() {
                    @Override public Tensor afterStep(Tensor z, Tensor x0, Step st) { afterHook.add(Scopes.keep(z)); return z; }
                };
                bld.edit(request(1, 1, 8), image, mask, new BackgroundPsnr(), List.of(recorder), null);
                int expectedBlends = point == BlendSettings.BlendPoint.AFTER_STEP_NEXT_T ? 5 : 6;   // steps 2..7
                assertEquals(expectedBlends, seen.size(), point.toString());
                for (int[] si : seen) {
                    int offset = point == BlendSettings.BlendPoint.AFTER_STEP_NEXT_T ? 1 : 0;
                    assertEquals(si[0] + offset, si[1], point + ": noise level of step " + si[0]);
                    assertTrue(si[0] >= 2, "the run starts at int(8 * 0.25) = 2");
                }
                if (point == BlendSettings.BlendPoint.AFTER_STEP) {
                    for (int i = 0; i < blended.size(); i++) assertTrue(torch.equal(blended.get(i), afterHook.get(i)));
                }
            }
        }
    }

    /**
     * Segmentation guidance toward a class inside the mask: the blend still leaves the outside exactly the noised source
     * at every step, and the edit draws more of the class inside than the same edit unguided (the tiny model's
     * "segmenter": the strongest colour channel, here red).
     */
    @Test void guidanceTowardAClassInsideTheMaskKeepsTheBlendsOutside() {
        org.ldm4j.methods.guidance.Segmenter channels = x -> x.mul(new Scalar(4.0));
        BlendedLatentDiffusion.Guide red = new BlendedLatentDiffusion.Guide(channels, 0,
                new org.ldm4j.methods.guidance.GuidanceSettings(0, 1, 5, 0.2, 0));
        try (InferenceMode im = new InferenceMode()) {
            int[] blends = {0};
            BlendedLatentDiffusion guided = new BlendedLatentDiffusion(sd, plain()).guidedToward(red).observedBy(b -> {
                assertTrue(sameOutside(b.result(), b.background(), b.mask()), "outside != background at " + b.step());
                blends[0]++;
            });
            EditResult withGuide = guided.edit(request(1, 1, 8), image, mask, new BackgroundPsnr(), List.of(), null);
            assertTrue(blends[0] > 0);
            EditResult without = new BlendedLatentDiffusion(sd, plain()).edit(request(1, 1, 8), image, mask, new BackgroundPsnr(), List.of(), null);
            double redWith = redInside(withGuide.best()), redWithout = redInside(without.best());
            assertTrue(redWith > redWithout + 0.25, "red inside the mask: guided " + redWith + ", unguided " + redWithout);
        }
        assertEquals(2, BlendedLatentDiffusion.wantedInside(mask, 2)[4 * 16 + 4]);
        assertEquals(org.ldm4j.methods.guidance.SegmentationLoss.IGNORED, BlendedLatentDiffusion.wantedInside(mask, 2)[0]);
        assertThrows(IllegalArgumentException.class, () -> new BlendedLatentDiffusion.Guide(channels, -1, red.settings()));
    }

    /** Fraction of the mask's pixels whose red channel is the strongest. */
    static double redInside(Tensor img) {
        Tensor isRed = torch.argmax(img, new org.bytedeco.pytorch.LongOptional(1), true).eq(new Scalar(0)).to(torch.ScalarType.Float);
        return isRed.mul(mask).sum().item_double() / mask.sum().item_double();
    }

    /**
     * Mask attention's pooling on a coarser layer: one latent cell covers a quarter of a 2x2-pooled cell, so AREA gives
     * it weight 0.25 there and MAX the full 1; both leave cells the mask does not touch at 0.
     */
    @Test void maxPoolingKeepsASmallMasksFullWeightOnCoarserLayers() {
        try (InferenceMode im = new InferenceMode()) {
            Tensor one = torch.zeros(1, 1, 8, 8);
            one.narrow(2, 3, 1).narrow(3, 5, 1).fill_(new Scalar(1.0));   // cell (3, 5) -> (1, 2) on 4x4
            for (var pooling : org.ldm4j.methods.gradop.RegionSemantics.Pooling.values()) {
                float[] w = org.ldm4j.nn.Tensors.toFloats(org.ldm4j.methods.gradop.RegionSemantics.ofMasks(one, new int[][]{{1}}, 2.0, 77, pooling)
                        .weightsAt(4, 4));   // (16, 77)
                for (int cell = 0; cell < 16; cell++) {
                    float expected = cell == 1 * 4 + 2 ? (pooling == org.ldm4j.methods.gradop.RegionSemantics.Pooling.MAX ? 1f : 0.25f) : 0f;
                    assertEquals(expected, w[cell * 77 + 1], 1e-6, pooling + " cell " + cell);
                }
                float[] full = org.ldm4j.nn.Tensors.toFloats(org.ldm4j.methods.gradop.RegionSemantics.ofMasks(one, new int[][]{{1}}, 2.0, 77, pooling)
                        .weightsAt(8, 8));
                assertEquals(1f, full[(3 * 8 + 5) * 77 + 1], 1e-6, pooling + ": the mask's own resolution is the mask");
            }
        }
    }

    /**
     * RePaint's resampling: each of the first half of the steps runs 3 times, each extra run blending the background
     * at the level below (to noise back up from) and at the step's own level (before the model), every blend keeping
     * the noised source outside; the run stays deterministic per seed and differs from the run without it.
     */
    @Test void resamplingRerunsTheEarlyStepsNextToTheTrueBackground() {
        try (InferenceMode im = new InferenceMode()) {
            List<int[]> seen = new ArrayList<>();   // {step index, noise index}
            BlendedLatentDiffusion bld = new BlendedLatentDiffusion(sd, plain().withResampling(new Resampling.Settings(3, 0.5)))
                    .observedBy(b -> {
                        assertTrue(sameOutside(b.result(), b.background(), b.mask()), "outside != background at " + b.step());
                        seen.add(new int[]{b.step().index(), b.noiseIndex()});
                    });
            Tensor once = bld.edit(request(3, 1, 8), image, mask, new BackgroundPsnr(), List.of(), null).samples().get(0).latents();
            // 8 steps blended once before the model; steps 0..3 (index < 0.5 * 8) twice more, each time at i + 1 and at i
            assertEquals(8 + 4 * 2 * 2, seen.size());
            for (int step = 0; step < 8; step++) {
                int s0 = step;
                long atOwn = seen.stream().filter(x -> x[0] == s0 && x[1] == s0).count();
                long below = seen.stream().filter(x -> x[0] == s0 && x[1] == s0 + 1).count();
                assertEquals(step < 4 ? 3 : 1, atOwn, "blends at the own level of step " + step);
                assertEquals(step < 4 ? 2 : 0, below, "blends at the level below step " + step);
            }
            Tensor again = new BlendedLatentDiffusion(sd, plain().withResampling(new Resampling.Settings(3, 0.5)))
                    .edit(request(3, 1, 8), image, mask, new BackgroundPsnr(), List.of(), null).samples().get(0).latents();
            Tensor without = new BlendedLatentDiffusion(sd, plain())
                    .edit(request(3, 1, 8), image, mask, new BackgroundPsnr(), List.of(), null).samples().get(0).latents();
            assertTrue(torch.equal(once, again), "resampling draws its noise from the run's generator: same seed, same edit");
            assertFalse(torch.equal(once, without), "resampling changes the edit");
        }
    }

    @Test void resamplingNeedsDdimAndSaneSettings() {
        assertThrows(IllegalArgumentException.class, () -> new Resampling.Settings(0, 0.5));
        assertThrows(IllegalArgumentException.class, () -> new Resampling.Settings(2, 1.5));
        assertFalse(new Resampling.Settings(1, 0.5).enabled());
        assertFalse(new Resampling.Settings(3, 0.0).enabled());
        GenerationRequest euler = new GenerationRequest("edit", "tiny", "a red boat", "", 16, 16, 4, 5.0, "euler", 1, 1, 0, 0, null, null);
        try (InferenceMode im = new InferenceMode()) {
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () ->
                    new BlendedLatentDiffusion(sd, plain().withResampling(new Resampling.Settings(2, 0.5)))
                            .edit(euler, image, mask, new BackgroundPsnr(), List.of(), null));
            assertTrue(e.getMessage().contains("DDIM"), e.getMessage());
        }
    }

    @Test void theFinalLatentPasteLeavesTheCleanSourceOutside() {
        try (InferenceMode im = new InferenceMode()) {
            BlendedLatentDiffusion bld = new BlendedLatentDiffusion(sd, plain().withFinalLatentPaste(true));
            EditResult r = bld.edit(request(2, 1, 4), image, mask, new BackgroundPsnr(), List.of(), null);
            Tensor mLat = Masks.toLatent(mask, 2, Masks.Downsampling.NEAREST_CENTRE, null);
            assertTrue(sameOutside(r.samples().get(0).latents(), bld.encodeMean(image), mLat));
            EditResult without = new BlendedLatentDiffusion(sd, plain()).edit(request(2, 1, 4), image, mask, new BackgroundPsnr(), List.of(), null);
            assertFalse(sameOutside(without.samples().get(0).latents(), bld.encodeMean(image), mLat), "the official paths drift");
        }
    }

    /**
     * The optional mask attention: the prompt's tokens weigh 1 in the mask's cells and 0 outside, the bias changes the
     * inside of the edit, and the clean source is still pasted outside.
     */
    @Test void maskAttentionBiasesThePromptInsideTheMaskOnly() {
        try (InferenceMode im = new InferenceMode()) {
            Tensor mLat = Masks.toLatent(mask, 2, Masks.Downsampling.NEAREST_CENTRE, null);   // (1,1,8,8), cells 2..5
            org.ldm4j.pipeline.PromptConditioning text = sd.encodePrompt("a red boat", "", 0);
            assertEquals(3, text.encoding().tokenCount());
            org.ldm4j.methods.gradop.RegionSemantics region = org.ldm4j.methods.gradop.RegionSemantics.ofMasks(mLat,
                    new int[][]{{1, 2, 3}}, 4.0, 77, org.ldm4j.methods.gradop.RegionSemantics.Pooling.AREA);
            float[] w = org.ldm4j.nn.Tensors.toFloats(region.weightsAt(8, 8));   // (64, 77)
            int[] tokens = region.tokens(0);
            assertArrayEquals(new int[]{1, 2, 3}, tokens);
            for (int cell = 0; cell < 64; cell++) {
                boolean inside = cell / 8 >= 2 && cell / 8 <= 5 && cell % 8 >= 2 && cell % 8 <= 5;
                for (int j = 0; j < 77; j++) {
                    boolean prompt = j >= 1 && j <= 3;
                    assertEquals(inside && prompt ? 1f : 0f, w[cell * 77 + j], 1e-6, "cell " + cell + " token " + j);
                }
            }
            BlendSettings on = plain().withFinalLatentPaste(true).withMaskAttention(4.0);
            BlendedLatentDiffusion bld = new BlendedLatentDiffusion(sd, on);
            Tensor biased = bld.edit(request(3, 1, 4), image, mask, new BackgroundPsnr(), List.of(), null).samples().get(0).latents();
            Tensor plainRun = new BlendedLatentDiffusion(sd, plain().withFinalLatentPaste(true)).edit(request(3, 1, 4), image, mask,
                    new BackgroundPsnr(), List.of(), null).samples().get(0).latents();
            assertTrue(sameOutside(biased, bld.encodeMean(image), mLat), "the clean source outside");
            assertFalse(torch.equal(biased.mul(mLat), plainRun.mul(mLat)), "the bias changes the inside");
            Tensor zero = new BlendedLatentDiffusion(sd, plain().withFinalLatentPaste(true).withMaskAttention(0)).edit(request(3, 1, 4),
                    image, mask, new BackgroundPsnr(), List.of(), null).samples().get(0).latents();
            assertTrue(torch.equal(zero, plainRun), "strength 0 is the plain edit");
            assertThrows(IllegalArgumentException.class, () -> plain().withMaskAttention(-1));
            assertThrows(IllegalArgumentException.class, () -> plain().withMaskAttention());

            // weights cycled over the samples: sample 0 at w' 0 is the plain run's, sample 1 at 4 the biased run's
            List<EditResult.Sample> mixed = new BlendedLatentDiffusion(sd, plain().withFinalLatentPaste(true).withMaskAttention(0, 4))
                    .edit(request(3, 2, 4), image, mask, new BackgroundPsnr(), List.of(), null).samples();
            List<EditResult.Sample> biasedPair = new BlendedLatentDiffusion(sd, on).edit(request(3, 2, 4), image, mask,
                    new BackgroundPsnr(), List.of(), null).samples();
            assertTrue(torch.equal(mixed.get(0).latents(), plainRun), "sample 0: w' 0");
            assertTrue(torch.equal(mixed.get(1).latents(), biasedPair.get(1).latents()), "sample 1: w' 4");
            assertFalse(torch.equal(mixed.get(1).latents(), biasedPair.get(0).latents()), "sample 1 has its own seed");
        }
    }

    /**
     * A small mask with zoom: the edit runs on the enlarged box, each sample comes back at the input's size with the
     * input bit for bit outside the box; a mask too large to zoom edits exactly as without zoom.
     */
    @Test void smallMasksAreEditedInAnEnlargedBoxAndPutBack() {
        try (InferenceMode im = new InferenceMode()) {
            Tensor small = torch.zeros(1, 1, 16, 16);
            small.narrow(2, 6, 2).narrow(3, 6, 2).fill_(new Scalar(1.0));   // 2x2 pixels: one latent cell at f = 2
            MaskZoom zoom = MaskZoom.around(small, 3);
            assertEquals(new MaskZoom(4, 4, 6, 6, 16, 16), zoom);
            Tensor box = torch.zeros(1, 1, 16, 16);
            box.narrow(2, 4, 6).narrow(3, 4, 6).fill_(new Scalar(1.0));
            EditResult r = new BlendedLatentDiffusion(sd, plain().withFinalLatentPaste(true).withZoom(3))
                    .edit(request(3, 2, 4), image, small, new BackgroundPsnr(), List.of(), null);
            for (EditResult.Sample s : r.samples()) {
                assertArrayEquals(new long[]{1, 3, 16, 16}, s.image().sizes().vec().get());
                assertArrayEquals(new long[]{1, 4, 8, 8}, s.latents().sizes().vec().get());   // the enlarged box's latents
                assertTrue(sameOutside(s.image(), image, box), "the input outside the box");
                assertTrue(s.image().sub(image).mul(small).abs().max().item_double() > 0.05, "the mask is edited");
            }
            Tensor plainRun = new BlendedLatentDiffusion(sd, plain().withFinalLatentPaste(true)).edit(request(3, 1, 4), image, mask,
                    new BackgroundPsnr(), List.of(), null).samples().get(0).latents();
            Tensor zoomOn = new BlendedLatentDiffusion(sd, plain().withFinalLatentPaste(true).withZoom(3)).edit(request(3, 1, 4), image, mask,
                    new BackgroundPsnr(), List.of(), null).samples().get(0).latents();
            assertTrue(torch.equal(zoomOn, plainRun), "an 8x8 mask in 16x16 is too large to zoom");
        }
    }

    /** The SD2 script's loop, written out line by line, against the hook-based run: bit for bit. */
    @Test void officialPresetIsTheSd2ScriptLoop() {
        int steps = 8;
        long seed = 3;
        GenerationRequest r = new GenerationRequest("edit", "tiny", "a red boat", "", 16, 16, steps, 7.5, null, seed, 1, 0, 0, null, null);
        try (InferenceMode im = new InferenceMode()) {
            BlendedLatentDiffusion bld = new BlendedLatentDiffusion(sd, BlendSettings.official());
            PromptConditioning text = sd.encodePrompt(r.prompt(), "", 0);
            Tensor sourceLatents = bld.encodeMean(image);   // vae.encode(image).latent_dist.mean * scaling
            Tensor latentMask = Masks.toLatent(mask, 2, Masks.Downsampling.NEAREST_CENTRE, 0.5);
            Tensor ours = bld.sampleLatents(r, 0, text, image, sourceLatents, latentMask, List.of(), null);

            Rng generator = new Rng(seed);
            Scheduler scheduler = BlendedLatentDiffusion.officialScheduler().create(steps, generator);
            assertEquals(875.0, scheduler.timesteps()[0]);      // leading, steps_offset 0: 875, 750, ..., 0
            assertEquals(0.0, scheduler.timesteps()[steps - 1]);
            Tensor latents = generator.randn(1, 4, 8, 8);
            ClassifierFreeGuidance unet = new ClassifierFreeGuidance(sd.unet, text, 7.5, null);
            for (int i = (int) (steps * 0.25); i < steps; i++) {
                try (PointerScope scope = new PointerScope()) {
                    Tensor noisePred = unet.predict(latents, new Step(i, scheduler.timesteps()[i], steps, 2));
                    Tensor next = scheduler.step(noisePred, i, latents).prevSample();
                    Tensor noiseSourceLatents = scheduler.addNoise(sourceLatents, generator.randnLike(next), i);
                    latents = Scopes.keep(next.mul(latentMask).add(noiseSourceLatents.mul(latentMask.neg().add(new Scalar(1)))));
                }
            }
            assertTrue(torch.equal(latents, ours), "max diff " + latents.sub(ours).abs().max().item_double());
        }
        assertEquals(740.0, BlendedLatentDiffusion.officialScheduler().create(50, new Rng(0)).timesteps()[BlendSettings.official().firstStep(50)]);
    }

    @Test void sameSeedSameEditOtherSeedOtherEdit() {
        try (InferenceMode im = new InferenceMode()) {
            BlendedLatentDiffusion bld = new BlendedLatentDiffusion(sd, plain());
            EditResult a = bld.edit(request(7, 2, 4), image, mask, new BackgroundPsnr(), List.of(), null);
            EditResult b = bld.edit(request(7, 2, 4), image, mask, new BackgroundPsnr(), List.of(), null);
            EditResult c = bld.edit(request(8, 1, 4), image, mask, new BackgroundPsnr(), List.of(), null);
            assertEquals(List.of(7L, 8L), a.samples().stream().map(EditResult.Sample::seed).toList());
            for (int k = 0; k < 2; k++) assertTrue(torch.equal(a.samples().get(k).image(), b.samples().get(k).image()));
            assertFalse(torch.equal(a.samples().get(0).image(), a.samples().get(1).image()));
            // sample k of a batch does not depend on the batch: seed 8 alone equals the second of (7, 8)
            assertTrue(torch.equal(a.samples().get(1).image(), c.samples().get(0).image()));
        }
    }

    @Test void repairLowersTheOutsideErrorAndLeavesTheModelsDecoderUntouched() {
        Map<String, Tensor> before = new LinkedHashMap<>();
        sd.vae.decoder.namedParameters().forEach((n, p) -> before.put(n, Scopes.keep(p.t().clone())));
        try (InferenceMode im = new InferenceMode()) {   // as the CLI calls it: repair must switch gradients back on
            BlendSettings s = plain().withRepair(new BackgroundRepair.Settings(6, 1e-3, 100.0));
            EditResult r = new BlendedLatentDiffusion(sd, s).edit(request(5, 1, 4), image, mask, new BackgroundPsnr(), List.of(), null);
            BackgroundRepair.Result repair = r.repair();
            assertEquals(6, repair.losses().size());
            assertTrue(repair.losses().get(5) < repair.losses().get(0), "loss " + repair.losses());
            double psnrBefore = BackgroundPsnr.psnrOutside(r.samples().get(0).image(), image, mask);
            double psnrAfter = BackgroundPsnr.psnrOutside(r.best(), image, mask);
            assertTrue(psnrAfter > psnrBefore, "outside PSNR " + psnrBefore + " -> " + psnrAfter);
            assertTrue(repair.millis() >= 0);
        }
        Map<String, Param> after = sd.vae.decoder.namedParameters();
        assertEquals(before.keySet(), after.keySet());
        before.forEach((n, t) -> assertTrue(torch.equal(t, after.get(n).t()), "decoder weight changed: " + n));
        assertFalse(after.values().iterator().next().t().requires_grad());
    }

    /**
     * The repair reports each Adam step to the edit's repair progress (1..steps, in order) and stops at the edit's
     * cancellation like the denoising steps do, after the samples are drawn.
     */
    @Test void theRepairReportsItsStepsAndStopsWhenCancelled() {
        try (InferenceMode im = new InferenceMode()) {
            BlendSettings s = plain().withRepair(new BackgroundRepair.Settings(5, 1e-3, 100.0));
            List<Integer> reported = new ArrayList<>();
            new BlendedLatentDiffusion(sd, s).repairProgress(reported::add).edit(request(5, 1, 4), image, mask, new BackgroundPsnr(), List.of(), null);
            assertEquals(List.of(1, 2, 3, 4, 5), reported);

            reported.clear();
            int[] denoisingSteps = {0};
            StepHook count = new StepHook() {
                @Override public Tensor afterStep(Tensor latents, Tensor x0, Step step) { denoisingSteps[0]++; return latents; }
            };
            // cancelled once the repair has run two steps: the denoising loop (4 steps) ran to its end before
            StepHook.Cancelled c = assertThrows(StepHook.Cancelled.class, () -> new BlendedLatentDiffusion(sd, s).repairProgress(reported::add)
                    .edit(request(5, 1, 4), image, mask, new BackgroundPsnr(), List.of(count), () -> reported.size() == 2));
            assertEquals(List.of(1, 2), reported);
            assertEquals(4, denoisingSteps[0]);
            assertTrue(c.getMessage().contains("repair"), c.getMessage());
        }
    }

    /**
     * REGION averaging: each term a mean over its own region. Before the first step the decoder is the model's, so the
     * edit's term is zero and the loss is the background's alone: its region mean is the image mean times
     * pixels / background pixels (256 / 192 here). And it keeps the edit: after the same steps the inside stays closer
     * to the unrepaired decode than under the official per-pixel weight of 100.
     */
    @Test void regionAveragingWeighsEachRegionByItsOwnMean() {
        try (InferenceMode im = new InferenceMode()) {
            long side = 16 / sd.vaeScaleFactor();
            Tensor z0 = Scopes.keep(new Rng(3).randn(1, sd.latentChannels(), side, side));
            BackgroundRepair.Settings image1 = new BackgroundRepair.Settings(6, 1e-3, 1.0);
            BackgroundRepair.Result byImage = BackgroundRepair.run(sd.vae, z0, image, mask, image1);
            BackgroundRepair.Result byRegion = BackgroundRepair.run(sd.vae, z0, image, mask, image1.withAveraging(BackgroundRepair.Averaging.REGION));
            assertEquals(byImage.losses().get(0) * 256 / 192, byRegion.losses().get(0), 1e-6 * byRegion.losses().get(0));
            assertTrue(byRegion.losses().get(5) < byRegion.losses().get(0), "loss " + byRegion.losses());

            Tensor unrepaired = sd.vae.decode(z0);
            BackgroundRepair.Result official = BackgroundRepair.run(sd.vae, z0, image, mask, image1.withBackgroundWeight(100));
            double insideOfficial = official.image().sub(unrepaired).mul(mask).pow(new Scalar(2)).sum().item_double();
            double insideRegion = byRegion.image().sub(unrepaired).mul(mask).pow(new Scalar(2)).sum().item_double();
            assertTrue(insideRegion < insideOfficial, "inside drift: region " + insideRegion + ", official " + insideOfficial);
        }
        assertThrows(IllegalArgumentException.class, () -> BackgroundRepair.Averaging.parse("pixels"));
        assertEquals(BackgroundRepair.Averaging.REGION, BackgroundRepair.Averaging.parse(" Region "));
    }

    @Test void thePixelBlendMakesTheOutsideExactlyTheInput() {
        try (InferenceMode im = new InferenceMode()) {
            EditResult r = new BlendedLatentDiffusion(sd, plain().withPixelBlend(true)).edit(request(4, 1, 4), image, mask,
                    new BackgroundPsnr(), List.of(), null);
            assertTrue(sameOutside(r.best(), image, mask));
            assertTrue(torch.equal(r.best().mul(mask), r.samples().get(0).image().mul(mask)), "the inside is the edit");
            assertEquals(Double.POSITIVE_INFINITY, BackgroundPsnr.psnrOutside(r.best(), image, mask));
        }
    }

    @Test void samplesAreRankedByTheScorerBestFirst() {
        EditScorer byPixel = new EditScorer() {   // any deterministic score of the image: its top-left pixel
            @Override public double score(Tensor edited, Tensor src, Tensor m, String p) {
                return edited.select(1, 0).select(1, 8).select(1, 8).item_double();
            }
        };
        try (InferenceMode im = new InferenceMode()) {
            EditResult r = new BlendedLatentDiffusion(sd, plain()).edit(request(10, 4, 3), image, mask, byPixel, List.of(), null);
            List<Double> scores = r.ranked().stream().map(EditResult.Sample::score).toList();
            for (int i = 1; i < scores.size(); i++) assertTrue(scores.get(i - 1) >= scores.get(i), scores.toString());
            assertEquals(r.samples().get(r.ranking().get(0)), r.bestSample());
            assertEquals(4, r.ranking().stream().distinct().count());
        }
        List<EditResult.Sample> fixed = new ArrayList<>();
        double[] scores = {-4, -1, 0, -1, Double.NaN};
        for (int k = 0; k < scores.length; k++) fixed.add(new EditResult.Sample(k, null, null, scores[k]));
        assertEquals(List.of(2, 1, 3, 0, 4), BlendedLatentDiffusion.rank(fixed));   // ties keep seed order, NaN last
    }

    @Test void backgroundPsnrIsTheOutsidePsnrOnTheUnitScale() {
        Tensor shifted = image.add(mask.neg().add(new Scalar(1)).mul(new Scalar(0.2)));   // +0.1 on [0, 1] outside
        Tensor clamped = shifted.clamp(new org.bytedeco.pytorch.ScalarOptional(new Scalar(-1.0)), new org.bytedeco.pytorch.ScalarOptional(new Scalar(1.0)));
        Tensor d = clamped.sub(image).mul(new Scalar(0.5));
        double mse = d.mul(d).sum().item_double() / (3 * (256 - 64));
        assertEquals(10 * Math.log10(1 / mse), BackgroundPsnr.psnrOutside(shifted, image, mask), 1e-4);
        Tensor flat = torch.zeros(1, 3, 16, 16);
        assertEquals(20.0, BackgroundPsnr.psnrOutside(flat.add(new Scalar(0.2)), flat, mask), 1e-4);   // mse 0.01
        assertEquals(Double.POSITIVE_INFINITY, BackgroundPsnr.psnrOutside(flat, flat, mask));
        assertEquals(Double.POSITIVE_INFINITY, BackgroundPsnr.psnrOutside(flat.add(new Scalar(0.5)), flat, torch.ones(1, 1, 16, 16)));
    }

    @Test void aFullMaskIsPlainText2ImgWithAWarning() {
        try (InferenceMode im = new InferenceMode()) {
            EditResult r = new BlendedLatentDiffusion(sd, BlendSettings.recommended()).edit(request(6, 1, 4), image,
                    torch.ones(1, 1, 16, 16), new BackgroundPsnr(), List.of(), null);
            Tensor t2i = Txt2Img.run(sd, request(6, 1, 4), List.of(), null).get(0);
            assertTrue(torch.equal(t2i, r.best()));
            assertTrue(r.warnings().get(0).contains("whole image"), r.warnings().toString());
            assertNull(r.repair());
        }
    }

    @Test void badInputsFailClearly() {
        BlendedLatentDiffusion bld = new BlendedLatentDiffusion(sd, plain());
        try (InferenceMode im = new InferenceMode()) {
            IllegalArgumentException empty = assertThrows(IllegalArgumentException.class,
                    () -> bld.edit(request(0, 1, 2), image, torch.zeros(1, 1, 16, 16), new BackgroundPsnr(), List.of(), null));
            assertTrue(empty.getMessage().contains("empty"), empty.getMessage());
            IllegalArgumentException size = assertThrows(IllegalArgumentException.class,
                    () -> bld.edit(request(0, 1, 2), image, torch.ones(1, 1, 8, 8), new BackgroundPsnr(), List.of(), null));
            assertTrue(size.getMessage().contains("mask is 8x8 but the image is 16x16"), size.getMessage());
            Tensor line = torch.zeros(1, 1, 16, 16);
            line.select(2, 4).fill_(new Scalar(1.0));   // row 4: centre sampling reads odd rows only
            IllegalArgumentException thin = assertThrows(IllegalArgumentException.class,
                    () -> bld.edit(request(0, 1, 2), image, line, new BackgroundPsnr(), List.of(), null));
            assertTrue(thin.getMessage().contains("vanishes at latent resolution"), thin.getMessage());
            EditResult kept = new BlendedLatentDiffusion(sd, plain().withDownsampling(Masks.Downsampling.MAX))
                    .edit(request(0, 1, 2), image, line, new BackgroundPsnr(), List.of(), null);
            assertEquals(1, kept.samples().size());
            assertThrows(IllegalArgumentException.class, () -> plain().withBlendStart(1.0));
            assertThrows(IllegalArgumentException.class, () -> plain().withShrinking(0, 5));
            assertThrows(IllegalArgumentException.class, () -> new BackgroundRepair.Settings(-1, 1e-4, 100));
        }
    }

    @Test void progressiveShrinkingBlendsWithTheDilatedMaskEarly() {
        List<Double> coverage = new ArrayList<>();
        try (InferenceMode im = new InferenceMode()) {
            BlendedLatentDiffusion bld = new BlendedLatentDiffusion(sd, plain().withShrinking(2, 4))
                    .observedBy(b -> coverage.add(b.mask().sum().item_double()));
            bld.edit(request(0, 1, 6), image, mask, new BackgroundPsnr(), List.of(), null);
        }
        // true latent mask: 4x4 = 16 cells; dilated by 5x5: 8x8 = 64, by 3x3: 6x6 = 36; true mask from step 4
        assertEquals(List.of(64.0, 64.0, 36.0, 36.0, 16.0, 16.0), coverage);
    }
}
