package org.ldm4j.methods.gradop;

/**
 * What a stroke-to-image run is asked for besides the painting: the text prompt τ, the negative prompt (official:
 * "" = unconditional), the seed of the run's generator and CLIP skip.
 */
public record StrokePrompt(String prompt, String negativePrompt, long seed, int clipSkip) {
    public StrokePrompt {
        if (prompt == null) throw new IllegalArgumentException("prompt is missing");
        if (negativePrompt == null) negativePrompt = "";
        if (clipSkip < 0) throw new IllegalArgumentException("clip skip must be >= 0, got " + clipSkip);
    }

    public static StrokePrompt of(String prompt, long seed) { return new StrokePrompt(prompt, "", seed, 0); }

    public StrokePrompt withSeed(long s) { return new StrokePrompt(prompt, negativePrompt, s, clipSkip); }
}
