package org.ldm4j.toyworld;

import java.awt.image.BufferedImage;

/** Conversions from scene arrays to images (TYPE_INT_RGB, or TYPE_BYTE_GRAY for single-channel maps). */
public final class SceneImages {
    private SceneImages() {}

    public static BufferedImage rgb(int w, int h, int[] rgb) {
        BufferedImage img = new BufferedImage(w, h, BufferedImage.TYPE_INT_RGB);
        img.setRGB(0, 0, w, h, rgb, 0, w);
        return img;
    }

    public static BufferedImage segColour(int w, int h, int[] seg) {
        int[] c = new int[seg.length];
        for (int i = 0; i < seg.length; i++) c[i] = ToyClass.of(seg[i]).colour();
        return rgb(w, h, c);
    }

    /** 8-bit grey from values 0..255 (class indices). */
    public static BufferedImage grey(int w, int h, int[] values) {
        BufferedImage img = new BufferedImage(w, h, BufferedImage.TYPE_BYTE_GRAY);
        byte[] px = ((java.awt.image.DataBufferByte) img.getRaster().getDataBuffer()).getData();
        for (int i = 0; i < values.length; i++) px[i] = (byte) values[i];
        return img;
    }

    public static BufferedImage depth(int w, int h, float[] depth) {
        int[] v = new int[depth.length];
        for (int i = 0; i < depth.length; i++) v[i] = Math.round(Math.max(0, Math.min(1, depth[i])) * 255);
        return grey(w, h, v);
    }

    public static BufferedImage sketch(int w, int h, boolean[] lines) {
        int[] v = new int[lines.length];
        for (int i = 0; i < lines.length; i++) v[i] = lines[i] ? 255 : 0;
        return grey(w, h, v);
    }

    public static BufferedImage normals(int w, int h, float[] n) {
        int[] c = new int[w * h];
        for (int i = 0; i < c.length; i++) {
            c[i] = Rgb.pack((n[3 * i] + 1) / 2, (n[3 * i + 1] + 1) / 2, (n[3 * i + 2] + 1) / 2);
        }
        return rgb(w, h, c);
    }

    public static BufferedImage mask(int w, int h, boolean[] bits) { return sketch(w, h, bits); }
}
