package org.ldm4j.toyworld.eval;

import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.ldm4j.nn.Tensors;
import org.ldm4j.toyworld.Scene;
import org.ldm4j.toyworld.ToyClass;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class SegmenterTest {
    @BeforeAll
    static void threads() { torch.set_num_threads(1); }

    static ToyWorldSegmenter tiny(long seed) {
        torch.manual_seed(seed);
        return new ToyWorldSegmenter(new SegmenterConfig(new int[]{8, 16, 16}, ToyClass.count(), 4));
    }

    @Test
    void forwardShapesAtAnySize() {
        ToyWorldSegmenter s = tiny(1);
        List<Scene> scenes = ToyWorldFid.scenes(ToyWorldFid.TEST_SEEDS, 2, 64);
        ToyWorldSegmenter.Output out = s.forward(EvalImages.scenes(scenes));
        assertArrayEquals(new long[]{2, ToyClass.count(), 64, 64}, out.logits().sizes().vec().get());
        assertArrayEquals(new long[]{2, 16}, out.embedding().sizes().vec().get());
        // sides that are not a multiple of 4 are padded and cropped back
        Tensor odd = s.forward(new org.ldm4j.nn.Rng(2).randn(1, 3, 30, 45)).logits();
        assertArrayEquals(new long[]{1, ToyClass.count(), 30, 45}, odd.sizes().vec().get());
        assertArrayEquals(new long[]{1, 16}, s.embed(new org.ldm4j.nn.Rng(2).randn(1, 3, 30, 45)).sizes().vec().get());
        assertThrows(IllegalArgumentException.class, () -> s.forward(new org.ldm4j.nn.Rng(2).randn(1, 1, 16, 16)));
        // the embedding is the encoder-only path: equal to forward's
        Tensor x = EvalImages.scenes(scenes);
        assertEquals(0.0, s.embed(x).sub(s.forward(x).embedding()).abs().max().item_double(), 1e-6);
        int[][] maps = s.classMaps(scenes.stream().map(Scene::rgb).toList(), 64, 64);
        assertEquals(2, maps.length);
        assertEquals(64 * 64, maps[0].length);
    }

    @Test
    void defaultConfigSize() {
        long params = new ToyWorldSegmenter(SegmenterConfig.toyWorld()).parameterCount();
        assertTrue(params > 300_000 && params < 1_500_000, "parameters: " + params); // 1.18 M
        assertEquals(128, SegmenterConfig.toyWorld().embeddingDim());
    }

    @Test
    void saveLoadRoundTrip(@TempDir Path dir) throws Exception {
        ToyWorldSegmenter s = tiny(3);
        s.save(dir, Map.of("step", "0"));
        ToyWorldSegmenter loaded = ToyWorldSegmenter.load(dir);
        assertEquals(s.config(), loaded.config());
        Tensor x = EvalImages.scenes(ToyWorldFid.scenes(ToyWorldFid.TEST_SEEDS, 2, 32));
        float[] a = Tensors.toFloats(s.forward(x).logits()), b = Tensors.toFloats(loaded.forward(x).logits());
        double maxDiff = 0, scale = 0;
        for (int i = 0; i < a.length; i++) { maxDiff = Math.max(maxDiff, Math.abs(a[i] - b[i])); scale = Math.max(scale, Math.abs(a[i])); }
        assertTrue(maxDiff < 1e-2 * Math.max(1, scale), "fp16 round trip changed logits by " + maxDiff);
        assertTrue(maxDiff > 0 || scale == 0, "weights are stored in fp16, so a tiny difference is expected");
        Files.delete(dir.resolve(ToyWorldSegmenter.WEIGHTS_FILE));
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> ToyWorldSegmenter.load(dir));
        assertTrue(e.getMessage().contains("model.safetensors"), e.getMessage());
    }

    @Test
    void trainedSegmenterReachesTheBar() throws Exception {
        Path dir = Path.of("..", "models", "toyworld-segmenter");
        Assumptions.assumeTrue(Files.isRegularFile(dir.resolve(ToyWorldSegmenter.WEIGHTS_FILE)), "no trained segmenter committed");
        ToyWorldSegmenter s = ToyWorldSegmenter.load(dir);
        List<Scene> scenes = ToyWorldFid.scenes(ToyWorldFid.TEST_SEEDS, 32, 64);
        int[][] maps = s.classMaps(scenes.stream().map(Scene::rgb).toList(), 64, 64);
        SegmentationMetrics m = new SegmentationMetrics(ToyClass.count());
        for (int i = 0; i < scenes.size(); i++) m.add(scenes.get(i).seg(), maps[i]);
        assertTrue(m.meanIou() >= 0.90, "mIoU on 32 test scenes: " + m.meanIou());
    }
}
