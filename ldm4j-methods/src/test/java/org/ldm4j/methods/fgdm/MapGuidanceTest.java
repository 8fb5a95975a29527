package org.ldm4j.methods.fgdm;

import org.bytedeco.pytorch.InferenceMode;
import org.bytedeco.pytorch.Scalar;
import org.bytedeco.pytorch.Tensor;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.ldm4j.methods.guidance.GuidanceSettings;
import org.ldm4j.methods.guidance.Segmenter;
import org.ldm4j.nn.Rng;
import org.ldm4j.nn.Tensors;
import org.ldm4j.schedulers.Scheduler;

import java.nio.file.Path;
import java.util.Map;
import java.util.Set;

import static org.junit.jupiter.api.Assertions.*;

class MapGuidanceTest {
    @TempDir static Path dir;
    static FactorGraph graph;
    static final GuidanceSettings SETTINGS = new GuidanceSettings(0, 1, 10, 0.3, 0);

    @BeforeAll static void load() throws Exception {
        FactorGraphSamplerTest.load(dir);
        graph = FactorGraphSamplerTest.graph;
    }

    /**
     * The palette's classes by nearest colour, differentiable: logit_c = 8 (2 u·c − |c|²) for u the pixel in [0, 1],
     * the negative squared distance up to a term every class shares.
     */
    static final Segmenter NEAREST_COLOUR = images -> {
        Palette p = MapEditsTest.PALETTE;
        int n = p.size();
        float[] w = new float[n * 3], b = new float[n];
        for (int c = 0; c < n; c++) {
            int rgb = p.colour(c);
            double sq = 0;
            for (int k = 0; k < 3; k++) {
                double v = ((rgb >> (16 - 8 * k)) & 0xFF) / 255.0;
                w[c * 3 + k] = (float) (16 * v);
                sq += v * v;
            }
            b[c] = (float) (-8 * sq);
        }
        long h = images.size(2), wd = images.size(3);
        Tensor unit = images.add(new Scalar(1.0)).div(new Scalar(2.0)).reshape(3, h * wd);
        return Tensors.ofFloats(w, n, 3).matmul(unit).add(Tensors.ofFloats(b, n, 1)).reshape(1, n, h, wd);
    };

    static ClassMap houseOnSkyAndGrass() {
        return MapEdits.add(MapEditsTest.skyAndGrass(), Shapes.rectangle(16, 16, 4, 4, 9, 9), MapEditsTest.HOUSE);
    }

    /** The image factor on the given map (depth off), guided or not. */
    static FactorGraphResult image(FactorHooks hooks) {
        Tensor map = SegmentationMaps.toImageTensor(houseOnSkyAndGrass(), MapEditsTest.PALETTE);
        FactorGraphRequest request = FactorGraphRequest.of("a red house", 3, FactorGraphRequest.Mode.SEQUENTIAL)
                .withSwitchedOff(Set.of("depth")).withGiven(Map.of("seg", new FactorGraphRequest.Given(null, map)));
        return FactorGraphSampler.run(graph, request, null, null, hooks);
    }

    /** Fraction of the map's pixels the nearest-colour segmenter reads as the map's class in the image. */
    static double agreement(FactorGraphResult r) {
        ClassMap map = houseOnSkyAndGrass();
        ClassMap read = SegmentationMaps.decode(r.decoded("image"), MapEditsTest.PALETTE, 255);
        int hit = 0;
        for (int i = 0; i < map.labels().length; i++) if (map.labels()[i] == read.labels()[i]) hit++;
        return (double) hit / map.labels().length;
    }

    @Test void theImageFactorGuidedTowardItsMapDrawsMoreOfIt() {
        try (InferenceMode ignored = new InferenceMode()) {
            MapGuidance guidance = new MapGuidance(graph, "seg", NEAREST_COLOUR, MapEditsTest.PALETTE, 63, SETTINGS);
            double plain = agreement(image(FactorHooks.NONE)), guided = agreement(image(guidance));
            assertTrue(guided > plain + 0.2, "guided " + guided + " vs unguided " + plain);
            assertEquals(plain, agreement(image(FactorHooks.NONE)), "unguided runs are unchanged by the hooks' overload");
        }
    }

    @Test void onlyImageFactorsBelowTheMapGetAHookAndAnUnlabeledMapGivesNone() {
        try (InferenceMode ignored = new InferenceMode()) {
            MapGuidance guidance = new MapGuidance(graph, "seg", NEAREST_COLOUR, MapEditsTest.PALETTE, 63, SETTINGS);
            Scheduler ddim = graph.sd.scheduler("ddim", 0).create(3, new Rng(0));
            Tensor map = SegmentationMaps.toImageTensor(houseOnSkyAndGrass(), MapEditsTest.PALETTE);
            assertEquals(1, guidance.create(graph.factor("image"), ddim, name -> map).size());
            assertTrue(guidance.create(graph.factor("depth"), ddim, name -> map).isEmpty(), "a condition factor is not steered");
            Tensor black = map.mul(new Scalar(0.0)).sub(new Scalar(1.0));   // the unlabeled colour everywhere
            assertTrue(guidance.create(graph.factor("image"), ddim, name -> black).isEmpty(), "nothing to steer toward");
        }
    }

    @Test void hooksNeedSequentialSamplingAndAKnownMapFactor() {
        MapGuidance guidance = new MapGuidance(graph, "seg", NEAREST_COLOUR, MapEditsTest.PALETTE, 63, SETTINGS);
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> FactorGraphSampler.run(graph,
                FactorGraphRequest.of("a red house", 0, FactorGraphRequest.Mode.JOINT), null, null, guidance));
        assertTrue(e.getMessage().contains("sequential"), e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> new MapGuidance(graph, "sketch", NEAREST_COLOUR, MapEditsTest.PALETTE, 63, SETTINGS));
    }
}
