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
 * @param conditionGuidance  classifier-free guidance of every condition factor while sampling candidates; null = each
 *                       factor's own. 1 skips the unconditional half of every UNet call: half the candidates' cost
 * @param conditionScheduler sampler alias ("ddim", "dpm++2m", ...) of every condition factor while sampling
 *                       candidates; null = each factor's own
 */
public record SbpcSettings(int samples, int conditionSteps, boolean halfResolution, Double stopAtScore, int tolerance, int batch,
                           Double conditionGuidance, String conditionScheduler) {
    /** All N candidates in one batch; one at a time when stopping early (a batch is only checked once it is drawn). */
    public SbpcSettings(int samples, int conditionSteps, boolean halfResolution, Double stopAtScore, int tolerance) {
        this(samples, conditionSteps, halfResolution, stopAtScore, tolerance, stopAtScore != null ? 1 : Math.max(1, samples));
    }

    /** Each condition factor's own guidance and scheduler. */
    public SbpcSettings(int samples, int conditionSteps, boolean halfResolution, Double stopAtScore, int tolerance, int batch) {
        this(samples, conditionSteps, halfResolution, stopAtScore, tolerance, batch, null, null);
    }

    public SbpcSettings {
        if (batch < 1 || batch > 256) throw new IllegalArgumentException("SBPC batch must be in 1..256, got " + batch);
        if (samples < 1 || samples > 256) throw new IllegalArgumentException("SBPC samples must be in 1..256, got " + samples);
        if (conditionSteps < 0 || conditionSteps > 1000) throw new IllegalArgumentException("condition steps must be in 0..1000, got " + conditionSteps);
        if (tolerance < 0 || tolerance > 255) throw new IllegalArgumentException("palette tolerance must be in 0..255, got " + tolerance);
        if (conditionGuidance != null && !(conditionGuidance >= 1 && conditionGuidance <= 100)) {
            throw new IllegalArgumentException("condition guidance must be in 1..100, got " + conditionGuidance);
        }
        if (conditionScheduler != null && conditionScheduler.isBlank()) throw new IllegalArgumentException("condition scheduler must not be blank");
    }

    /** The paper's fast setting: N = 10, 10 condition steps, half resolution, all samples drawn (in one batch). */
    public static SbpcSettings paper(int tolerance) { return new SbpcSettings(10, 10, true, null, tolerance); }

    /** Objects count in a {@link #fast} candidate map when they cover this fraction of it (41 pixels of 64x64). */
    public static final double FAST_MAP_MIN_AREA = 0.01;

    /**
     * ldm4j's fast candidates, measured on ToyWorld (docs/results-fgdm.md, sessions 31-32): N maps at full size, 3 DPM++
     * 2M steps without guidance (one UNet pass per step). Scored at {@link #FAST_MAP_MIN_AREA} with
     * {@link ObjectRecall#preferringLargerObjects()} and with an image check of 2 images, SBPC on {@code toyworld-fgdm8}
     * is 3.1x faster than image-level SBPC at N = 10 within 2 points of its image recall (-1.05 / -1.51 at two noise seeds).
     */
    public static SbpcSettings fast(int samples, int tolerance) {
        return new SbpcSettings(samples, 3, false, null, tolerance).withConditionGuidance(1.0).withConditionScheduler("dpm++2m");
    }

    public SbpcSettings withBatch(int b) {
        return new SbpcSettings(samples, conditionSteps, halfResolution, stopAtScore, tolerance, b, conditionGuidance, conditionScheduler);
    }

    /** Candidates at this guidance (null = each factor's own). */
    public SbpcSettings withConditionGuidance(Double g) {
        return new SbpcSettings(samples, conditionSteps, halfResolution, stopAtScore, tolerance, batch, g, conditionScheduler);
    }

    /** Candidates with this sampler (null = each factor's own). */
    public SbpcSettings withConditionScheduler(String s) {
        return new SbpcSettings(samples, conditionSteps, halfResolution, stopAtScore, tolerance, batch, conditionGuidance, s);
    }
}
