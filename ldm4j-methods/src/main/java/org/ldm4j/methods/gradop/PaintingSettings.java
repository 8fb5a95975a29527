package org.ldm4j.methods.gradop;

import java.util.List;

/**
 * Which painting function f GradOP uses and its parameters. Defaults are the official code's: a 35x35 Gaussian blur
 * with sigma 7 at 512x512 (kornia 0.6.0 {@code gaussian_blur2d}, reflect padding).
 *
 * @param function           {@value PaintingFunction#BLUR} or {@value PaintingFunction#MEDIAN_PALETTE}
 * @param blurKernel         Gaussian kernel side in pixels, odd (35)
 * @param blurSigma          Gaussian sigma in pixels (7)
 * @param medianSize         median window side in pixels, odd; 0 = about 1/57 of the shorter image side (9 at 512)
 * @param paletteColours     at most this many palette colours, the painting's most frequent ones (16)
 * @param paletteMinCoverage a palette colour must cover at least this fraction of the painting (0.005): drops the
 *                           in-between colours of anti-aliased edges
 */
public record PaintingSettings(String function, int blurKernel, double blurSigma, int medianSize, int paletteColours,
                               double paletteMinCoverage) {
    public static final List<String> FUNCTIONS = List.of(PaintingFunction.BLUR, PaintingFunction.MEDIAN_PALETTE);

    /** The official f: Gaussian blur 35x35, sigma 7. */
    public static PaintingSettings official() {
        return new PaintingSettings(PaintingFunction.BLUR, 35, 7.0, 0, 16, 0.005);
    }

    public PaintingSettings withFunction(String name) {
        return new PaintingSettings(name, blurKernel, blurSigma, medianSize, paletteColours, paletteMinCoverage);
    }

    public PaintingSettings withBlur(int kernel, double sigma) {
        return new PaintingSettings(function, kernel, sigma, medianSize, paletteColours, paletteMinCoverage);
    }

    public PaintingSettings withMedian(int size, int colours) {
        return new PaintingSettings(function, blurKernel, blurSigma, size, colours, paletteMinCoverage);
    }

    /** Each problem is an IllegalArgumentException naming the parameter. */
    public PaintingSettings validate() {
        if (function == null || !FUNCTIONS.contains(function)) {
            throw new IllegalArgumentException("unknown painting function '" + function + "' (expected one of " + FUNCTIONS + ")");
        }
        if (blurKernel < 1 || blurKernel % 2 == 0) throw new IllegalArgumentException("blur kernel must be odd and >= 1, got " + blurKernel);
        if (!(blurSigma > 0)) throw new IllegalArgumentException("blur sigma must be > 0, got " + blurSigma);
        if (medianSize < 0 || (medianSize > 0 && medianSize % 2 == 0)) {
            throw new IllegalArgumentException("median size must be odd (or 0 = automatic), got " + medianSize);
        }
        if (paletteColours < 1) throw new IllegalArgumentException("palette colours must be >= 1, got " + paletteColours);
        if (!(paletteMinCoverage >= 0 && paletteMinCoverage < 1)) {
            throw new IllegalArgumentException("palette min coverage must be in [0, 1), got " + paletteMinCoverage);
        }
        return this;
    }
}
