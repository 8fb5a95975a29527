package org.ldm4j.toyworld.eval;

/**
 * PSNR and SSIM of 8-bit RGB images, optionally restricted to a region (the pixels an edit must leave alone).
 *
 * <p>Pixels are scaled to [0, 1] (data range L = 1). SSIM follows Wang et al. 2004 ("Image quality assessment:
 * from error visibility to structural similarity"): an 11x11 Gaussian window with σ = 1.5, K1 = 0.01, K2 = 0.03,
 * computed per channel on windows that fit inside the image (the reference MATLAB code's 'valid' filtering) and
 * averaged over window centres and channels. With a region, only centres inside the region are averaged.
 */
public final class ImageQuality {
    private static final int SSIM_RADIUS = 5;
    private static final double SSIM_SIGMA = 1.5;
    private static final double C1 = 0.01 * 0.01, C2 = 0.03 * 0.03;
    private static final double MAX_PSNR = 100.0;

    private ImageQuality() {}

    /** Packed 0xRRGGBB pixels as three [0, 1] planes. */
    public static float[][] planes(int[] rgb) {
        float[][] out = new float[3][rgb.length];
        for (int i = 0; i < rgb.length; i++) {
            out[0][i] = ((rgb[i] >> 16) & 255) / 255f;
            out[1][i] = ((rgb[i] >> 8) & 255) / 255f;
            out[2][i] = (rgb[i] & 255) / 255f;
        }
        return out;
    }

    /** Mean squared difference over the region (all pixels if null) and channels, in [0, 1] units. */
    public static double mse(float[][] a, float[][] b, boolean[] region) {
        double sum = 0;
        long n = 0;
        for (int c = 0; c < a.length; c++) {
            for (int i = 0; i < a[c].length; i++) {
                if (region != null && !region[i]) continue;
                double d = a[c][i] - b[c][i];
                sum += d * d;
                n++;
            }
        }
        if (n == 0) throw new IllegalArgumentException("the region is empty");
        return sum / n;
    }

    /** PSNR in dB (capped at 100 dB for identical images). */
    public static double psnr(int[] a, int[] b, boolean[] region) {
        check(a, b, region);
        return psnrOfMse(mse(planes(a), planes(b), region));
    }

    public static double psnrOfMse(double mse) {
        return mse <= 0 ? MAX_PSNR : Math.min(MAX_PSNR, 10 * Math.log10(1.0 / mse));
    }

    /**
     * Texture energy: the mean absolute 4-neighbour Laplacian of the luminance (0.299 R + 0.587 G + 0.114 B, in [0, 1])
     * over interior pixels. Flat colour fields score 0 inside and only their edges count, so a flat stroke painting
     * scores far below a textured scene of the same layout; the ratio of a generator's mean to real scenes' mean says
     * whether it makes texture or paints flat regions.
     */
    public static double textureEnergy(int[] rgb, int width, int height) {
        if (rgb.length != width * height) throw new IllegalArgumentException("image has " + rgb.length + " pixels, expected " + width + "x" + height);
        if (width < 3 || height < 3) throw new IllegalArgumentException("texture energy needs at least 3x3 pixels, got " + width + "x" + height);
        double[] y = new double[rgb.length];
        for (int i = 0; i < rgb.length; i++) {
            y[i] = (0.299 * ((rgb[i] >> 16) & 255) + 0.587 * ((rgb[i] >> 8) & 255) + 0.114 * (rgb[i] & 255)) / 255.0;
        }
        double sum = 0;
        for (int r = 1; r < height - 1; r++) {
            for (int c = 1; c < width - 1; c++) {
                int i = r * width + c;
                sum += Math.abs(4 * y[i] - y[i - 1] - y[i + 1] - y[i - width] - y[i + width]);
            }
        }
        return sum / ((double) (width - 2) * (height - 2));
    }

    /** Mean SSIM over window centres in the region (all if null). */
    public static double ssim(int[] a, int[] b, int width, int height, boolean[] region) {
        check(a, b, region);
        if (a.length != width * height) throw new IllegalArgumentException("image has " + a.length + " pixels, expected " + width + "x" + height);
        if (width <= 2 * SSIM_RADIUS || height <= 2 * SSIM_RADIUS) {
            throw new IllegalArgumentException("SSIM needs images larger than 11x11, got " + width + "x" + height);
        }
        float[][] pa = planes(a), pb = planes(b);
        double[] w = gaussianWindow();
        double sum = 0;
        long n = 0;
        int r = SSIM_RADIUS;
        for (int c = 0; c < 3; c++) {
            float[] x = pa[c], y = pb[c];
            for (int cy = r; cy < height - r; cy++) {
                for (int cx = r; cx < width - r; cx++) {
                    if (region != null && !region[cy * width + cx]) continue;
                    double mx = 0, my = 0, xx = 0, yy = 0, xy = 0;
                    for (int dy = -r; dy <= r; dy++) {
                        int row = (cy + dy) * width;
                        double wy = w[dy + r];
                        for (int dx = -r; dx <= r; dx++) {
                            double wk = wy * w[dx + r];
                            double vx = x[row + cx + dx], vy = y[row + cx + dx];
                            mx += wk * vx;
                            my += wk * vy;
                            xx += wk * vx * vx;
                            yy += wk * vy * vy;
                            xy += wk * vx * vy;
                        }
                    }
                    double vx = xx - mx * mx, vy = yy - my * my, cov = xy - mx * my;
                    sum += (2 * mx * my + C1) * (2 * cov + C2) / ((mx * mx + my * my + C1) * (vx + vy + C2));
                    n++;
                }
            }
        }
        if (n == 0) throw new IllegalArgumentException("no SSIM window centre lies in the region");
        return sum / n;
    }

    private static double[] gaussianWindow() {
        double[] w = new double[2 * SSIM_RADIUS + 1];
        double s = 0;
        for (int i = 0; i < w.length; i++) {
            double d = i - SSIM_RADIUS;
            w[i] = Math.exp(-d * d / (2 * SSIM_SIGMA * SSIM_SIGMA));
            s += w[i];
        }
        for (int i = 0; i < w.length; i++) w[i] /= s;
        return w;
    }

    private static void check(int[] a, int[] b, boolean[] region) {
        if (a.length != b.length) throw new IllegalArgumentException("images differ in size: " + a.length + " vs " + b.length + " pixels");
        if (region != null && region.length != a.length) throw new IllegalArgumentException("region has " + region.length + " pixels, images " + a.length);
    }
}
