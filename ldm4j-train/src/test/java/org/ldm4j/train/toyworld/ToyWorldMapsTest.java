package org.ldm4j.train.toyworld;

import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch;
import org.junit.jupiter.api.Test;
import org.ldm4j.methods.fgdm.FgdmManifest.MapKind;
import org.ldm4j.nn.Engine;
import org.ldm4j.nn.Tensors;
import org.ldm4j.toyworld.Scene;

import java.util.List;

import static org.junit.jupiter.api.Assertions.*;

/** The sketch and normal maps the FG-DM child factors learn, at the factors' half size. */
class ToyWorldMapsTest {
    @Test void maxResizeKeepsOnePixelLinesAndAreaResizeAverages() {
        float[] line = new float[16];
        for (int x = 0; x < 4; x++) line[4 + x] = 1;   // row 1 of a 4x4 map
        assertArrayEquals(new float[]{1, 1, 0, 0}, ToyWorldMaps.maxResize(line, 4, 4, 2), "the line survives, in full");
        assertArrayEquals(new float[]{0.5f, 0.5f, 0, 0}, ToyWorldMaps.areaResize(line, 4, 4, 2), "an average would grey it");
    }

    @Test void sketchAndNormalMapsAtHalfSize() {
        Engine.threads(1);
        List<Scene> scenes = new SceneBatches(2, 64).scenes(5);
        Tensor sketch = ToyWorldMaps.map(MapKind.SKETCH, scenes, 32), normals = ToyWorldMaps.map(MapKind.NORMAL, scenes, 32);
        assertArrayEquals(new long[]{2, 3, 32, 32}, sketch.sizes().vec().get());
        assertArrayEquals(new long[]{2, 3, 32, 32}, normals.sizes().vec().get());
        assertTrue(torch.equal(ToyWorldMaps.map(MapKind.SEGMENTATION, scenes, 32), ToyWorldMaps.segmentation(scenes, 32)));
        assertTrue(torch.equal(ToyWorldMaps.map(MapKind.DEPTH, scenes, 32), ToyWorldMaps.depth(scenes, 32)));

        // sketch: only black or white, the same in each channel, and about as many lines as the full-size sketch (not fewer)
        float[] s = Tensors.toFloats(sketch.select(0, 0).select(0, 0).contiguous());
        int lines = 0;
        for (float v : s) {
            assertTrue(v == -1f || v == 1f, "pure black/white, got " + v);
            if (v == 1f) lines++;
        }
        int full = 0;
        for (boolean b : scenes.get(0).sketch()) if (b) full++;
        assertTrue(lines > 0 && lines >= full / 4, "max-pooled lines " + lines + " vs " + full + " at 64x64");
        assertTrue(torch.equal(sketch.select(1, 0), sketch.select(1, 2)));

        // normals: back from [-1, 1] RGB they are unit vectors (up to the 8-bit quantisation), z towards the viewer
        float[] n = Tensors.toFloats(normals.select(0, 0).permute(1, 2, 0).contiguous());
        for (int p = 0; p < n.length / 3; p++) {
            double len = Math.sqrt(n[3 * p] * n[3 * p] + n[3 * p + 1] * n[3 * p + 1] + n[3 * p + 2] * n[3 * p + 2]);
            assertEquals(1.0, len, 0.02, "pixel " + p);
            assertTrue(n[3 * p + 2] >= -0.01, "z faces the viewer at pixel " + p);
        }
    }
}
