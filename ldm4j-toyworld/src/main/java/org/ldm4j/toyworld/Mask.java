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

    /** White = masked, black = kept. */
    public BufferedImage image() { return SceneImages.mask(width, height, bits); }
}
