package org.ldm4j.image;

import org.junit.jupiter.api.Test;

import java.awt.Color;
import java.awt.image.BufferedImage;
import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.*;

class ImageGridTest {
    static BufferedImage solid(int w, int h, int rgb) {
        BufferedImage img = new BufferedImage(w, h, BufferedImage.TYPE_INT_RGB);
        for (int y = 0; y < h; y++) for (int x = 0; x < w; x++) img.setRGB(x, y, rgb);
        return img;
    }

    @Test void placesImagesRowMajorWithPadding() {
        List<BufferedImage> images = new ArrayList<>();
        for (int i = 0; i < 5; i++) images.add(solid(4, 3, 0x100000 * (i + 1)));
        int bg = 0x00FF00;
        BufferedImage grid = ImageGrid.of(images, 3, 2, 2, new Color(bg));
        assertEquals(2 * 4 + 3 * 2, grid.getWidth());
        assertEquals(3 * 3 + 4 * 2, grid.getHeight());
        for (int i = 0; i < 6; i++) {
            int[] o = ImageGrid.cellOrigin(i, 2, 4, 3, 2);
            int expected = i < 5 ? 0x100000 * (i + 1) : bg;        // cell 5 stays empty
            for (int y = 0; y < 3; y++) for (int x = 0; x < 4; x++) {
                assertEquals(expected, grid.getRGB(o[0] + x, o[1] + y) & 0xFFFFFF, "cell " + i);
            }
        }
        assertArrayEquals(new int[]{2 + 4 + 2, 2 + 2 * (3 + 2)}, ImageGrid.cellOrigin(5, 2, 4, 3, 2));
        assertEquals(bg, grid.getRGB(0, 0) & 0xFFFFFF);
        assertEquals(bg, grid.getRGB(6, 5) & 0xFFFFFF);            // gutter between cells
    }

    @Test void sizesAndErrors() {
        List<BufferedImage> four = List.of(solid(2, 2, 1), solid(2, 2, 2), solid(2, 2, 3), solid(2, 2, 4));
        BufferedImage g = ImageGrid.of(four, 2);
        assertEquals(4, g.getWidth());
        assertEquals(4, g.getHeight());
        assertEquals(3, g.getRGB(0, 2) & 0xFFFFFF);
        assertEquals(3, ImageGrid.squareColumns(9));
        assertEquals(3, ImageGrid.squareColumns(5));
        assertEquals(3, ImageGrid.rowsFor(7, 3));
        assertThrows(IllegalArgumentException.class, () -> ImageGrid.of(four, 1, 3, 0, Color.BLACK));
        assertThrows(IllegalArgumentException.class, () -> ImageGrid.of(List.of(), 1));
        assertThrows(IllegalArgumentException.class, () -> ImageGrid.of(four, 2, 2, -1, Color.BLACK));
    }
}
