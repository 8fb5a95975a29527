package org.ldm4j.image;

import java.awt.color.ColorSpace;
import java.awt.image.BufferedImage;
import java.awt.image.ColorModel;
import java.awt.image.IndexColorModel;
import java.awt.image.Raster;

/**
 * Raw pixel samples of any {@link BufferedImage} as RGBA on a 0..255 float scale (16-bit samples keep their
 * precision). Samples are taken as stored, like PIL does: no colour-space or gamma conversion. That matters for
 * grey PNGs, which Java tags as linear grey and {@code getRGB} would convert to brighter sRGB values.
 */
final class Pixels {
    private Pixels() {}

    /** {@code [r, g, b, a]} per pixel, row-major; alpha is 255 where the image has none. */
    static float[] rgba8(BufferedImage img) {
        int w = img.getWidth(), h = img.getHeight();
        float[] out = new float[4 * w * h];
        ColorModel cm = img.getColorModel();
        int csType = cm.getColorSpace().getType();
        boolean direct = !(cm instanceof IndexColorModel) && !cm.isAlphaPremultiplied()
                && (csType == ColorSpace.TYPE_RGB || csType == ColorSpace.TYPE_GRAY);
        if (!direct) {   // palettes, premultiplied or exotic colour spaces: the colour model's own 8-bit answer
            int[] argb = img.getRGB(0, 0, w, h, null, 0, w);
            for (int i = 0; i < w * h; i++) {
                out[4 * i] = (argb[i] >> 16) & 0xFF;
                out[4 * i + 1] = (argb[i] >> 8) & 0xFF;
                out[4 * i + 2] = argb[i] & 0xFF;
                out[4 * i + 3] = (argb[i] >>> 24) & 0xFF;
            }
            return out;
        }
        Raster raster = img.getRaster();
        int colours = cm.getNumColorComponents(), bands = raster.getNumBands();
        boolean alpha = cm.hasAlpha();
        float[] scale = new float[bands];
        for (int b = 0; b < bands; b++) scale[b] = 255f / (float) ((1L << cm.getComponentSize(b)) - 1);
        int[] row = new int[w * bands];
        for (int y = 0; y < h; y++) {
            raster.getPixels(raster.getMinX(), raster.getMinY() + y, w, 1, row);
            for (int x = 0; x < w; x++) {
                int i = 4 * (y * w + x), s = x * bands;
                if (colours == 1) {
                    float g = row[s] * scale[0];
                    out[i] = g; out[i + 1] = g; out[i + 2] = g;
                } else {
                    for (int c = 0; c < 3; c++) out[i + c] = row[s + c] * scale[c];
                }
                out[i + 3] = alpha ? row[s + colours] * scale[colours] : 255f;
            }
        }
        return out;
    }

    /** Packed RGB of {@code rgba} composited on {@code background}: {@code c·a + bg·(1-a)}, rounded. */
    static int[] compositeRgb(float[] rgba, java.awt.Color background) {
        float[] bg = {background.getRed(), background.getGreen(), background.getBlue()};
        int[] rgb = new int[rgba.length / 4];
        for (int p = 0; p < rgb.length; p++) {
            float a = rgba[4 * p + 3] / 255f;
            int v = 0;
            for (int c = 0; c < 3; c++) v = (v << 8) | Math.round(rgba[4 * p + c] * a + bg[c] * (1f - a));
            rgb[p] = v;
        }
        return rgb;
    }
}
