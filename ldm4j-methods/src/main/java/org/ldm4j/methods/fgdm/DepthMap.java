package org.ldm4j.methods.fgdm;

import java.awt.color.ColorSpace;
import java.awt.image.BufferedImage;

/**
 * A relative depth map, row-major, values in [0, 1] (FG-DM draws depth min-max normalised as grey; in the MiDaS /
 * ControlNet convention brighter = nearer). Depth edits reorder objects by moving their values.
 */
public record DepthMap(int width, int height, float[] values) {
    public DepthMap {
        if (width <= 0 || height <= 0) throw new IllegalArgumentException("depth map size must be positive, got " + width + "x" + height);
        if (values.length != width * height) {
            throw new IllegalArgumentException("depth map " + width + "x" + height + " needs " + width * height + " values, got " + values.length);
        }
    }

    public float get(int x, int y) { return values[y * width + x]; }

    /**
     * Reads a grey (or grey-as-RGB) depth image: the mean of R, G, B over 255. A grey image's own samples are read
     * (8 or 16 bit): Java's {@code getRGB} would pass them through a linear-to-sRGB curve.
     */
    public static DepthMap fromImage(BufferedImage image) {
        int w = image.getWidth(), h = image.getHeight();
        float[] v = new float[w * h];
        if (image.getColorModel().getColorSpace().getType() == ColorSpace.TYPE_GRAY && image.getRaster().getNumBands() >= 1) {
            float max = (float) ((1L << image.getColorModel().getComponentSize(0)) - 1);
            int[] samples = image.getRaster().getSamples(0, 0, w, h, 0, (int[]) null);
            for (int i = 0; i < v.length; i++) v[i] = samples[i] / max;
            return new DepthMap(w, h, v);
        }
        int[] rgb = image.getRGB(0, 0, w, h, null, 0, w);
        for (int i = 0; i < rgb.length; i++) {
            int p = rgb[i];
            v[i] = (((p >> 16) & 255) + ((p >> 8) & 255) + (p & 255)) / (3f * 255f);
        }
        return new DepthMap(w, h, v);
    }

    /** Grey replicated to three channels, values clamped to [0, 1] and rounded to 8 bits. */
    public BufferedImage toImage() {
        BufferedImage img = new BufferedImage(width, height, BufferedImage.TYPE_INT_RGB);
        int[] rgb = new int[values.length];
        for (int i = 0; i < values.length; i++) {
            int g = Math.round(Math.max(0f, Math.min(1f, values[i])) * 255f);
            rgb[i] = (g << 16) | (g << 8) | g;
        }
        img.setRGB(0, 0, width, height, rgb, 0, width);
        return img;
    }
}
