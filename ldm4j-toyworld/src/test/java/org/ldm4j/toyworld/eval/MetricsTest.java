package org.ldm4j.toyworld.eval;

import org.junit.jupiter.api.Test;
import org.ldm4j.toyworld.Mask;
import org.ldm4j.toyworld.Scene;
import org.ldm4j.toyworld.ToyClass;
import org.ldm4j.toyworld.ToyWorld;

import java.util.EnumSet;
import java.util.Set;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Segmentation IoU, object recall, PSNR/SSIM, faithfulness and edit locality on constructed inputs. */
class MetricsTest {
    @Test
    void meanIouOfKnownMaps() {
        // truth: 0 0 1 1, predicted: 0 1 1 1 -> IoU(0) = 1/2, IoU(1) = 2/3, class 2 absent from both: skipped
        SegmentationMetrics m = new SegmentationMetrics(3).add(new int[]{0, 0, 1, 1}, new int[]{0, 1, 1, 1});
        assertEquals(0.5, m.iou()[0], 1e-12);
        assertEquals(2.0 / 3, m.iou()[1], 1e-12);
        assertTrue(Double.isNaN(m.iou()[2]));
        assertEquals((0.5 + 2.0 / 3) / 2, m.meanIou(), 1e-12);
        assertEquals(0.75, m.pixelAccuracy(), 1e-12);
        // accumulated over images, not averaged per image: a perfect second image changes the totals
        m.add(new int[]{2, 2}, new int[]{2, 2});
        assertEquals((0.5 + 2.0 / 3 + 1) / 3, m.meanIou(), 1e-12);
        assertThrows(IllegalArgumentException.class, () -> m.add(new int[]{3}, new int[]{0}));
    }

    @Test
    void predictedSharesSayWhereEachTrueClassWent() {
        SegmentationMetrics m = new SegmentationMetrics(3).add(new int[]{0, 0, 0, 0, 1, 1}, new int[]{0, 0, 0, 2, 1, 0});
        double[][] shares = m.predictedShares();
        assertArrayEquals(new double[]{0.75, 0, 0.25}, shares[0], 1e-12);
        assertArrayEquals(new double[]{0.5, 0.5, 0}, shares[1], 1e-12);
        for (double v : shares[2]) assertTrue(Double.isNaN(v), "class 2 is absent from the truth");
        // the diagonal share is the class's recall, not its IoU (class 0: 3 of 4 pixels, IoU 3 / (4 + 1))
        assertEquals(0.6, m.iou()[0], 1e-12);
    }

    @Test
    void promptsNameObjectClasses() {
        assertEquals(EnumSet.of(ToyClass.HOUSE, ToyClass.TREE, ToyClass.FLOWERS),
                ObjectRecall.namedObjects("two red houses, a tree and a patch of flowers on green grass"));
        assertEquals(EnumSet.of(ToyClass.BOAT, ToyClass.CAR, ToyClass.ROCK), ObjectRecall.namedObjects("a boat, cars and one rock"));
        assertTrue(ObjectRecall.namedObjects("a snowy mountain under a starry sky").isEmpty());
    }

    @Test
    void recallOnConstructedMaps() {
        int[] map = new int[1000]; // sky everywhere
        for (int i = 0; i < 10; i++) map[i] = ToyClass.HOUSE.ordinal();   // 1% of the image
        map[500] = ToyClass.CAR.ordinal();                                // one stray pixel (0.1%)
        ObjectRecall recall = new ObjectRecall(0.002);
        ObjectRecall.Result r = recall.recall("a house, a car and a tree", map);
        assertEquals(EnumSet.of(ToyClass.HOUSE), r.found());
        assertEquals(1.0 / 3, r.recall(), 1e-12);
        assertEquals(2.0 / 3, new ObjectRecall(0.0).recall("a house, a car and a tree", map).recall(), 1e-12);
        assertTrue(Double.isNaN(recall.recall("a blue sky", map).recall()));
        // restricted to a region that misses the house
        boolean[] region = new boolean[1000];
        for (int i = 100; i < 1000; i++) region[i] = true;
        assertEquals(0.0, recall.recall(Set.of(ToyClass.HOUSE), map, region).recall());
    }

    @Test
    void recallByClassCountsImagesNamingAndShowingEachClass() {
        int[] houseOnly = new int[1000], both = new int[1000];
        for (int i = 0; i < 10; i++) { houseOnly[i] = ToyClass.HOUSE.ordinal(); both[i] = ToyClass.HOUSE.ordinal(); both[100 + i] = ToyClass.FLOWERS.ordinal(); }
        var byClass = new ObjectRecall(0.002).byClass(java.util.List.of("a house and a patch of red flowers", "a patch of pink flowers",
                "a house and flowers"), new int[][]{houseOnly, houseOnly, both});
        assertEquals(java.util.List.of(ToyClass.HOUSE, ToyClass.FLOWERS), java.util.List.copyOf(byClass.keySet()));
        assertEquals("[2, 2]", java.util.Arrays.toString(byClass.get(ToyClass.HOUSE)));
        assertEquals("[3, 1]", java.util.Arrays.toString(byClass.get(ToyClass.FLOWERS)));
        assertThrows(IllegalArgumentException.class, () -> new ObjectRecall().byClass(java.util.List.of("a house"), new int[0][]));
    }

    @Test
    void groundTruthMapsRecallEveryCaptionedObject() {
        // the oracle segmenter (exact class maps) must score 1: the area threshold is below what captions name
        ObjectRecall recall = new ObjectRecall();
        for (long seed = ToyWorldFid.TEST_SEEDS; seed < ToyWorldFid.TEST_SEEDS + 60; seed++) {
            Scene s = ToyWorld.sample(seed);
            for (String caption : s.captions()) {
                ObjectRecall.Result r = recall.recall(caption, s.seg());
                if (!r.named().isEmpty()) assertEquals(1.0, r.recall(), "seed " + seed + ": " + caption + " found " + r.found());
            }
        }
    }

    @Test
    void psnrAndSsimKnownValues() {
        int w = 32, h = 32;
        int[] a = new int[w * h], b = new int[w * h];
        java.util.Random r = new java.util.Random(1);
        for (int i = 0; i < a.length; i++) {
            int v = 20 + r.nextInt(200);
            a[i] = v << 16 | v << 8 | v;
            b[i] = (v + 10) << 16 | (v + 10) << 8 | (v + 10);
        }
        // a constant offset of 10/255 -> PSNR = 20 log10(255 / 10)
        assertEquals(20 * Math.log10(25.5), ImageQuality.psnr(a, b, null), 1e-6); // float planes
        assertEquals(100.0, ImageQuality.psnr(a, a, null));
        assertEquals(1.0, ImageQuality.ssim(a, a, w, h, null), 1e-12);
        // constant images: σ = 0, so SSIM = (2 μx μy + C1) / (μx² + μy² + C1)
        int[] c1 = new int[w * h], c2 = new int[w * h];
        java.util.Arrays.fill(c1, 0x404040);
        java.util.Arrays.fill(c2, 0x808080);
        double mx = 0x40 / 255.0, my = 0x80 / 255.0, k1 = 1e-4;
        assertEquals((2 * mx * my + k1) / (mx * mx + my * my + k1), ImageQuality.ssim(c1, c2, w, h, null), 1e-9);
        assertTrue(ImageQuality.ssim(a, b, w, h, null) < 1.0);
    }

    @Test
    void textureEnergyIsZeroOnFlatColourAndSeparatesScenesFromTheirPaintings() {
        int[] flat = new int[16 * 16];
        java.util.Arrays.fill(flat, 0x3060a0);
        assertEquals(0.0, ImageQuality.textureEnergy(flat, 16, 16), 1e-12);
        // one bright pixel on black: only it and its 4 neighbours have a nonzero Laplacian (4 + 4 x 1) * Y
        int[] dot = new int[16 * 16];
        dot[8 * 16 + 8] = 0xffffff;
        assertEquals(8.0 / (14 * 14), ImageQuality.textureEnergy(dot, 16, 16), 1e-9);
        double scenes = 0, paintings = 0;
        for (long seed = ToyWorldFid.TEST_SEEDS; seed < ToyWorldFid.TEST_SEEDS + 20; seed++) {
            Scene s = ToyWorld.sample(seed);
            scenes += ImageQuality.textureEnergy(s.rgb(), s.width(), s.height());
            paintings += ImageQuality.textureEnergy(s.painting(seed, org.ldm4j.toyworld.PaintingOptions.defaults()).rgb(), s.width(), s.height());
        }
        assertTrue(scenes > 1.5 * paintings, "scenes " + scenes / 20 + " vs paintings " + paintings / 20);
        assertThrows(IllegalArgumentException.class, () -> ImageQuality.textureEnergy(flat, 8, 8));
    }

    @Test
    void blurKernelMatchesGradopAt512AndScalesDown() {
        float[] k = PaintingFunction.forWidth(512).kernel();
        assertEquals(35, k.length);
        assertEquals(0.057704, k[17], 1e-6);
        assertEquals(0.057118, k[16], 1e-6);
        assertEquals(0.003023, k[0], 1e-6);
        PaintingFunction at64 = PaintingFunction.forWidth(64);
        assertEquals(5, at64.kernel().length);
        assertEquals(0.875, at64.sigma(), 1e-12);
        // reflect-101 indices and a constant image staying constant
        assertEquals(1, PaintingFunction.reflect(-1, 5));
        assertEquals(3, PaintingFunction.reflect(5, 5));
        float[][] flat = at64.blur(new float[][]{filled(64 * 64, 0.3f)}, 64, 64);
        for (float v : flat[0]) assertEquals(0.3f, v, 1e-6);
    }

    @Test
    void faithfulnessIsZeroForThePaintingItselfAndGrowsWithPerturbation() {
        Scene s = ToyWorld.sample(ToyWorldFid.TEST_SEEDS + 3);
        int[] painting = s.painting(5, org.ldm4j.toyworld.PaintingOptions.defaults()).rgb();
        assertEquals(0.0, Faithfulness.distance(painting, painting, 64, 64), 1e-12);
        double previous = 0;
        for (int amount : new int[]{8, 24, 64}) {
            int[] perturbed = perturb(painting, amount, 9);
            double d = Faithfulness.distance(perturbed, painting, 64, 64);
            assertTrue(d > previous, "distance " + d + " at amount " + amount + " must exceed " + previous);
            previous = d;
        }
        // the raw scene is closer to its own painting than an unrelated scene is
        int[] other = ToyWorld.sample(ToyWorldFid.TEST_SEEDS + 4).rgb();
        assertTrue(Faithfulness.distance(s.rgb(), painting, 64, 64) < Faithfulness.distance(other, painting, 64, 64));
    }

    @Test
    void editLocalityOfAPerfectEdit() {
        int w = 32, h = 32;
        int[] input = new int[w * h];
        java.util.Arrays.fill(input, 0x3366cc);
        boolean[] bits = new boolean[w * h];
        for (int y = 8; y < 16; y++) for (int x = 8; x < 16; x++) bits[y * w + x] = true;
        Mask mask = new Mask(w, h, bits);
        int[] output = input.clone();
        int[] map = new int[w * h];
        for (int i = 0; i < bits.length; i++) {
            if (bits[i]) { output[i] = 0xff0000; map[i] = ToyClass.HOUSE.ordinal(); }
        }
        EditLocality.Result r = EditLocality.measure(input, output, map, mask, Set.of(ToyClass.HOUSE), new ObjectRecall());
        assertEquals(100.0, r.psnrOutside());
        assertEquals(1.0, r.recallInside());
        assertTrue(r.ssimOutside() < 1.0, "SSIM windows centred outside the mask still see the edit at their border");
        // the house drawn outside the mask instead: recall inside is 0 and PSNR outside drops
        int[] misplaced = input.clone();
        int[] mapOut = new int[w * h];
        for (int y = 20; y < 28; y++) for (int x = 20; x < 28; x++) { misplaced[y * w + x] = 0xff0000; mapOut[y * w + x] = ToyClass.HOUSE.ordinal(); }
        EditLocality.Result bad = EditLocality.measure(input, misplaced, mapOut, mask, Set.of(ToyClass.HOUSE), new ObjectRecall());
        assertEquals(0.0, bad.recallInside());
        assertTrue(bad.psnrOutside() < 30);
    }

    static float[] filled(int n, float v) {
        float[] out = new float[n];
        java.util.Arrays.fill(out, v);
        return out;
    }

    static int[] perturb(int[] rgb, int amount, long seed) {
        java.util.Random r = new java.util.Random(seed);
        int[] out = new int[rgb.length];
        for (int i = 0; i < rgb.length; i++) {
            int c = rgb[i], o = 0;
            for (int shift = 0; shift <= 16; shift += 8) {
                int v = ((c >> shift) & 255) + r.nextInt(2 * amount + 1) - amount;
                o |= Math.max(0, Math.min(255, v)) << shift;
            }
            out[i] = o;
        }
        return out;
    }
}
