package org.ldm4j.pipeline;

import com.fasterxml.jackson.annotation.JsonInclude;

/**
 * Everything that determines a text2img or img2img result; written as JSON into the PNG, read back to reproduce it.
 *
 * @param seed seed of the first image; image k of a batch uses {@code seed + k} with its own generator, so an image
 *             does not depend on the batch it was made in
 * @param strength img2img (SDEdit) strength in [0, 1]; ignored by text2img
 * @param initImage img2img input path as given by the user (informational; the pixels are passed separately)
 */
@JsonInclude(JsonInclude.Include.NON_NULL)
public record GenerationRequest(
        String mode,
        String model,
        String prompt,
        String negativePrompt,
        int width,
        int height,
        int steps,
        double guidanceScale,
        String scheduler,
        long seed,
        int count,
        int clipSkip,
        double eta,
        Double strength,
        String initImage) {

    public static final int MAX_SIDE = 2048;

    /** Checks ranges; each problem is an IllegalArgumentException naming the parameter. */
    public GenerationRequest validate(int vaeScaleFactor) {
        if (prompt == null) throw new IllegalArgumentException("prompt is missing");
        require(width > 0 && height > 0 && width <= MAX_SIDE && height <= MAX_SIDE,
                "size " + width + "x" + height + " must be within 1.." + MAX_SIDE);
        require(width % vaeScaleFactor == 0 && height % vaeScaleFactor == 0,
                "size " + width + "x" + height + " must be a multiple of " + vaeScaleFactor + " (the VAE's scale factor)");
        require(steps >= 1 && steps <= 1000, "steps must be in 1..1000, got " + steps);
        require(Double.isFinite(guidanceScale) && guidanceScale >= 0, "guidance scale must be a finite number >= 0, got " + guidanceScale);
        require(count >= 1 && count <= 64, "count must be in 1..64, got " + count);
        require(clipSkip >= 0, "clip skip must be >= 0, got " + clipSkip);
        require(eta >= 0 && eta <= 1, "eta must be in [0, 1], got " + eta);
        if (strength != null) require(strength >= 0 && strength <= 1, "strength must be in [0, 1], got " + strength);
        return this;
    }

    private static void require(boolean ok, String message) {
        if (!ok) throw new IllegalArgumentException(message);
    }

    public GenerationRequest withSeed(long s) {
        return new GenerationRequest(mode, model, prompt, negativePrompt, width, height, steps, guidanceScale, scheduler,
                s, count, clipSkip, eta, strength, initImage);
    }

    public GenerationRequest withCount(int n) {
        return new GenerationRequest(mode, model, prompt, negativePrompt, width, height, steps, guidanceScale, scheduler,
                seed, n, clipSkip, eta, strength, initImage);
    }
}
