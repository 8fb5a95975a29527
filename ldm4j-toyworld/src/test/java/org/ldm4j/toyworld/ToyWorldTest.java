package org.ldm4j.toyworld;

import static org.junit.jupiter.api.Assertions.*;

import java.util.EnumSet;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Test;

class ToyWorldTest {
    private static final Map<String, ToyClass> NOUNS = Map.ofEntries(
            Map.entry("house", ToyClass.HOUSE), Map.entry("houses", ToyClass.HOUSE), Map.entry("tree", ToyClass.TREE),
            Map.entry("trees", ToyClass.TREE), Map.entry("boat", ToyClass.BOAT), Map.entry("boats", ToyClass.BOAT),
            Map.entry("flowers", ToyClass.FLOWERS), Map.entry("car", ToyClass.CAR), Map.entry("cars", ToyClass.CAR),
            Map.entry("rock", ToyClass.ROCK), Map.entry("rocks", ToyClass.ROCK));

    @Test
    void sameSeedGivesSameSceneAndOtherSeedsDiffer() {
        for (long seed : new long[]{0, 1, 42, 123456789L, -7}) {
            Scene a = ToyWorld.sample(seed), b = ToyWorld.sample(seed);
            assertArrayEquals(a.rgb(), b.rgb(), "rgb, seed " + seed);
            assertArrayEquals(a.seg(), b.seg());
            assertArrayEquals(a.depth(), b.depth());
            assertArrayEquals(a.sketch(), b.sketch());
            assertArrayEquals(a.normals(), b.normals());
            assertEquals(a.captions(), b.captions());
            assertEquals(a.objects(), b.objects());
        }
        assertFalse(java.util.Arrays.equals(ToyWorld.sample(1).rgb(), ToyWorld.sample(2).rgb()));
    }

    @Test
    void everyObjectClassInTheSegmentationIsNamedInEveryCaptionAndViceVersa() {
        for (long seed = 0; seed < 400; seed++) {
            Scene s = ToyWorld.sample(seed);
            Set<ToyClass> inSeg = EnumSet.noneOf(ToyClass.class);
            for (int c : s.seg()) if (ToyClass.of(c).isObject()) inSeg.add(ToyClass.of(c));
            Set<ToyClass> inList = EnumSet.noneOf(ToyClass.class);
            for (SceneObject o : s.objects()) inList.add(o.toyClass());
            assertEquals(inSeg, inList, "object list vs segmentation, seed " + seed);
            for (String caption : s.captions()) {
                List<String> words = Vocabulary.words(caption);
                Set<ToyClass> named = EnumSet.noneOf(ToyClass.class);
                for (String w : words) if (NOUNS.containsKey(w)) named.add(NOUNS.get(w));
                assertEquals(inSeg, named, "seed " + seed + ": \"" + caption + "\"");
                if (words.contains("sun")) assertTrue(s.classPixels(ToyClass.SUN) > 0, caption);
                if (words.contains("moon")) assertTrue(s.classPixels(ToyClass.MOON) > 0, caption);
                if (words.contains("mountains")) assertTrue(s.classPixels(ToyClass.MOUNTAIN) > 0, caption);
                if (words.contains("lake") || words.contains("sea")) assertTrue(s.classPixels(ToyClass.WATER) > 0, caption);
            }
        }
    }

    @Test
    void objectsMatchTheirInstancePixelsAndBoxes() {
        for (long seed = 0; seed < 200; seed++) {
            Scene s = ToyWorld.sample(seed);
            for (SceneObject o : s.objects()) {
                int n = 0;
                for (int i = 0; i < s.seg().length; i++) {
                    if (s.instances()[i] != o.instanceId()) continue;
                    n++;
                    assertEquals(o.toyClass().ordinal(), s.seg()[i]);
                    int x = i % s.width(), y = i / s.width();
                    Box b = o.box();
                    assertTrue(x >= b.x0() && x < b.x1() && y >= b.y0() && y < b.y1(), "pixel outside box, seed " + seed);
                }
                assertEquals(o.pixels(), n, "seed " + seed + " " + o);
                assertEquals(n, o.box() == null ? 0 : s.objectMask(o).area());
            }
        }
    }

    @Test
    void segmentationBoundariesCoincideWithColourEdgesAndSketchLines() {
        double across = 0, within = 0;
        long nAcross = 0, nWithin = 0;
        for (long seed = 0; seed < 100; seed++) {
            Scene s = ToyWorld.sample(seed);
            int w = s.width();
            for (int y = 0; y < s.height(); y++) {
                for (int x = 0; x + 1 < w; x++) {
                    int i = y * w + x;
                    int d = colourDistance(s.rgb()[i], s.rgb()[i + 1]);
                    if (s.seg()[i] != s.seg()[i + 1]) {
                        across += d;
                        nAcross++;
                        assertTrue(s.sketch()[i], "class boundary without sketch line, seed " + seed + " at " + x + "," + y);
                    } else {
                        within += d;
                        nWithin++;
                    }
                }
            }
        }
        double ratio = (across / nAcross) / (within / nWithin);
        assertTrue(ratio > 4, "mean colour step across class boundaries / within regions = " + ratio);
    }

    private static int colourDistance(int a, int b) {
        return Math.abs(((a >> 16) & 255) - ((b >> 16) & 255)) + Math.abs(((a >> 8) & 255) - ((b >> 8) & 255)) + Math.abs((a & 255) - (b & 255));
    }

    @Test
    void depthAndNormalsAreWellFormed() {
        for (long seed = 0; seed < 50; seed++) {
            Scene s = ToyWorld.sample(seed);
            for (int i = 0; i < s.depth().length; i++) {
                float d = s.depth()[i];
                assertTrue(d >= 0 && d <= 1, "depth " + d);
                float nx = s.normals()[3 * i], ny = s.normals()[3 * i + 1], nz = s.normals()[3 * i + 2];
                assertEquals(1, nx * nx + ny * ny + nz * nz, 1e-4);
                assertTrue(nz > 0, "normals face the viewer");
                ToyClass c = ToyClass.of(s.seg()[i]);
                if (c == ToyClass.SKY) assertEquals(0f, d);
            }
            // The ground plane gets nearer towards the bottom: the bottom row is brighter than the horizon row.
            int w = s.width();
            float top = Float.MAX_VALUE;
            for (int i = 0; i < s.seg().length; i++) {
                if (s.seg()[i] == s.ground().toyClass().ordinal() || s.seg()[i] == ToyClass.WATER.ordinal()) top = Math.min(top, s.depth()[i]);
            }
            float bottom = 0;
            for (int x = 0; x < w; x++) bottom = Math.max(bottom, s.depth()[(s.height() - 1) * w + x]);
            assertTrue(bottom > top + 0.5f, "ground depth ramp, seed " + seed);
        }
    }

    @Test
    void noEmptyOrDegenerateSceneInTenThousandSeeds() {
        int[] count = new int[ToyClass.count()];
        for (long seed = 0; seed < 10_000; seed++) {
            Scene s = ToyWorld.sample(seed);
            assertFalse(s.objects().isEmpty(), "no object, seed " + seed);
            java.util.Arrays.fill(count, 0);
            for (int c : s.seg()) count[c]++;
            for (int c = 0; c < count.length; c++) {
                assertTrue(count[c] <= 0.95 * s.seg().length, ToyClass.of(c) + " covers " + count[c] + " pixels, seed " + seed);
            }
            int first = s.rgb()[0];
            boolean constant = true;
            for (int v : s.rgb()) if (v != first) { constant = false; break; }
            assertFalse(constant, "constant image, seed " + seed);
            assertEquals(3, s.captions().size());
            for (String c : s.captions()) assertFalse(c.isBlank());
        }
    }

    @Test
    void allClassesOccurOverManySeeds() {
        Set<Integer> seen = new HashSet<>();
        for (long seed = 0; seed < 500; seed++) for (int c : ToyWorld.sample(seed).seg()) seen.add(c);
        assertEquals(ToyClass.count(), seen.size(), "classes seen: " + seen);
    }

    @Test
    void paletteColoursAreFarApartAndDecode() {
        ToyClass[] all = ToyClass.values();
        int min = Integer.MAX_VALUE;
        for (int i = 0; i < all.length; i++) for (int j = i + 1; j < all.length; j++) min = Math.min(min, ToyClass.linf(all[i].colour(), all[j].colour()));
        assertTrue(min >= 64, "min pairwise L-inf palette distance " + min);
        for (ToyClass c : all) {
            int shifted = Rgb.pack(Math.min(1, Rgb.r(c.colour()) + 0.2f), Math.max(0, Rgb.g(c.colour()) - 0.2f), Rgb.b(c.colour()));
            assertEquals(c.ordinal(), ToyClass.decode(shifted, 63), c + " decoded with tolerance");
        }
        assertTrue(ToyClass.count() >= 10 && ToyClass.count() <= 16);
        // the palette as name -> colour, in index order, with an unlabeled colour no class is near
        java.util.List<String> names = new java.util.ArrayList<>(ToyClass.colours().keySet());
        for (ToyClass c : all) {
            assertEquals(c.label(), names.get(c.ordinal()));
            assertEquals(c.colour(), ToyClass.colours().get(c.label()));
            assertEquals(c.isObject(), ToyClass.objectLabels().contains(c.label()), c.label());
            assertTrue(ToyClass.linf(c.colour(), ToyClass.UNLABELED_COLOUR) > 2 * 63, c + " too near the unlabeled colour");
        }
    }

    @Test
    void everySupportedSizeWorks() {
        for (int w = 16; w <= 256; w += 16) {
            Scene s = ToyWorld.sample(w, SceneOptions.square(w));
            assertEquals(w * w, s.rgb().length);
            assertEquals(w * w * 3, s.normals().length);
            assertFalse(s.objects().isEmpty(), "size " + w);
        }
        Scene wide = ToyWorld.sample(3, SceneOptions.defaults().withSize(128, 64));
        assertEquals(128 * 64, wide.seg().length);
        assertEquals(128, wide.image().getWidth());
    }

    @Test
    void invalidSizesAndOptionsAreRejectedClearly() {
        for (int bad : new int[]{0, 8, 15, 17, 100, 272, -16}) {
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> SceneOptions.square(bad));
            assertTrue(e.getMessage().contains("multiple of 16") && e.getMessage().contains(String.valueOf(bad)), e.getMessage());
        }
        assertThrows(IllegalArgumentException.class, () -> SceneOptions.defaults().withObjects(0, 3));
        assertThrows(IllegalArgumentException.class, () -> SceneOptions.defaults().withObjects(3, 2));
        assertThrows(IllegalArgumentException.class, () -> ToyWorld.sample(0, null));
        assertThrows(IllegalArgumentException.class, () -> ToyClass.of(99));
    }

    @Test
    void fixedOptionsAreHonoured() {
        for (long seed = 0; seed < 30; seed++) {
            Scene s = ToyWorld.sample(seed, SceneOptions.defaults().withTime(TimeOfDay.NIGHT).withGround(GroundType.SNOW).withWater(WaterType.SEA));
            assertEquals(TimeOfDay.NIGHT, s.time());
            assertEquals(GroundType.SNOW, s.ground());
            assertTrue(s.classPixels(ToyClass.WATER) > 0 && s.classPixels(ToyClass.SNOW) > 0);
            assertEquals(0, s.classPixels(ToyClass.GRASS) + s.classPixels(ToyClass.SAND));
        }
    }

    @Test
    void streamGivesTheScenesOfConsecutiveSeeds() {
        ToyWorldStream stream = new ToyWorldStream(500, 5, SceneOptions.defaults());
        for (long seed = 500; seed < 505; seed++) {
            assertTrue(stream.hasNext());
            assertArrayEquals(ToyWorld.sample(seed).rgb(), stream.next().rgb());
        }
        assertFalse(stream.hasNext());
        assertThrows(java.util.NoSuchElementException.class, stream::next);
        assertEquals(5, new ToyWorldStream(0, 5, SceneOptions.defaults()).stream().parallel().count());
    }
}
