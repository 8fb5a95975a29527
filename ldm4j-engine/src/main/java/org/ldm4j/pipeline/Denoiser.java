package org.ldm4j.pipeline;

import org.bytedeco.pytorch.Tensor;

/** The model output the scheduler consumes (ε̂ for epsilon models) for the scaled latents at a step. */
@FunctionalInterface
public interface Denoiser {
    Tensor predict(Tensor scaledLatents, Step step);
}
