package org.ldm4j.methods.fgdm;

import org.bytedeco.pytorch.InferenceMode;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.ldm4j.nn.Engine;

import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.atomic.AtomicInteger;

import static org.junit.jupiter.api.Assertions.*;

/** SBPC on the tiny FG-DM of {@link FactorGraphSamplerTest}, with stub scorers. */
class SbpcTest {
    @org.junit.jupiter.api.io.TempDir static java.nio.file.Path dir;
    static FactorGraph graph;

    @BeforeAll static void load() throws Exception {
        Engine.threads(1);
        FactorGraphSamplerTest.load(dir);
        graph = new FactorGraph(FactorGraphSamplerTest.sd, List.of(FactorGraphSamplerTest.graph.factor("seg"),
                Factor.image("image", List.of("seg"), new FactorConditioning.ControlNetOnMaps(FactorGraphSamplerTest.controlNet(21, 3), 1.0,
                        List.of(HintRenderer.segmentation(MapEditsTest.PALETTE, 63))), FactorGraphSamplerTest.SETTINGS)));
    }

    /** Returns the given scores in turn and records the maps it saw. */
    static final class Scripted implements MapScorer {
        final double[] scores;
        final List<ClassMap> seen = new ArrayList<>();

        Scripted(double... scores) { this.scores = scores; }

        @Override public double score(ClassMap map) {
            seen.add(map);
            return scores[seen.size() - 1];
        }
    }

    @Test void picksTheMaxScoreSampleReportsAllScoresAndRunsTheImageFactorOnceOnIt() {
        try (InferenceMode im = new InferenceMode()) {
            Scripted scorer = new Scripted(0.2, 0.9, 0.5, 0.9);
            AtomicInteger imageSteps = new AtomicInteger();
            FactorListener count = new FactorListener() {
                @Override public void stepped(Factor f, org.ldm4j.pipeline.Step s, Tensor z, Tensor x0) { if (f.name().equals("image")) imageSteps.incrementAndGet(); }
            };
            SbpcResult r = Sbpc.run(graph, "seg", MapEditsTest.PALETTE, "a red house", 40, scorer,
                    new SbpcSettings(4, 2, true, null, 63).withBatch(1), count, null);
            assertEquals(List.of(0.2, 0.9, 0.5, 0.9), r.scores());
            assertEquals(1, r.chosen(), "the first of the best");
            assertEquals(41, r.chosenSeed());
            assertEquals(4, r.candidateMillis().size());
            assertEquals(3, imageSteps.get(), "the image factor ran once (3 steps), on the chosen map only");
            assertEquals(8, r.maps().get(0).width(), "candidates at half resolution");
            assertEquals(scorer.seen, r.maps());

            // the chosen map is candidate 1 re-sampled: seed 41, 2 steps, 8x8
            FactorGraph cheap = graph.withSettings("seg", graph.factor("seg").settings().withSteps(2).withSize(8, 8));
            FactorGraphResult again = FactorGraphSampler.run(cheap, FactorGraphRequest.of("a red house", 41, FactorGraphRequest.Mode.SEQUENTIAL)
                    .withSwitchedOff(Set.of("image")), null, null);
            assertTrue(torch.equal(again.latents("seg"), r.result().latents("seg")), "the final run was given the chosen candidate");
            assertEquals(SegmentationMaps.decode(again.decoded("seg"), MapEditsTest.PALETTE, 63), r.maps().get(1));
            assertArrayEquals(new long[]{1, 3, 16, 16}, r.result().decoded("image").sizes().vec().get(), "the image at full size");
        }
    }

    /** A listener counting each factor's denoising steps into {@code steps}. */
    static FactorListener stepCounter(java.util.Map<String, AtomicInteger> steps) {
        return new FactorListener() {
            @Override public void stepped(Factor f, org.ldm4j.pipeline.Step s, Tensor z, Tensor x0) {
                steps.computeIfAbsent(f.name(), k -> new AtomicInteger()).incrementAndGet();
            }
        };
    }

    @Test void candidatesDrawOnlyTheScoredMapAndTheFinalRunDrawsTheRestAsAFullCandidateWould() {
        FactorGraph full = FactorGraphSamplerTest.graph;   // seg -> depth -> image (ControlNet on seg and depth)
        try (InferenceMode im = new InferenceMode()) {
            java.util.Map<String, AtomicInteger> steps = new java.util.HashMap<>();
            FactorListener count = stepCounter(steps);
            SbpcResult r = Sbpc.run(full, "seg", MapEditsTest.PALETTE, "a red house", 40, new Scripted(0.1, 0.7, 0.3),
                    new SbpcSettings(3, 2, false, null, 63).withBatch(1), count, null);
            assertEquals(1, r.chosen());
            assertEquals(3 * 2, steps.get("seg").get(), "three candidates of the scored map, 2 steps each");
            assertEquals(2, steps.get("depth").get(), "depth (not read by the score) drawn once, at the candidates' 2 steps");
            assertEquals(FactorGraphSamplerTest.SETTINGS.steps(), steps.get("image").get());

            // what drawing every condition factor per candidate (the earlier form) gives for the chosen seed
            FactorGraph cheap = full.withSettings("seg", full.factor("seg").settings().withSteps(2))
                    .withSettings("depth", full.factor("depth").settings().withSteps(2));
            FactorGraphResult candidate = FactorGraphSampler.run(cheap, FactorGraphRequest.of("a red house", 41, FactorGraphRequest.Mode.SEQUENTIAL)
                    .withSwitchedOff(Set.of("image")), null, null);
            assertTrue(torch.equal(candidate.latents("seg"), r.result().latents("seg")));
            assertTrue(torch.equal(candidate.latents("depth"), r.result().latents("depth")), "the same depth map, drawn once instead of N times");
        }
    }

    @Test void theFinalRunLeavesOutWhatItIsAskedTo() {
        FactorGraph full = FactorGraphSamplerTest.graph;   // seg -> depth -> image (ControlNet on seg and depth)
        assertEquals(Set.of(), Sbpc.unreadByImage(full), "the image reads both maps");
        try (InferenceMode im = new InferenceMode()) {
            java.util.Map<String, AtomicInteger> steps = new java.util.HashMap<>();
            FactorListener count = stepCounter(steps);
            SbpcResult r = Sbpc.run(full, "seg", MapEditsTest.PALETTE, "a red house", 40, new Scripted(0.1, 0.7, 0.3),
                    new SbpcSettings(3, 2, false, null, 63), Set.of("depth"), count, null);
            assertEquals(2, steps.get("seg").get(), "three candidates in one batch of 2 steps");
            assertNull(steps.get("depth"), "depth left out");
            assertEquals(FactorGraphSamplerTest.SETTINGS.steps(), steps.get("image").get());
            assertArrayEquals(new long[]{1, 3, 16, 16}, r.result().decoded("image").sizes().vec().get());
        }
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> Sbpc.run(full, "seg", MapEditsTest.PALETTE, "x", 0,
                m -> 0, new SbpcSettings(1, 1, false, null, 63), Set.of("seg"), null, null));
        assertTrue(e.getMessage().contains("cannot leave out 'seg': the scored map needs it"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> Sbpc.run(full, "seg", MapEditsTest.PALETTE, "x", 0,
                m -> 0, new SbpcSettings(1, 1, false, null, 63), Set.of("normals"), null, null));
        assertTrue(e.getMessage().contains("no such factor"), e.getMessage());
    }

    @Test void batchedCandidatesAreTheOneAtATimeCandidatesInFewerUNetCalls() {
        FactorGraph full = FactorGraphSamplerTest.graph;   // seg -> depth -> image
        try (InferenceMode im = new InferenceMode()) {
            java.util.Map<String, AtomicInteger> oneSteps = new java.util.HashMap<>(), batchSteps = new java.util.HashMap<>();
            SbpcSettings settings = new SbpcSettings(5, 2, false, null, 63);
            assertEquals(5, settings.batch(), "all N in one batch by default");
            Sbpc.Candidates one = Sbpc.candidates(full, "seg", MapEditsTest.PALETTE, "a red house", 40, map -> map.get(3, 3),
                    settings.withBatch(1), stepCounter(oneSteps), null);
            Sbpc.Candidates batched = Sbpc.candidates(full, "seg", MapEditsTest.PALETTE, "a red house", 40, map -> map.get(3, 3),
                    settings.withBatch(2), stepCounter(batchSteps), null);
            assertEquals(5 * 2, oneSteps.get("seg").get());
            assertEquals(3 * 2, batchSteps.get("seg").get(), "batches of 2, 2 and 1");
            assertNull(batchSteps.get("depth"), "candidates draw the scored map only");
            assertEquals(one.scores(), batched.scores());
            assertEquals(one.maps(), batched.maps());
            assertEquals(one.chosen(), batched.chosen());
            assertEquals(5, batched.millis().size());
            Tensor a = one.best().latents("seg"), b = batched.best().latents("seg");
            assertArrayEquals(new long[]{1, 4, 8, 8}, b.sizes().vec().get(), "each candidate its own (1, C, h, w) latents");
            assertTrue(a.sub(b).abs().max().item_double() < 1e-4, "the same candidate up to the rounding of batched kernels");
            // every candidate, not only the best: candidate k of the batch is the single run with seed 40 + k
            FactorGraph cheap = full.withSettings("seg", full.factor("seg").settings().withSteps(2));
            for (int k = 0; k < 5; k++) {
                FactorGraphResult single = FactorGraphSampler.run(cheap, Sbpc.candidateRequest(full, "seg", "a red house", 40 + k), null, null);
                assertEquals(SegmentationMaps.decode(single.decoded("seg"), MapEditsTest.PALETTE, 63), batched.maps().get(k), "candidate " + k);
            }
            // a child factor in a batch reads its own element of the parent's batch (depth's adapter on seg's latents)
            FactorGraphRequest noImage = FactorGraphRequest.of("a red house", 7, FactorGraphRequest.Mode.SEQUENTIAL).withSwitchedOff(Set.of("image"));
            List<FactorGraphResult> three = FactorGraphSampler.runBatch(full, noImage, 3, null, null);
            for (int k = 0; k < 3; k++) {
                FactorGraphResult single = FactorGraphSampler.run(full, noImage.withSeed(7 + k), null, null);
                for (String f : List.of("seg", "depth")) {
                    double diff = single.latents(f).sub(three.get(k).latents(f)).abs().max().item_double();
                    assertTrue(diff < 1e-4, f + " of run " + k + " differs by " + diff);
                }
            }
        }
        var e = assertThrows(IllegalArgumentException.class, () -> FactorGraphSampler.runBatch(full,
                FactorGraphRequest.of("x", 0, FactorGraphRequest.Mode.SEQUENTIAL), 2, null, null));
        assertTrue(e.getMessage().contains("ControlNet factor 'image'"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> new SbpcSettings(3, 2, false, null, 63, 0));
        assertTrue(e.getMessage().contains("batch must be in 1..256"), e.getMessage());
    }

    @Test void anImageCheckTriesTheNextBestMapsUntilAnImageScoresFullAndKeepsTheBestImage() {
        try (InferenceMode im = new InferenceMode()) {
            java.util.Map<String, AtomicInteger> steps = new java.util.HashMap<>();
            List<Tensor> segmented = new ArrayList<>();
            ImageSegmenter segmenter = image -> {
                segmented.add(image);
                return ClassMap.filled(2, 2, 0);
            };
            // 4 maps scored 0.2, 0.9, 0.5, 0.9 (ranking 1, 3, 2, 0), then the images of maps 1, 3, 2 score 0.4, 0.8, 0.6
            SbpcResult r = Sbpc.run(graph, "seg", MapEditsTest.PALETTE, "a red house", 40, new Scripted(0.2, 0.9, 0.5, 0.9, 0.4, 0.8, 0.6),
                    new SbpcSettings(4, 2, false, null, 63), Set.of(), new Sbpc.ImageCheck(segmenter, 3), stepCounter(steps), null);
            assertEquals(List.of(1, 3, 2), r.imaged());
            assertEquals(List.of(0.4, 0.8, 0.6), r.imageScores());
            assertEquals(3, r.chosen(), "the candidate whose image scored best");
            assertEquals(43, r.chosenSeed());
            assertEquals(3, segmented.size());
            assertEquals(3 * FactorGraphSamplerTest.SETTINGS.steps(), steps.get("image").get(), "three images");
            FactorGraph cheap = graph.withSettings("seg", graph.factor("seg").settings().withSteps(2));
            FactorGraphResult candidate3 = FactorGraphSampler.run(cheap, Sbpc.candidateRequest(graph, "seg", "a red house", 43), null, null);
            assertTrue(candidate3.latents("seg").sub(r.result().latents("seg")).abs().max().item_double() < 1e-4, "the kept image's map is candidate 3");

            // a full score stops the check at the first image: the paper's SBPC plus one segmentation
            steps.clear();
            SbpcResult once = Sbpc.run(graph, "seg", MapEditsTest.PALETTE, "a red house", 40, new Scripted(0.2, 0.9, 1.0),
                    new SbpcSettings(2, 2, false, null, 63), Set.of(), new Sbpc.ImageCheck(segmenter, 3), stepCounter(steps), null);
            assertEquals(List.of(1), once.imaged());
            assertEquals(1, once.chosen());
            assertEquals(FactorGraphSamplerTest.SETTINGS.steps(), steps.get("image").get());

            // images scored by a scorer of their own: the maps' scorer sees the two maps only, the images' the two images
            Scripted maps = new Scripted(0.2, 0.9), images = new Scripted(0.5, 1.0);
            SbpcResult own = Sbpc.run(graph, "seg", MapEditsTest.PALETTE, "a red house", 40, maps,
                    new SbpcSettings(2, 2, false, null, 63), Set.of(), new Sbpc.ImageCheck(segmenter, 3, images), null, null);
            assertEquals(2, maps.seen.size());
            assertEquals(2, images.seen.size());
            assertEquals(List.of(1, 0), own.imaged());
            assertEquals(List.of(0.5, 1.0), own.imageScores());
            assertEquals(0, own.chosen(), "the lower-scored map's image reached full recall");
        }
        assertThrows(IllegalArgumentException.class, () -> new Sbpc.ImageCheck(null, 2));
        var e = assertThrows(IllegalArgumentException.class, () -> new Sbpc.ImageCheck(image -> null, 0));
        assertTrue(e.getMessage().contains("maxImages must be in 1..256"), e.getMessage());
    }

    @Test void stopsAtTheFirstSampleAboveTheThreshold() {
        try (InferenceMode im = new InferenceMode()) {
            SbpcResult r = Sbpc.run(graph, "seg", MapEditsTest.PALETTE, "a red house", 0, new Scripted(0.3, 0.95, 1.0),
                    new SbpcSettings(3, 1, false, 0.9, 63), null, null);
            assertEquals(List.of(0.3, 0.95), r.scores());
            assertEquals(1, r.chosen());
            assertEquals(16, r.maps().get(0).width());
        }
    }

    @Test void imageLevelBaselineScoresEveryImageWithTheSegmenter() {
        for (int batch : new int[]{1, 2, 3}) {
            List<Long> calls = new ArrayList<>();
            ImageSbpc.Result r = ImageSbpc.run(3, 100, batch, (first, n) -> {
                calls.add(first);
                List<org.bytedeco.pytorch.Tensor> images = new ArrayList<>();
                for (int j = 0; j < n; j++) images.add(torch.full(new long[]{1, 3, 2, 2}, new org.bytedeco.pytorch.Scalar((double) (first + j))));
                return images;
            }, image -> ClassMap.filled(2, 2, (int) image.max().item_double() - 100), map -> map.get(0, 0) == 1 ? 1.0 : 0.1, null, null);
            assertEquals(batch == 1 ? List.of(100L, 101L, 102L) : batch == 2 ? List.of(100L, 102L) : List.of(100L), calls, "batch " + batch);
            assertEquals(List.of(0.1, 1.0, 0.1), r.scores());
            assertEquals(3, r.sampleMillis().size());
            assertEquals(1, r.chosen());
            assertEquals(101.0, r.image().max().item_double());
        }
        // a stop score ends the run after the batch that reached it
        ImageSbpc.Result stopped = ImageSbpc.run(6, 100, 2, (first, n) -> {
            List<org.bytedeco.pytorch.Tensor> images = new ArrayList<>();
            for (int j = 0; j < n; j++) images.add(torch.full(new long[]{1, 3, 2, 2}, new org.bytedeco.pytorch.Scalar((double) (first + j))));
            return images;
        }, image -> ClassMap.filled(2, 2, (int) image.max().item_double() - 100), map -> map.get(0, 0) == 2 ? 1.0 : 0.1, 0.9, null);
        assertEquals(List.of(0.1, 0.1, 1.0, 0.1), stopped.scores());
        var e = assertThrows(IllegalArgumentException.class, () -> ImageSbpc.run(3, 0, 0, (f, n) -> List.of(), i -> null, m -> 0, null, null));
        assertTrue(e.getMessage().contains("batch must be at least 1"), e.getMessage());
    }

    @Test void candidatesSampleAtTheSettingsGuidanceAndSchedulerAndTheImageFactorKeepsItsOwn() {
        try (InferenceMode im = new InferenceMode()) {
            java.util.Map<String, AtomicInteger> steps = new java.util.HashMap<>();
            SbpcSettings cheap = new SbpcSettings(2, 2, false, null, 63).withBatch(1).withConditionGuidance(1.0).withConditionScheduler("dpm++2m");
            SbpcResult r = Sbpc.run(graph, "seg", MapEditsTest.PALETTE, "a red house", 40, new Scripted(0.3, 0.6), cheap, stepCounter(steps), null);
            assertEquals(1, r.chosen());

            FactorGraph candidates = Sbpc.candidateGraph(graph, "seg", cheap);
            assertEquals(1.0, candidates.factor("seg").settings().guidanceScale());
            assertEquals("dpm++2m", candidates.factor("seg").settings().scheduler());
            assertEquals(graph.factor("image").settings(), candidates.factor("image").settings(), "the image factor is not a candidate");

            // candidate 1 is what the segmentation factor draws on its own at guidance 1 with DPM++ 2M, 2 steps, seed 41
            FactorGraph plain = graph.withSettings("seg", graph.factor("seg").settings().withSteps(2).withGuidance(1.0).withScheduler("dpm++2m"));
            FactorGraphResult alone = FactorGraphSampler.run(plain, FactorGraphRequest.of("a red house", 41, FactorGraphRequest.Mode.SEQUENTIAL)
                    .withSwitchedOff(Set.of("image")), null, null);
            assertTrue(torch.equal(alone.latents("seg"), r.result().latents("seg")));
            FactorGraph ownSampling = graph.withSettings("seg", graph.factor("seg").settings().withSteps(2));
            FactorGraphResult own = FactorGraphSampler.run(ownSampling, FactorGraphRequest.of("a red house", 41, FactorGraphRequest.Mode.SEQUENTIAL)
                    .withSwitchedOff(Set.of("image")), null, null);
            assertFalse(torch.equal(own.latents("seg"), r.result().latents("seg")), "the factor's own guidance and sampler draw another map");
            assertEquals(FactorGraphSamplerTest.SETTINGS.steps(), steps.get("image").get());
        }
        var e = assertThrows(IllegalArgumentException.class, () -> new SbpcSettings(2, 2, false, null, 63).withConditionGuidance(0.5));
        assertTrue(e.getMessage().contains("condition guidance must be in 1..100"), e.getMessage());
    }

    @Test void largerObjectsBreakTiesInRecall() {
        // 10x10 maps of background 0 with objects 1 and 2: recall counts both at >= 2 % (2 pixels)
        ObjectRecall recall = new ObjectRecall(Set.of(1, 2), 0.02);
        MapScorer larger = recall.preferringLargerObjects();
        ClassMap small = withObjects(3, 20), big = withObjects(8, 10), missing = withObjects(0, 30);
        assertEquals(1.0, larger.score(small));
        assertEquals(1.0, larger.score(big));
        assertEquals(0.03, larger.tieBreak(small), 1e-12, "the smallest wanted object covers 3 of 100 pixels");
        assertEquals(0.08, larger.tieBreak(big), 1e-12);
        assertEquals(0.5, larger.score(missing));
        assertEquals(0.30, larger.tieBreak(missing), 1e-12, "only present objects count");
        assertEquals(0.0, recall.tieBreak(big), "plain recall has no preference");
        assertEquals(0.0, new ObjectRecall(Set.of(3), 0.02).preferringLargerObjects().tieBreak(big), "none present");

        // SBPC: full recall at seeds 0 and 1, the second with larger objects, is chosen and ranked first
        try (InferenceMode im = new InferenceMode()) {
            double[] scores = {1.0, 1.0, 0.5}, ties = {0.03, 0.08, 0.30};
            MapScorer scripted = new MapScorer() {
                int calls, tieCalls;
                @Override public double score(ClassMap map) { return scores[calls++]; }
                @Override public double tieBreak(ClassMap map) { return ties[tieCalls++]; }
            };
            Sbpc.Candidates c = Sbpc.candidates(graph, "seg", MapEditsTest.PALETTE, "a red house", 40, scripted,
                    new SbpcSettings(3, 1, false, null, 63), null, null);
            assertEquals(1, c.chosen());
            assertEquals(List.of(1, 0, 2), c.ranking());
            assertEquals(List.of(0.03, 0.08, 0.30), c.tieBreaks());
        }
    }

    /** A 10x10 map of class 0 with {@code a} pixels of class 1 and {@code b} of class 2. */
    private static ClassMap withObjects(int a, int b) {
        int[] labels = new int[100];
        for (int i = 0; i < a; i++) labels[i] = 1;
        for (int i = 0; i < b; i++) labels[50 + i] = 2;
        return new ClassMap(10, 10, labels);
    }

    @Test void badSettingsAreClearErrors() {
        var e = assertThrows(IllegalArgumentException.class, () -> new SbpcSettings(0, 10, true, null, 63));
        assertTrue(e.getMessage().contains("samples must be in 1..256"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> Sbpc.run(graph, "image", MapEditsTest.PALETTE, "x", 0, m -> 0,
                SbpcSettings.paper(63), null, null));
        assertTrue(e.getMessage().contains("'image' is the image factor"), e.getMessage());
        FactorGraph tiny = graph.withSettings("seg", graph.factor("seg").settings().withSize(2, 2));
        e = assertThrows(IllegalArgumentException.class, () -> Sbpc.run(tiny, "seg", MapEditsTest.PALETTE, "x", 0, m -> 0,
                SbpcSettings.paper(63), null, null));
        assertTrue(e.getMessage().contains("halves to 1"), e.getMessage());
    }
}
