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
 */
public record SbpcSettings(int samples, int conditionSteps, boolean halfResolution, Double stopAtScore, int tolerance) {
    public SbpcSettings {
        if (samples < 1 || samples > 256) throw new IllegalArgumentException("SBPC samples must be in 1..256, got " + samples);
        if (conditionSteps < 0 || conditionSteps > 1000) throw new IllegalArgumentException("condition steps must be in 0..1000, got " + conditionSteps);
        if (tolerance < 0 || tolerance > 255) throw new IllegalArgumentException("palette tolerance must be in 0..255, got " + tolerance);
    }

    /** The paper's fast setting: N = 10, 10 condition steps, half resolution, all samples drawn. */
    public static SbpcSettings paper(int tolerance) { return new SbpcSettings(10, 10, true, null, tolerance); }
}
