package org.ldm4j.methods.fgdm;

import org.junit.jupiter.api.Test;

import java.awt.image.BufferedImage;
import java.util.List;
import java.util.Set;

import static org.junit.jupiter.api.Assertions.*;

/** Palette decoding, regions and every map edit on small constructed maps. */
class MapEditsTest {
    static final int SKY = 0, GRASS = 1, HOUSE = 2, TREE = 3;
    static final Palette PALETTE = Palette.of(List.of(
            new Palette.Entry("sky", 0x0080FF, false), new Palette.Entry("grass", 0x00FF00, false),
            new Palette.Entry("house", 0xFF0000, true), new Palette.Entry("tree", 0x008000, true)), 0x000000);

    /** 16x16: sky rows 0-7, grass rows 8-15. */
    static ClassMap skyAndGrass() {
        int[] l = new int[256];
        for (int i = 0; i < 256; i++) l[i] = i / 16 < 8 ? SKY : GRASS;
        return new ClassMap(16, 16, l);
    }

    static ClassMap paint(ClassMap m, int x0, int y0, int x1, int y1, int cls) {
        return MapEdits.add(m, Shapes.rectangle(m.width(), m.height(), x0, y0, x1, y1), cls);
    }

    /** A decoder's border of sun and cloud reads as a rim of moon (its colour is their midpoint): filled; a moon body stays. */
    @Test void blendRimsAreFilledFromTheirSurroundingsAndBodiesStay() {
        int sky = 0, cloud = 1, sun = 2, moon = 3, grass = 4;
        Palette p = Palette.of(List.of(new Palette.Entry("sky", 0x0080FF, false), new Palette.Entry("cloud", 0xFFFFFF, false),
                new Palette.Entry("sun", 0xFFFF00, false), new Palette.Entry("moon", 0xFFFF80, false),
                new Palette.Entry("grass", 0x00FF00, false)), 0x000000);
        int[] l = new int[16 * 16];
        java.util.Arrays.fill(l, sky);
        ClassMap m = new ClassMap(16, 16, l);
        m = paint(m, 0, 12, 15, 15, grass);
        m = paint(m, 0, 0, 5, 5, cloud);
        m = paint(m, 0, 0, 3, 3, sun);                        // a sun inside the cloud ...
        m = MapEdits.add(m, corner(4), moon);                 // ... with a moon-coloured rim between them
        m = paint(m, 10, 2, 13, 5, moon);                     // a 4x4 moon in the sky: a body, with an inside
        m = paint(m, 0, 11, 15, 11, moon);                    // a moon line between sky and grass: not their midpoint
        ClassMap cleaned = MapEdits.removeBlendRims(m, p, 0.85);
        for (int y = 0; y <= 4; y++) {
            for (int x = 0; x <= 4; x++) assertNotEquals(moon, cleaned.get(x, y), "the rim at " + x + "," + y + " is gone");
        }
        assertTrue(cleaned.get(4, 1) == sun || cleaned.get(4, 1) == cloud, "filled from the classes around it");
        assertEquals(32, cleaned.area(moon), "the body (16 px) and the sky/grass line (16 px) stay");
        assertTrue(MapEdits.isBlendOf(p, moon, Set.of(sun, cloud)));
        assertFalse(MapEdits.isBlendOf(p, moon, Set.of(sky, grass)));
        assertThrows(IllegalArgumentException.class, () -> MapEdits.removeBlendRims(skyAndGrass(), p, 0));
    }

    /** Column k rows 0..k and row k columns 0..k of a 16x16 map: an L around the top-left k x k square. */
    static boolean[] corner(int k) {
        boolean[] b = new boolean[256];
        for (int i = 0; i <= k; i++) b[i * 16 + k] = b[k * 16 + i] = true;
        return b;
    }

    @Test void paletteDecodingUsesAPerChannelToleranceAndLeavesTheRestUnlabeled() {
        BufferedImage img = new BufferedImage(4, 1, BufferedImage.TYPE_INT_RGB);
        img.setRGB(0, 0, 0xFF0000);               // house exactly
        img.setRGB(1, 0, 0xE4_1C_1C);             // house, every channel off by 27 / 28
        img.setRGB(2, 0, 0xE3_00_00);             // red off by 28... plus 0 -> still house at tolerance 28
        img.setRGB(3, 0, 0x80_40_40);             // far from everything
        ClassMap m = SegmentationMaps.decode(img, PALETTE, 28);
        assertArrayEquals(new int[]{HOUSE, HOUSE, HOUSE, ClassMap.UNLABELED}, m.labels());
        img.setRGB(1, 0, 0xE0_00_00);             // off by 31 in red
        assertEquals(ClassMap.UNLABELED, SegmentationMaps.decode(img, PALETTE, 28).labels()[1]);
        assertEquals(HOUSE, SegmentationMaps.decode(img, PALETTE, 31).labels()[1]);
        assertEquals(127, PALETTE.minDistance(), "grass #00ff00 vs tree #008000");
        // round trip through colours
        ClassMap scene = paint(skyAndGrass(), 3, 3, 6, 6, HOUSE);
        assertEquals(scene, SegmentationMaps.decode(scene.toImage(PALETTE), PALETTE, 0));
    }

    @Test void decodeBeforeResizeKeepsOnlyPaletteColours() {
        ClassMap scene = paint(skyAndGrass(), 3, 3, 6, 6, HOUSE);
        ClassMap big = scene.resizeNearest(32, 32);
        assertEquals(4 * scene.area(HOUSE), big.area(HOUSE));
        assertEquals(Set.of(SKY, GRASS, HOUSE), big.areas().keySet());
        float[] hint = org.ldm4j.nn.Tensors.toFloats(SegmentationMaps.hint(scene, PALETTE, 32, 32));
        for (int i = 0; i < 32 * 32; i++) {
            int rgb = (Math.round(hint[i] * 255) << 16) | (Math.round(hint[1024 + i] * 255) << 8) | Math.round(hint[2048 + i] * 255);
            assertNotEquals(ClassMap.UNLABELED, PALETTE.decode(rgb, 0), "hint pixel " + i + " has a colour of no class");
        }
    }

    @Test void smallRegionsAreFilledFromTheirSurroundingsAndLargeOnesStay() {
        ClassMap m = paint(skyAndGrass(), 3, 10, 6, 13, HOUSE);      // a 4x4 house (16 px) in the grass
        m = paint(m, 10, 3, 10, 3, HOUSE);                          // a one-pixel house speck in the sky
        m = paint(m, 12, 12, 13, 12, TREE);                          // a two-pixel tree speck in the grass
        m = paint(m, 14, 14, 14, 14, TREE);                          // a one-pixel tree, not touching the other
        int[] l = m.labels().clone();
        l[0] = ClassMap.UNLABELED;                                  // unlabeled pixels are no region and stay
        ClassMap specks = new ClassMap(16, 16, l);
        ClassMap cleaned = MapEdits.removeSmallRegions(specks, 3);
        assertEquals(16, cleaned.area(HOUSE), "the 16-pixel house stays, the speck goes");
        assertEquals(SKY, cleaned.get(10, 3));
        assertEquals(0, cleaned.area(TREE), "both tree specks are below 3 pixels");
        assertEquals(GRASS, cleaned.get(12, 12));
        assertEquals(ClassMap.UNLABELED, cleaned.get(0, 0));
        assertEquals(SKY, cleaned.get(1, 0), "the sky around the unlabeled pixel is one large region");
        assertEquals(specks, MapEdits.removeSmallRegions(specks, 1), "nothing is smaller than one pixel");
        assertEquals(2, MapEdits.removeSmallRegions(specks, 2).area(TREE), "the two-pixel tree is kept at 2, the one-pixel one not");
        assertEquals(16, MapEdits.removeSmallRegions(specks, 16).area(HOUSE));
        assertEquals(0, MapEdits.removeSmallRegions(specks, 17).area(HOUSE));
        assertThrows(IllegalArgumentException.class, () -> MapEdits.removeSmallRegions(specks, -1));
    }

    @Test void regionsAreEightConnectedComponentsOfOneClass() {
        ClassMap m = paint(paint(skyAndGrass(), 2, 2, 3, 3, HOUSE), 4, 4, 5, 5, HOUSE);   // touching diagonally
        m = paint(m, 10, 2, 11, 3, HOUSE);                                               // separate
        Region r = Region.at(m, 2, 2);
        assertEquals(HOUSE, r.classId());
        assertEquals(8, r.area(), "the diagonal neighbour belongs to the component");
        assertFalse(r.contains(10, 2));
        assertEquals(4.0, r.centroidX(), 1e-9, "mean of the pixel centres");
    }

    @Test void moveWithAndWithoutClearingTheOldPlace() {
        ClassMap m = paint(skyAndGrass(), 2, 2, 4, 4, HOUSE);
        Region house = Region.at(m, 3, 3);
        ClassMap moved = MapEdits.move(m, house, 8, 1, true);
        assertEquals(9, moved.area(HOUSE));
        for (int y = 3; y <= 5; y++) for (int x = 10; x <= 12; x++) assertEquals(HOUSE, moved.get(x, y), "new place " + x + "," + y);
        for (int y = 2; y <= 4; y++) for (int x = 2; x <= 4; x++) assertEquals(SKY, moved.get(x, y), "old place filled with sky");
        ClassMap copied = MapEdits.move(m, house, 8, 1, false);
        assertEquals(18, copied.area(HOUSE), "the official editor leaves the old copy");
        ClassMap edge = MapEdits.move(m, house, 12, 0, true);
        assertEquals(6, edge.area(HOUSE), "columns 14-15 stay, column 16 is off the map");
        assertEquals(9, m.area(HOUSE), "input untouched");
    }

    @Test void removeFillsFromTheSurroundingClassesNotUnlabeled() {
        ClassMap m = paint(skyAndGrass(), 6, 6, 9, 9, HOUSE);   // straddles the sky/grass line at row 8
        ClassMap removed = MapEdits.remove(m, Region.at(m, 7, 7));
        assertEquals(skyAndGrass(), removed, "rows 6-7 become sky, rows 8-9 grass");
        ClassMap whole = ClassMap.filled(4, 4, TREE);
        assertEquals(16, MapEdits.remove(whole, Region.at(whole, 0, 0)).area(ClassMap.UNLABELED), "nothing around: unlabeled");
    }

    /**
     * A generated map's blurred rim (unlabeled around a one-pixel-wide tree on grass): filled plainly, the rim takes
     * the majority around it (grass) and the tree stays a line; objects first, the rim joins the tree. The hint
     * renderer with the fill draws no unlabeled colour; without it the rim stays black.
     */
    @Test void fillingUnlabeledPixelsObjectsFirstGivesAnObjectsRimToTheObject() {
        ClassMap m = paint(paint(skyAndGrass(), 6, 9, 8, 14, ClassMap.UNLABELED), 7, 9, 7, 14, TREE);
        assertEquals(6, m.area(TREE));
        assertEquals(12, m.area(ClassMap.UNLABELED));
        boolean[] holes = m.mask(ClassMap.UNLABELED);
        assertEquals(12, countTrue(holes));
        ClassMap plain = MapEdits.fill(m, holes), objectsFirst = MapEdits.fill(m, holes, PALETTE::isObject);
        assertEquals(6, plain.area(TREE), "plain: the rim goes to the grass around it");
        assertEquals(18, objectsFirst.area(TREE), "objects first: the rim joins the tree");
        assertEquals(0, objectsFirst.area(ClassMap.UNLABELED));
        assertEquals(plain, MapEdits.fill(m, holes, l -> false), "no preferred class is the plain fill");

        org.bytedeco.pytorch.Tensor generated = SegmentationMaps.toImageTensor(m, PALETTE);
        for (boolean fill : new boolean[]{false, true}) {
            float[] hint = org.ldm4j.nn.Tensors.toFloats(HintRenderer.segmentation(PALETTE, 28, fill).render(generated, 16, 16));
            int black = 0, tree = 0;
            for (int i = 0; i < 256; i++) {
                int rgb = (Math.round(hint[i] * 255) << 16) | (Math.round(hint[256 + i] * 255) << 8) | Math.round(hint[512 + i] * 255);
                if (rgb == PALETTE.colour(ClassMap.UNLABELED)) black++;
                if (rgb == PALETTE.colour(TREE)) tree++;
            }
            assertEquals(fill ? 0 : 12, black, "unlabeled hint pixels, fill " + fill);
            assertEquals(fill ? 18 : 6, tree, "tree hint pixels, fill " + fill);
        }
    }

    private static int countTrue(boolean[] b) {
        int n = 0;
        for (boolean v : b) if (v) n++;
        return n;
    }

    @Test void flipMirrorsAboutTheCentroid() {
        ClassMap m = skyAndGrass();
        m = paint(m, 2, 2, 4, 2, HOUSE);
        m = paint(m, 2, 3, 2, 3, HOUSE);                        // an L: foot on the left, centroid x = 3.25
        ClassMap flipped = MapEdits.flip(m, Region.at(m, 2, 2), MapEdits.Axis.HORIZONTAL);
        ClassMap expected = paint(paint(skyAndGrass(), 2, 2, 4, 2, HOUSE), 4, 3, 4, 3, HOUSE);   // foot on the right
        assertEquals(expected, flipped);
        ClassMap up = MapEdits.flip(m, Region.at(m, 2, 2), MapEdits.Axis.VERTICAL);
        assertEquals(paint(paint(skyAndGrass(), 2, 3, 4, 3, HOUSE), 2, 2, 2, 2, HOUSE), up);
    }

    @Test void resizeScalesAboutTheCentroidAndFillsWhatShrinks() {
        ClassMap m = paint(skyAndGrass(), 4, 2, 7, 5, HOUSE);   // 4x4, centroid (6, 4)
        ClassMap big = MapEdits.resize(m, Region.at(m, 5, 3), 2.0);
        assertEquals(64, big.area(HOUSE));
        Region r = Region.at(big, 6, 4);
        assertEquals(2, r.minX());
        assertEquals(9, r.maxX());
        assertEquals(0, r.minY());
        assertEquals(7, r.maxY());
        ClassMap small = MapEdits.resize(m, Region.at(m, 5, 3), 0.5);
        assertEquals(4, small.area(HOUSE));
        assertEquals(HOUSE, small.get(5, 3));
        assertEquals(HOUSE, small.get(6, 4));
        assertEquals(SKY, small.get(4, 2), "the shrunk-away corner is sky again");
        assertThrows(IllegalArgumentException.class, () -> MapEdits.resize(m, Region.at(m, 5, 3), 0));
    }

    @Test void addPaintsShapesAndStrokes() {
        ClassMap m = skyAndGrass();
        ClassMap tree = MapEdits.add(m, Shapes.ellipse(16, 16, 8, 8, 3, 3), TREE);
        assertEquals(TREE, tree.get(8, 8));
        assertEquals(GRASS, tree.get(8, 12));
        assertEquals(32, tree.area(TREE), "pixel centres within radius 3: 8 per quadrant");
        ClassMap line = MapEdits.add(m, Shapes.stroke(16, 16, new int[][]{{1, 1}, {14, 1}}, 0.5), HOUSE);
        assertEquals(14, line.area(HOUSE), "a one-pixel stroke from x=1 to 14 on row 1");
    }

    @Test void depthReorderSwapsMeansAndKeepsRelief() {
        float[] v = new float[16 * 16];
        for (int i = 0; i < v.length; i++) v[i] = 0.5f;
        boolean[] near = Shapes.rectangle(16, 16, 1, 1, 4, 4), far = Shapes.rectangle(16, 16, 8, 8, 11, 11);
        for (int i = 0; i < v.length; i++) {
            if (near[i]) v[i] = 0.8f + 0.01f * (i % 16);
            if (far[i]) v[i] = 0.2f;
        }
        DepthMap d = new DepthMap(16, 16, v);
        DepthMap swapped = DepthEdits.swap(d, near, far);
        assertEquals(DepthEdits.mean(d, far), DepthEdits.mean(swapped, near), 1e-5);
        assertEquals(DepthEdits.mean(d, near), DepthEdits.mean(swapped, far), 1e-5);
        assertEquals(0.01f, swapped.get(2, 1) - swapped.get(1, 1), 1e-5, "relief kept");
        assertEquals(0.5f, swapped.get(15, 0));
        boolean[] picked = DepthEdits.regionAt(d, 9, 9, 0.05f);
        int count = 0;
        for (boolean b : picked) if (b) count++;
        assertEquals(16, count, "the far square alone: a 0.3 depth edge stops the flood");
        assertThrows(IllegalArgumentException.class, () -> DepthEdits.swap(d, near, near));
    }

    /** A grey depth image's samples are the depth: no linear-to-sRGB curve (what Java's getRGB applies to grey). */
    @Test void depthMapsReadGreyImagesAsTheirSamples() {
        BufferedImage grey = new BufferedImage(3, 1, BufferedImage.TYPE_BYTE_GRAY);
        grey.getRaster().setSamples(0, 0, 3, 1, 0, new int[]{0, 64, 255});
        assertArrayEquals(new float[]{0f, 64 / 255f, 1f}, DepthMap.fromImage(grey).values(), 1e-6f);
        BufferedImage grey16 = new BufferedImage(2, 1, BufferedImage.TYPE_USHORT_GRAY);
        grey16.getRaster().setSamples(0, 0, 2, 1, 0, new int[]{0, 32768});
        assertArrayEquals(new float[]{0f, 32768 / 65535f}, DepthMap.fromImage(grey16).values(), 1e-6f);
        BufferedImage rgb = new BufferedImage(1, 1, BufferedImage.TYPE_INT_RGB);
        rgb.setRGB(0, 0, 0x404040);
        assertEquals(64 / 255f, DepthMap.fromImage(rgb).values()[0], 1e-6f);
    }

    /** A text edit keeps the original class wherever the edit's decode agrees with the edit-free round trip. */
    @Test void textEditsKeepTheOriginalWhereTheEditChangedNothing() {
        ClassMap original = new ClassMap(4, 1, new int[]{1, 2, 3, 4});
        ClassMap roundTrip = new ClassMap(4, 1, new int[]{1, 9, 3, 4});    // the VAE moved pixel 1
        ClassMap edit = new ClassMap(4, 1, new int[]{1, 9, 7, 4});         // the edit changed pixel 2
        assertArrayEquals(new int[]{1, 2, 7, 4}, MapTextEdit.keepUnedited(original, roundTrip, edit).labels());
        assertThrows(IllegalArgumentException.class, () -> MapTextEdit.keepUnedited(original, new ClassMap(2, 1, new int[]{1, 2}), edit));
    }

    @Test void objectRecallCountsNamedObjectsAboveTheAreaThreshold() {
        ClassMap m = paint(skyAndGrass(), 2, 2, 5, 5, HOUSE);   // 16 px = 6.25%
        m = paint(m, 10, 10, 10, 10, TREE);                      // 1 px = 0.4%
        Set<Integer> wanted = ObjectRecall.namedIn("Two houses and a tree by the lake", PALETTE, true);
        assertEquals(Set.of(HOUSE, TREE), wanted);
        assertEquals(1.0, new ObjectRecall(wanted, 0.0).score(m));
        assertEquals(0.5, new ObjectRecall(wanted, 0.01).score(m), "a one-pixel tree is not an object");
        assertEquals(1.0, new ObjectRecall(Set.of(), 0.01).score(m));
        assertEquals(Set.of(SKY, GRASS, HOUSE), ObjectRecall.present(m, 0.01));
    }

    @Test void aPaletteFromANameToColourMapKeepsItsOrder() {
        java.util.Map<String, Integer> colours = new java.util.LinkedHashMap<>();
        colours.put("Sky", 0x0080FF);
        colours.put("grass", 0x00FF00);
        colours.put("house", 0xFF0000);
        colours.put("tree", 0x008000);
        assertEquals(PALETTE, Palette.of(colours, List.of("house", "tree"), 0x000000));
        var e = assertThrows(IllegalArgumentException.class, () -> Palette.of(colours, List.of("car"), 0x000000));
        assertTrue(e.getMessage().contains("'car'"), e.getMessage());
    }

    @Test void badInputsAreClearErrors() {
        ClassMap m = skyAndGrass();
        var e = assertThrows(IllegalArgumentException.class, () -> Region.at(m, 16, 3));
        assertTrue(e.getMessage().contains("outside the 16x16 map"), e.getMessage());
        ClassMap holes = MapEdits.add(m, Shapes.rectangle(16, 16, 0, 0, 1, 1), ClassMap.UNLABELED);
        e = assertThrows(IllegalArgumentException.class, () -> Region.at(holes, 0, 0));
        assertTrue(e.getMessage().contains("on no region"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> PALETTE.classOf("dragon"));
        assertTrue(e.getMessage().contains("unknown class 'dragon'"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> Palette.of(List.of(new Palette.Entry("a", 0x000000, false)), 0x000000));
        assertTrue(e.getMessage().contains("unlabeled colour"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> MapEdits.remove(ClassMap.filled(8, 8, 0), Region.at(m, 0, 0)));
        assertTrue(e.getMessage().contains("16x16"), e.getMessage());
    }
}
