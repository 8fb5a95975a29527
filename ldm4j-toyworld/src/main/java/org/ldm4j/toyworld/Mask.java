package org.ldm4j.toyworld;

import java.awt.image.BufferedImage;

/** A binary editing mask, row-major; true = the region to edit. */
public record Mask(int width, int height, boolean[] bits) {
    public Mask {
        if (bits.length != width * height) throw new IllegalArgumentException("mask has " + bits.length + " bits, expected " + width + "x" + height);
    }

    public boolean get(int x, int y) { return bits[y * width + x]; }

    public int area() {
        int n = 0;
        for (boolean b : bits) if (b) n++;
        return n;
    }

    /**
     * This mask scaled to {@code w} x {@code h} (nearest neighbour) with its top-left corner at (x0, y0) of a
     * {@code mapWidth} x {@code mapHeight} mask, clipped to it: a {@link EditMasks#silhouette} put where an object
     * is added.
     */
    public Mask placed(int mapWidth, int mapHeight, int x0, int y0, int w, int h) {
        if (w < 1 || h < 1) throw new IllegalArgumentException("placed size must be positive, got " + w + "x" + h);
        boolean[] out = new boolean[mapWidth * mapHeight];
        for (int y = Math.max(0, y0); y < Math.min(mapHeight, y0 + h); y++) {
            int sy = (int) ((y - y0 + 0.5) * height / h);
            for (int x = Math.max(0, x0); x < Math.min(mapWidth, x0 + w); x++) {
                out[y * mapWidth + x] = bits[sy * width + (int) ((x - x0 + 0.5) * width / w)];
            }
        }
        return new Mask(mapWidth, mapHeight, out);
    }

    /** White = masked, black = kept. */
    public BufferedImage image() { return SceneImages.mask(width, height, bits); }
}
