package org.ldm4j.toyworld.eval;

/**
 * GradOP's painting function f (Singh et al., "High-fidelity guided image synthesis with latent diffusion models",
 * CVPR 2023; shared/design/gradop.md sec. 1.4): a separable Gaussian blur, 35x35 with σ = 7 at 512x512, reflect
 * padding without edge repetition (kornia's default, OpenCV's BORDER_REFLECT_101), on [0, 1] pixels.
 *
 * <p>At other sizes the blur is scaled with the image width so it removes the same relative detail: σ = 7·W/512
 * and radius = max(1, round(17·W/512)). At ToyWorld's 64x64 that is σ = 0.875 with a 5x5 kernel.
 */
public final class PaintingFunction {
    public static final int REFERENCE_SIZE = 512;
    public static final double REFERENCE_SIGMA = 7.0;
    public static final int REFERENCE_RADIUS = 17;

    private final double sigma;
    private final float[] kernel;

    public PaintingFunction(double sigma, int radius) {
        if (sigma <= 0 || radius < 1) throw new IllegalArgumentException("blur needs sigma > 0 and radius >= 1, got " + sigma + ", " + radius);
        this.sigma = sigma;
        this.kernel = new float[2 * radius + 1];
        double sum = 0;
        double[] g = new double[kernel.length];
        for (int i = 0; i < g.length; i++) {
            double d = i - radius;
            g[i] = Math.exp(-d * d / (2 * sigma * sigma));
            sum += g[i];
        }
        for (int i = 0; i < g.length; i++) kernel[i] = (float) (g[i] / sum);
    }

    /** GradOP's blur scaled to an image {@code width} pixels wide. */
    public static PaintingFunction forWidth(int width) {
        double scale = (double) width / REFERENCE_SIZE;
        return new PaintingFunction(REFERENCE_SIGMA * scale, Math.max(1, (int) Math.round(REFERENCE_RADIUS * scale)));
    }

    public double sigma() { return sigma; }

    public float[] kernel() { return kernel.clone(); }

    /** Blurs packed RGB pixels; returns planes [3][H·W] in [0, 1]. */
    public float[][] apply(int[] rgb, int width, int height) { return blur(ImageQuality.planes(rgb), width, height); }

    /** Blurs each plane ([0, 1] values, row-major H·W). */
    public float[][] blur(float[][] planes, int width, int height) {
        int r = kernel.length / 2;
        float[][] out = new float[planes.length][];
        float[] tmp = new float[width * height];
        for (int c = 0; c < planes.length; c++) {
            float[] src = planes[c], dst = new float[width * height];
            for (int y = 0; y < height; y++) {
                for (int x = 0; x < width; x++) {
                    float s = 0;
                    for (int k = -r; k <= r; k++) s += kernel[k + r] * src[y * width + reflect(x + k, width)];
                    tmp[y * width + x] = s;
                }
            }
            for (int y = 0; y < height; y++) {
                for (int x = 0; x < width; x++) {
                    float s = 0;
                    for (int k = -r; k <= r; k++) s += kernel[k + r] * tmp[reflect(y + k, height) * width + x];
                    dst[y * width + x] = s;
                }
            }
            out[c] = dst;
        }
        return out;
    }

    /** Mirror index without repeating the edge (…2 1 | 0 1 2 … n−1 | n−2 …), folded again if the kernel is wider than the image. */
    static int reflect(int i, int n) {
        if (n == 1) return 0;
        int period = 2 * (n - 1);
        int m = Math.floorMod(i, period);
        return m < n ? m : period - m;
    }
}
