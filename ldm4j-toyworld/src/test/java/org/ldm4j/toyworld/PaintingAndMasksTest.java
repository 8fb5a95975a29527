package org.ldm4j.toyworld;

import static org.junit.jupiter.api.Assertions.*;

import org.junit.jupiter.api.Test;

class PaintingAndMasksTest {
    @Test
    void paintedPixelsCarryTheirRegionMeanColour() {
        for (long seed = 0; seed < 40; seed++) {
            Scene s = ToyWorld.sample(seed);
            Painting p = s.painting(seed, PaintingOptions.defaults());
            int maxId = 0;
            for (int id : s.instances()) maxId = Math.max(maxId, id);
            long[][] sum = new long[maxId + 1][3];
            int[] n = new int[maxId + 1];
            for (int i = 0; i < s.rgb().length; i++) {
                int id = s.instances()[i], c = s.rgb()[i];
                sum[id][0] += (c >> 16) & 255;
                sum[id][1] += (c >> 8) & 255;
                sum[id][2] += c & 255;
                n[id]++;
            }
            int[] own = new int[maxId + 1];
            for (int i = 0; i < p.rgb().length; i++) {
                assertTrue(p.painted()[i], "default paints everything");
                int id = p.regionOf()[i], c = p.rgb()[i];
                assertEquals(sum[id][0] / (double) n[id], (c >> 16) & 255, 0.51);
                assertEquals(sum[id][1] / (double) n[id], (c >> 8) & 255, 0.51);
                assertEquals(sum[id][2] / (double) n[id], c & 255, 0.51);
                if (id == s.instances()[i]) own[id]++;
            }
            // Jittered strokes still cover most of every large region with its own colour.
            for (int id = 0; id <= maxId; id++) {
                if (n[id] >= 150) assertTrue(own[id] >= 0.7 * n[id], "region " + id + " keeps " + own[id] + "/" + n[id] + ", seed " + seed);
            }
        }
    }

    @Test
    void paintingOptionsControlBackgroundDetailAndNoise() {
        Scene s = ToyWorld.sample(11);
        Painting none = s.painting(1, PaintingOptions.objectsOnly());
        for (int i = 0; i < none.rgb().length; i++) {
            if (!none.painted()[i]) assertEquals(0xFFFFFF, none.rgb()[i]);
            else assertTrue(none.regionOf()[i] >= 16, "only objects painted");
        }
        Painting half = s.painting(1, PaintingOptions.defaults().withBackgroundCoverage(0.5));
        int bg = 0, bgPainted = 0;
        for (int i = 0; i < half.rgb().length; i++) {
            if (s.instances()[i] < 16) { bg++; if (half.painted()[i]) bgPainted++; }
        }
        assertEquals(0.5, bgPainted / (double) bg, 0.2);
        // Jitter moves boundaries; zero jitter keeps them exactly (large regions only, small ones are absorbed).
        Painting exact = s.painting(1, new PaintingOptions(0, 5, 0, 0, 1));
        assertArrayEquals(s.instances(), exact.regionOf());
        Painting wobbly = s.painting(1, PaintingOptions.defaults().withJitter(3));
        assertFalse(java.util.Arrays.equals(s.instances(), wobbly.regionOf()));
        // Details below the size threshold disappear.
        Painting coarse = s.painting(1, new PaintingOptions(0, 5, 100_000, 0, 1));
        assertEquals(1, java.util.Arrays.stream(coarse.regionOf()).distinct().count());
        assertThrows(IllegalArgumentException.class, () -> new PaintingOptions(-1, 5, 0, 0, 1));
        assertThrows(IllegalArgumentException.class, () -> new PaintingOptions(1, 5, 0, 0, 1.5));
        assertArrayEquals(s.painting(9, PaintingOptions.defaults()).rgb(), s.painting(9, PaintingOptions.defaults()).rgb());
    }

    @Test
    void masksAreExactBlobbyOrThin() {
        for (long seed = 0; seed < 30; seed++) {
            Scene s = ToyWorld.sample(seed);
            SceneObject o = s.objects().get(0);
            Mask exact = s.objectMask(o);
            assertEquals(o.pixels(), exact.area());
            Mask blob = EditMasks.blob(s, o, seed, 4);
            for (int i = 0; i < exact.bits().length; i++) if (exact.bits()[i]) assertTrue(blob.bits()[i], "blob contains the object");
            assertTrue(blob.area() > exact.area(), "blob is dilated");
            Mask thin = EditMasks.thin(s, seed, 3);
            int area = thin.area();
            int n = s.width() * s.height();
            assertTrue(area > s.height() && area < 0.2 * n, "thin mask area " + area);
            // Thin: no pixel of the stroke is more than ~2 pixels from its edge.
            float[] toOutside = EditMasks.distanceTo(invert(thin.bits()), s.width(), s.height());
            for (int i = 0; i < n; i++) assertTrue(toOutside[i] <= 2.5f, "stroke too wide at " + i);
        }
        assertThrows(IllegalArgumentException.class, () -> EditMasks.thin(ToyWorld.sample(0), 0, 0));
    }

    /** A silhouette is one whole generated object of the class, cropped to its box; placing it scales it into a map. */
    @Test
    void silhouettesAreTheGeneratorsObjectsCroppedAndPlaceable() {
        for (ToyClass c : ToyClass.objects()) {
            Mask m = EditMasks.silhouette(c, 0);
            assertTrue(m.area() >= 150, c + " area " + m.area());
            boolean top = false, bottom = false, left = false, right = false;   // the crop is tight on every side
            for (int x = 0; x < m.width(); x++) { top |= m.get(x, 0); bottom |= m.get(x, m.height() - 1); }
            for (int y = 0; y < m.height(); y++) { left |= m.get(0, y); right |= m.get(m.width() - 1, y); }
            assertTrue(top && bottom && left && right, c + " crop");
            assertArrayEquals(m.bits(), EditMasks.silhouette(c, 0).bits(), c + " is the same for the same seed");
        }
        // a house is walls under a roof: its top row is narrower than its widest row, unlike a filled rectangle
        Mask house = EditMasks.silhouette(ToyClass.HOUSE, 0);
        int topRow = 0, widest = 0;
        for (int y = 0; y < house.height(); y++) {
            int n = 0;
            for (int x = 0; x < house.width(); x++) if (house.get(x, y)) n++;
            if (y == 0) topRow = n;
            widest = Math.max(widest, n);
        }
        assertTrue(topRow < widest / 2, "roof " + topRow + " vs walls " + widest);
        assertThrows(IllegalArgumentException.class, () -> EditMasks.silhouette(ToyClass.GRASS, 0));

        Mask placed = house.placed(64, 64, 50, 10, 20, 16);   // partly off the right edge
        for (int y = 0; y < 64; y++) {
            for (int x = 0; x < 64; x++) {
                boolean inside = x >= 50 && y >= 10 && y < 26;
                if (!inside) assertFalse(placed.get(x, y), x + "," + y);
            }
        }
        assertTrue(placed.get(50 + 10, 10 + 15), "the walls' bottom centre");
        Mask same = house.placed(house.width(), house.height(), 0, 0, house.width(), house.height());
        assertArrayEquals(house.bits(), same.bits(), "placed at its own size it is itself");
    }

    private static boolean[] invert(boolean[] b) {
        boolean[] out = new boolean[b.length];
        for (int i = 0; i < b.length; i++) out[i] = !b[i];
        return out;
    }
}
