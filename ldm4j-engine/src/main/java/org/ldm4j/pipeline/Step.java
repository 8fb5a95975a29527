package org.ldm4j.pipeline;

/**
 * Where a denoising loop is: step {@code index} of {@code count} (0 = noisiest), at model timestep {@code t}.
 * {@code first} is the index the run started from (img2img and SDEdit start part-way).
 */
public record Step(int index, double t, int count, int first) {
    /** Fraction of the run done before this step, in [0, 1). */
    public double progress() { return count == 0 ? 1 : (double) index / count; }
}
