package org.ldm4j.pipeline;

import org.ldm4j.models.unet.UNetExtras;

/**
 * A per-step source of UNet residuals: a ControlNet, a T2I-Adapter, an FG-DM adapter. {@link ClassifierFreeGuidance}
 * asks every source of a run at every step and sums what they return ({@link ControlSources#merge}), which is also
 * how several ControlNets (diffusers' {@code MultiControlNetModel}) or adapters ({@code MultiAdapter}) combine.
 *
 * <p>A source belongs to one generation: it may cache what does not change between steps (a ControlNet's encoded
 * hint, a plain adapter's features), as tensors kept with {@code Scopes.keep}.
 */
public interface ControlSource {
    /** Residuals for this step's UNet call, or null when the source is off at this step. */
    UNetExtras extras(ControlInput input, Step step);

    /**
     * Checks the source against the run before any work: control image size vs the output size, channel counts.
     * Throws {@link IllegalArgumentException} with the problem.
     */
    default void validate(StableDiffusion sd, int width, int height) {}

    /** Fraction {@code i / n} of the steps this run executes (img2img starts part-way: its own steps count). */
    static double progress(Step step) {
        int n = step.count() - step.first();
        return n <= 0 ? 1 : (double) (step.index() - step.first()) / n;
    }
}
