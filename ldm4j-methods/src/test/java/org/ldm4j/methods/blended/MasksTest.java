package org.ldm4j.methods.blended;

import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.ldm4j.nn.Rng;
import org.ldm4j.nn.Tensors;

import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.*;

class MasksTest {
    @BeforeAll static void threads() { torch.set_num_threads(1); }

    static Tensor randomMask(long seed, int h, int w) {
        return new Rng(seed).rand(1, 1, h, w).ge(new org.bytedeco.pytorch.Scalar(0.5)).to(torch.ScalarType.Float);
    }

    /** PIL's NEAREST resize, written out: source pixel floor((i + 0.5) · in / out). */
    static float[] pilNearest(float[] src, int h, int w, int oh, int ow) {
        float[] out = new float[oh * ow];
        for (int i = 0; i < oh; i++) {
            for (int j = 0; j < ow; j++) {
                int si = (int) Math.floor((i + 0.5) * h / oh), sj = (int) Math.floor((j + 0.5) * w / ow);
                out[i * ow + j] = src[si * w + sj];
            }
        }
        return out;
    }

    @Test void nearestCentreIsPilNearestAndTopLeftIsTorchNearest() {
        for (int f : new int[]{2, 4, 8}) {
            Tensor m = randomMask(f, 32, 48);
            float[] src = Tensors.toFloats(m);
            Tensor centre = Masks.toLatent(m, f, Masks.Downsampling.NEAREST_CENTRE, null);
            assertArrayEquals(new long[]{1, 1, 32 / f, 48 / f}, centre.sizes().vec().get());
            assertArrayEquals(pilNearest(src, 32, 48, 32 / f, 48 / f), Tensors.toFloats(centre), "factor " + f);
            float[] topLeft = Tensors.toFloats(Masks.toLatent(m, f, Masks.Downsampling.NEAREST_TOP_LEFT, null));
            for (int i = 0; i < 32 / f; i++) {
                for (int j = 0; j < 48 / f; j++) assertEquals(src[f * i * 48 + f * j], topLeft[i * (48 / f) + j]);
            }
        }
    }

    @Test void areaIsTheBlockMeanAndMaxKeepsAnyPixel() {
        Tensor m = randomMask(5, 16, 16);
        float[] src = Tensors.toFloats(m);
        float[] area = Tensors.toFloats(Masks.toLatent(m, 4, Masks.Downsampling.AREA, null));
        float[] max = Tensors.toFloats(Masks.toLatent(m, 4, Masks.Downsampling.MAX, null));
        float[] thresholded = Tensors.toFloats(Masks.toLatent(m, 4, Masks.Downsampling.AREA, 0.5));
        for (int i = 0; i < 4; i++) {
            for (int j = 0; j < 4; j++) {
                float sum = 0, any = 0;
                for (int a = 0; a < 4; a++) for (int b = 0; b < 4; b++) { sum += src[(4 * i + a) * 16 + 4 * j + b]; any = Math.max(any, src[(4 * i + a) * 16 + 4 * j + b]); }
                assertEquals(sum / 16, area[i * 4 + j], 1e-6);
                assertEquals(any, max[i * 4 + j]);
                assertEquals(sum / 16 >= 0.5 ? 1f : 0f, thresholded[i * 4 + j]);
            }
        }
    }

    @Test void aThinStrokeVanishesUnderNearestButNotUnderMax() {
        float[] px = new float[16 * 16];
        for (int j = 0; j < 16; j++) px[5 * 16 + j] = 1;   // one-pixel line on row 5; centre sampling reads rows 2, 6, 10, 14
        Tensor m = Tensors.ofFloats(px, 1, 1, 16, 16);
        assertTrue(Masks.isEmpty(Masks.toLatent(m, 4, Masks.Downsampling.NEAREST_CENTRE, 0.5)));
        Tensor kept = Masks.toLatent(m, 4, Masks.Downsampling.MAX, 0.5);
        assertEquals(4.0, kept.sum().item_double());
        assertEquals(1.0, kept.select(2, 1).min().item_double());   // latent row 1 holds pixel rows 4..7
    }

    @Test void dilationGrowsByASquareClippedAtTheBorder() {
        float[] px = new float[8 * 8];
        px[3 * 8 + 3] = 1;
        px[0] = 1;
        Tensor m = Tensors.ofFloats(px, 1, 1, 8, 8);
        float[] d3 = Tensors.toFloats(Masks.dilate(m, 3));
        float[] d5 = Tensors.toFloats(Masks.dilate(m, 5));
        for (int i = 0; i < 8; i++) {
            for (int j = 0; j < 8; j++) {
                boolean in3 = (Math.abs(i - 3) <= 1 && Math.abs(j - 3) <= 1) || (i <= 1 && j <= 1);
                boolean in5 = (Math.abs(i - 3) <= 2 && Math.abs(j - 3) <= 2) || (i <= 2 && j <= 2);
                assertEquals(in3 ? 1f : 0f, d3[i * 8 + j], "3x3 at " + i + "," + j);
                assertEquals(in5 ? 1f : 0f, d5[i * 8 + j], "5x5 at " + i + "," + j);
            }
        }
        assertSame(m, Masks.dilate(m, 1));
        assertThrows(IllegalArgumentException.class, () -> Masks.dilate(m, 4));
    }

    @Test void progressiveShrinkingFollowsTheLdmSchedule() {
        float[] px = new float[16 * 16];
        px[8 * 16 + 8] = 1;
        Tensor mLat = Tensors.ofFloats(px, 1, 1, 16, 16);
        MaskSchedule s = MaskSchedule.of(mLat, 3, null, 0, 50);
        assertEquals(4, s.masks().size());
        double[] expectedCells = {49, 25, 9, 1};   // 7x7, 5x5, 3x3, the point itself
        for (int i = 0; i < 4; i++) {
            assertArrayEquals(new long[]{1, 1, 16, 16}, s.masks().get(i).sizes().vec().get());
            assertEquals(expectedCells[i], s.masks().get(i).sum().item_double());
            if (i > 0) {   // nested: each mask contains the next
                assertEquals(0.0, s.masks().get(i).sub(s.masks().get(i - 1)).clamp_min(new org.bytedeco.pytorch.Scalar(0)).sum().item_double());
            }
        }
        assertTrue(torch.equal(mLat, s.trueMask()));
        int[] counts = new int[4];
        for (int i = 0; i < 50; i++) counts[s.maskIndex(i)]++;
        assertArrayEquals(new int[]{13, 13, 13, 11}, counts);   // interval 50 / 4 + 1 = 13
        for (int i = 1; i < 50; i++) assertTrue(s.maskIndex(i) >= s.maskIndex(i - 1), "never widens again");
    }

    @Test void shrinkUntilReachesTheTrueMaskAtTheChosenStep() {
        Tensor mLat = torch.zeros(1, 1, 8, 8);
        MaskSchedule s = MaskSchedule.of(mLat, 2, 8, 2, 12);   // run starts at step 2, true mask from step 8
        List<Integer> idx = new ArrayList<>();
        for (int i = 2; i < 12; i++) idx.add(s.maskIndex(i));
        assertEquals(List.of(0, 0, 0, 1, 1, 1, 2, 2, 2, 2), idx);
        assertThrows(IllegalArgumentException.class, () -> MaskSchedule.of(mLat, 2, 2, 2, 12));
        assertThrows(IllegalArgumentException.class, () -> MaskSchedule.of(mLat, 2, 13, 2, 12));
        assertEquals(List.of(0, 0, 0), List.of(MaskSchedule.of(mLat, 0, null, 0, 3).maskIndex(0),
                MaskSchedule.of(mLat, 0, null, 0, 3).maskIndex(1), MaskSchedule.of(mLat, 0, null, 0, 3).maskIndex(2)));
    }

    @Test void checkNamesEachProblem() {
        Tensor image = torch.zeros(1, 3, 16, 16);
        Tensor good = torch.ones(1, 1, 16, 16);
        Masks.check(good, image, 2);
        IllegalArgumentException size = assertThrows(IllegalArgumentException.class, () -> Masks.check(torch.ones(1, 1, 16, 8), image, 2));
        assertTrue(size.getMessage().contains("mask is 8x16 but the image is 16x16"), size.getMessage());
        IllegalArgumentException empty = assertThrows(IllegalArgumentException.class, () -> Masks.check(torch.zeros(1, 1, 16, 16), image, 2));
        assertTrue(empty.getMessage().contains("empty"), empty.getMessage());
        IllegalArgumentException multiple = assertThrows(IllegalArgumentException.class,
                () -> Masks.check(torch.ones(1, 1, 15, 15), torch.zeros(1, 3, 15, 15), 2));
        assertTrue(multiple.getMessage().contains("multiples of 2"), multiple.getMessage());
        assertTrue(Masks.isFull(good));
    }
}
