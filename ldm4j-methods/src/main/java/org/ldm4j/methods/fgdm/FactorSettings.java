package org.ldm4j.methods.fgdm;

/**
 * How one factor runs its own reverse chain: its output size, sampler, steps and guidance, and its text.
 *
 * @param width          output width in pixels (its latent is width / VAE factor)
 * @param scheduler      sampler alias ("ddim", ...) or null for the model's own
 * @param eta            DDIM eta (0 = deterministic)
 * @param negativePrompt the unconditional text ("" = the null text)
 * @param promptSuffix   appended to the prompt for this factor (the released image factor appends
 *                       ", best quality, extremely detailed")
 * @param mapGuidance    guidance toward the parents' maps ({@link org.ldm4j.pipeline.DualGuidance}'s s_C): 1 = plain
 *                       text guidance with the maps given to both halves (the paper's and the released code's form);
 *                       above 1 one more UNet call per step weighs the maps more. Factors without parents ignore it.
 */
public record FactorSettings(int width, int height, int steps, double guidanceScale, String scheduler, double eta,
                             String negativePrompt, String promptSuffix, double mapGuidance) {
    /** The ControlNet demos' negative prompt that the released FG-DM image factor uses. */
    public static final String CONTROLNET_NEGATIVE = "longbody, lowres, bad anatomy, bad hands, missing fingers, extra digit, "
            + "fewer digits, cropped, worst quality, low quality";

    public FactorSettings {
        if (width <= 0 || height <= 0) throw new IllegalArgumentException("factor size must be positive, got " + width + "x" + height);
        if (steps < 1 || steps > 1000) throw new IllegalArgumentException("factor steps must be in 1..1000, got " + steps);
        if (!(guidanceScale >= 0) || Double.isInfinite(guidanceScale)) throw new IllegalArgumentException("guidance scale must be >= 0, got " + guidanceScale);
        if (!(eta >= 0 && eta <= 1)) throw new IllegalArgumentException("eta must be in [0, 1], got " + eta);
        if (negativePrompt == null) negativePrompt = "";
        if (promptSuffix == null) promptSuffix = "";
        if (!(mapGuidance >= 0) || Double.isInfinite(mapGuidance)) throw new IllegalArgumentException("map guidance must be >= 0, got " + mapGuidance);
    }

    /** Plain text guidance (map guidance 1). */
    public FactorSettings(int width, int height, int steps, double guidanceScale, String scheduler, double eta,
                          String negativePrompt, String promptSuffix) {
        this(width, height, steps, guidanceScale, scheduler, eta, negativePrompt, promptSuffix, 1.0);
    }

    /** Whether a factor with parents samples with {@link org.ldm4j.pipeline.DualGuidance} (at any text guidance). */
    public boolean guidesMaps() { return mapGuidance != 1.0; }

    /** The released segmentation factor: DDIM 50 steps, eta 0, CFG 7.5, "" as unconditional text (size: yours). */
    public static FactorSettings releasedCondition(int width, int height) {
        return new FactorSettings(width, height, 50, 7.5, "ddim", 0, "", "");
    }

    /** The released image factor (ControlNet): DDIM 20 steps, CFG 9.0, the fixed negative prompt, the quality suffix. */
    public static FactorSettings releasedImage(int width, int height) {
        return new FactorSettings(width, height, 20, 9.0, "ddim", 0, CONTROLNET_NEGATIVE, ", best quality, extremely detailed");
    }

    public FactorSettings withSteps(int s) { return new FactorSettings(width, height, s, guidanceScale, scheduler, eta, negativePrompt, promptSuffix, mapGuidance); }

    public FactorSettings withSize(int w, int h) { return new FactorSettings(w, h, steps, guidanceScale, scheduler, eta, negativePrompt, promptSuffix, mapGuidance); }

    public FactorSettings withGuidance(double g) { return new FactorSettings(width, height, steps, g, scheduler, eta, negativePrompt, promptSuffix, mapGuidance); }

    public FactorSettings withScheduler(String alias) { return new FactorSettings(width, height, steps, guidanceScale, alias, eta, negativePrompt, promptSuffix, mapGuidance); }

    public FactorSettings withMapGuidance(double m) { return new FactorSettings(width, height, steps, guidanceScale, scheduler, eta, negativePrompt, promptSuffix, m); }
}
