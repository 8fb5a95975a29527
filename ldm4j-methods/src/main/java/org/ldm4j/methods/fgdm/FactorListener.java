package org.ldm4j.methods.fgdm;

import org.bytedeco.pytorch.Tensor;
import org.ldm4j.pipeline.Step;

import java.util.List;

/**
 * Observes a factor-graph run. Tensors passed in are freed when the step ends: keep a copy
 * ({@code Scopes.keep(t.clone())}) to hold one.
 */
public interface FactorListener {
    FactorListener NONE = new FactorListener() {};

    /**
     * A factor's conditioning branch read its parents at this step: their latents, in the factor's parent order,
     * null for a switched-off parent (the branch then got the null condition).
     */
    default void conditioned(Factor factor, Step step, List<Tensor> parentLatents) {}

    /**
     * A factor took a step: {@code latents} is its z_{t-1}, {@code predictedX0} the scheduler's estimate of its final
     * latent at this step (what previews decode: z_{t-1} is still noisy until the last step).
     */
    default void stepped(Factor factor, Step step, Tensor latents, Tensor predictedX0) {}
}
