package org.ldm4j.train.toyworld;

import org.junit.jupiter.api.Test;
import org.ldm4j.nn.Engine;
import org.ldm4j.nn.Tensors;
import org.ldm4j.toyworld.Scene;
import org.ldm4j.toyworld.SceneObject;

import java.util.List;

import static org.junit.jupiter.api.Assertions.*;

/** Per-object loss balancing of the LDM objective: every object adds the same extra weight, whatever its size. */
class ObjectWeightingTest {
    @Test void eachObjectAddsStrengthTimesReferenceCellsSpreadOverItsOwnCells() {
        Engine.threads(1);
        List<Scene> scenes = new SceneBatches(4, 64).scenes(3);
        var weighting = new ObjectWeighting(2.0, 16);
        float[] w = Tensors.toFloats(weighting.weights(scenes, 16, 16).contiguous());
        assertEquals(4 * 16 * 16, w.length);
        for (int b = 0; b < scenes.size(); b++) {
            Scene s = scenes.get(b);
            double extra = 0;
            for (int c = 0; c < 256; c++) {
                float v = w[b * 256 + c];
                assertTrue(v >= 1f, "no cell below the plain weight 1, got " + v);
                extra += v - 1;
            }
            long objects = s.objects().stream().filter(o -> o.pixels() > 0).count();
            assertEquals(2.0 * 16 * objects, extra, 1e-3, "scene " + b + ": " + objects + " objects");

            // a cell covered only by background keeps weight 1; a cell of the smallest object gets the most
            SceneObject smallest = s.objects().stream().filter(o -> o.pixels() > 0)
                    .min(java.util.Comparator.comparingInt(SceneObject::pixels)).orElseThrow();
            SceneObject largest = s.objects().stream().max(java.util.Comparator.comparingInt(SceneObject::pixels)).orElseThrow();
            if (largest.pixels() > 16 * smallest.pixels()) {
                assertTrue(maxWeightOf(s, w, b, smallest) > maxWeightOf(s, w, b, largest),
                        "a " + smallest.pixels() + "-pixel object outweighs a " + largest.pixels() + "-pixel one per cell");
            }
        }
    }

    @Test void strengthZeroIsThePlainObjectiveAndBadValuesAreRefused() {
        List<Scene> scenes = new SceneBatches(1, 64).scenes(0);
        float[] w = Tensors.toFloats(new ObjectWeighting(0, 16).weights(scenes, 16, 16).contiguous());
        for (float v : w) assertEquals(1f, v);
        assertThrows(IllegalArgumentException.class, () -> new ObjectWeighting(-1, 16));
        assertThrows(IllegalArgumentException.class, () -> new ObjectWeighting(Double.NaN, 16));
        assertThrows(IllegalArgumentException.class, () -> new ObjectWeighting(1, 0));
    }

    @Test void theWeightedMeanKeepsThePlainMeansScaleAndFavoursObjectCells() {
        Engine.threads(1);
        List<Scene> scenes = new SceneBatches(2, 64).scenes(7);
        var weighting = new ObjectWeighting(2.0, 256);
        // a constant error has the same weighted and plain mean: the weighting moves emphasis, not scale
        org.bytedeco.pytorch.Tensor ones = Tensors.ofFloats(new float[2 * 3 * 64 * 64], 2, 3, 64, 64).add(new org.bytedeco.pytorch.Scalar(1.0));
        assertEquals(1.0, weighting.weightedMean(ones, scenes).item_double(), 1e-5);
        // an error only on object pixels weighs more than under the plain mean
        float[] onObjects = new float[2 * 3 * 64 * 64];
        for (int b = 0; b < 2; b++) {
            int[] inst = scenes.get(b).instances();
            var ids = scenes.get(b).objects().stream().map(SceneObject::instanceId).collect(java.util.stream.Collectors.toSet());
            for (int c = 0; c < 3; c++) for (int p = 0; p < 64 * 64; p++) if (ids.contains(inst[p])) onObjects[(b * 3 + c) * 4096 + p] = 1f;
        }
        var e = Tensors.ofFloats(onObjects, 2, 3, 64, 64);
        assertTrue(weighting.weightedMean(e, scenes).item_double() > 1.5 * ObjectWeighting.NONE.weightedMean(e, scenes).item_double());
    }

    @Test void aFineTuneCanStartAtLaterTrainingSeeds() {
        var first = new SceneBatches(2, 64).scenes(10).get(0);
        var shifted = new SceneBatches(2, 64, 20).scenes(0).get(0);
        assertEquals(first.seed(), shifted.seed(), "step 10 x batch 2 = seed 20");
        assertThrows(IllegalArgumentException.class, () -> new SceneBatches(2, 64, SceneBatches.TRAIN_SEEDS));
    }

    private static float maxWeightOf(Scene s, float[] w, int b, SceneObject o) {
        float max = 0;
        for (int y = 0; y < s.height(); y++) {
            for (int x = 0; x < s.width(); x++) {
                if (s.instances()[y * s.width() + x] == o.instanceId()) max = Math.max(max, w[b * 256 + (y / 4) * 16 + x / 4]);
            }
        }
        return max;
    }
}
