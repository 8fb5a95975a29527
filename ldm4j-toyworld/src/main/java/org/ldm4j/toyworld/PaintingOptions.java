package org.ldm4j.toyworld;

/**
 * How a simulated user paints a scene (see {@link StrokePainter}).
 *
 * @param boundaryJitter   how far stroke boundaries wander from the true ones, in pixels at 64x64 (scaled with size)
 * @param blobScale        size of the wobbles along boundaries, in pixels at 64x64
 * @param minRegionPixels  regions smaller than this (at 64x64, scaled by area) are not painted: details get lost
 * @param colourNoise      per-stroke colour error, 0..1 (0 = exact region means)
 * @param backgroundCoverage fraction of the background (stuff classes) that gets painted: 1 = all, 0 = none
 *                         (left white); in between, blobby parts of it are painted
 */
public record PaintingOptions(double boundaryJitter, double blobScale, int minRegionPixels, double colourNoise,
                              double backgroundCoverage) {
    public PaintingOptions {
        if (boundaryJitter < 0 || blobScale <= 0 || minRegionPixels < 0 || colourNoise < 0 || colourNoise > 1
                || backgroundCoverage < 0 || backgroundCoverage > 1) {
            throw new IllegalArgumentException("invalid PaintingOptions: jitter " + boundaryJitter + ", blobScale " + blobScale
                    + ", minRegionPixels " + minRegionPixels + ", colourNoise " + colourNoise + ", backgroundCoverage " + backgroundCoverage);
        }
    }

    /** Full painting, moderate jitter, small details dropped. */
    public static PaintingOptions defaults() { return new PaintingOptions(1.5, 5, 12, 0.0, 1.0); }

    /** Objects only, background left white. */
    public static PaintingOptions objectsOnly() { return new PaintingOptions(1.5, 5, 12, 0.0, 0.0); }

    public PaintingOptions withBackgroundCoverage(double c) { return new PaintingOptions(boundaryJitter, blobScale, minRegionPixels, colourNoise, c); }
    public PaintingOptions withJitter(double j) { return new PaintingOptions(j, blobScale, minRegionPixels, colourNoise, backgroundCoverage); }
    public PaintingOptions withColourNoise(double n) { return new PaintingOptions(boundaryJitter, blobScale, minRegionPixels, n, backgroundCoverage); }
}
