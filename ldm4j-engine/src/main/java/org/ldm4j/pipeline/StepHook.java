package org.ldm4j.pipeline;

import org.bytedeco.pytorch.Tensor;

/**
 * Per-step extension point of the one {@link DenoisingLoop}: each method returns the latents to continue with.
 *
 * <p>Methods compose hooks instead of copying the loop: Blended Latent Diffusion blends the background in
 * {@link #afterStep}, GradOP+ optimises and re-noises there, previews and progress bars observe the predicted x0,
 * cancellation throws {@link Cancelled} between steps. Tensors passed in are freed when the step ends: a hook that
 * keeps one must take {@code Scopes.keep(t)}.
 */
public interface StepHook {
    default Tensor beforeModel(Tensor latents, Step step) { return latents; }

    /**
     * @param latents x_{t-1} from the scheduler
     * @param predictedX0 the scheduler's estimate of x0 at this step (GradOP and previews use it)
     */
    default Tensor afterStep(Tensor latents, Tensor predictedX0, Step step) { return latents; }

    /** Thrown by a hook (or the loop) to stop a run cleanly between steps. */
    final class Cancelled extends RuntimeException {
        public Cancelled(String why) { super(why); }
    }
}
