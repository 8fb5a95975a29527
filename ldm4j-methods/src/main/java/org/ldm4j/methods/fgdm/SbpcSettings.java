package org.ldm4j.methods.fgdm;

/**
 * Sampling-based prompt compliance settings (paper sec. 4, Table 3).
 *
 * @param samples        N condition samples (seeds seed, seed+1, ...)
 * @param conditionSteps steps of every condition factor while sampling candidates (the paper: 10 or 20); 0 = keep
 *                       each factor's own
 * @param halfResolution sample the candidates at half width and height (the paper finds quarter-area maps lose no
 *                       image quality); the image factor then gets the chosen map resized nearest
 * @param stopAtScore    stop at the first sample scoring at least this (null = always draw all N)
 * @param tolerance      per-channel palette tolerance for decoding the candidates
 * @param batch          candidates denoised together in one UNet call (1 = one at a time). The same candidates up to
 *                       floating-point rounding; on small latents a call costs little more for 10 than for 1
 */
public record SbpcSettings(int samples, int conditionSteps, boolean halfResolution, Double stopAtScore, int tolerance, int batch) {
    /** All N candidates in one batch; one at a time when stopping early (a batch is only checked once it is drawn). */
    public SbpcSettings(int samples, int conditionSteps, boolean halfResolution, Double stopAtScore, int tolerance) {
        this(samples, conditionSteps, halfResolution, stopAtScore, tolerance, stopAtScore != null ? 1 : Math.max(1, samples));
    }

    public SbpcSettings {
        if (batch < 1 || batch > 256) throw new IllegalArgumentException("SBPC batch must be in 1..256, got " + batch);
        if (samples < 1 || samples > 256) throw new IllegalArgumentException("SBPC samples must be in 1..256, got " + samples);
        if (conditionSteps < 0 || conditionSteps > 1000) throw new IllegalArgumentException("condition steps must be in 0..1000, got " + conditionSteps);
        if (tolerance < 0 || tolerance > 255) throw new IllegalArgumentException("palette tolerance must be in 0..255, got " + tolerance);
    }

    /** The paper's fast setting: N = 10, 10 condition steps, half resolution, all samples drawn (in one batch). */
    public static SbpcSettings paper(int tolerance) { return new SbpcSettings(10, 10, true, null, tolerance); }

    public SbpcSettings withBatch(int b) { return new SbpcSettings(samples, conditionSteps, halfResolution, stopAtScore, tolerance, b); }
}
