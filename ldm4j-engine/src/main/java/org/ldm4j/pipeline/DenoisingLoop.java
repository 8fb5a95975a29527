package org.ldm4j.pipeline;

import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.Tensor;
import org.ldm4j.nn.Scopes;
import org.ldm4j.schedulers.Scheduler;

import java.util.List;
import java.util.function.BooleanSupplier;

/**
 * The denoising loop every pipeline and method shares: per step, {@code beforeModel} hooks, the denoiser,
 * the scheduler step, {@code afterStep} hooks.
 *
 * <p>Each step runs in its own native-memory scope, so a 50-step run does not grow: only the latents leave it.
 *
 * <p>After every step the latents are checked for NaN/Inf (one reduction over a small tensor, negligible next to
 * the denoiser): a non-finite value would otherwise travel silently through the remaining steps and the VAE and end
 * up as a black or garbage PNG. The run stops with {@link NonFiniteLatentsException} naming the step.
 */
public final class DenoisingLoop {
    private DenoisingLoop() {}

    /**
     * @param latents x at {@code first} (already noised to that step's level; for a full run, noise × initNoiseSigma)
     * @param first index into the scheduler's timesteps to start from (0 for text2img)
     * @param cancelled polled between steps; true stops the run with {@link StepHook.Cancelled}
     */
    public static Tensor run(Tensor latents, Scheduler scheduler, int first, Denoiser denoiser,
                             List<? extends StepHook> hooks, BooleanSupplier cancelled) {
        double[] timesteps = scheduler.timesteps();
        Tensor z = latents;
        for (int i = first; i < timesteps.length; i++) {
            if (cancelled != null && cancelled.getAsBoolean()) throw new StepHook.Cancelled("cancelled before step " + i);
            Step step = new Step(i, timesteps[i], timesteps.length, first);
            Tensor next;
            try (PointerScope scope = new PointerScope()) {
                Tensor x = z;
                for (StepHook h : hooks) x = h.beforeModel(x, step);
                Tensor modelOutput = denoiser.predict(scheduler.scaleModelInput(x, i), step);
                Scheduler.StepOutput out = scheduler.step(modelOutput, i, x);
                Tensor prev = out.prevSample();
                for (StepHook h : hooks) prev = h.afterStep(prev, out.predOriginalSample(), step);
                if (!prev.isfinite().all().item_bool()) {
                    throw new NonFiniteLatentsException(i, timesteps[i], timesteps.length,
                            modelOutput.isfinite().all().item_bool() ? "the scheduler step or a step hook" : "the denoiser's output");
                }
                next = Scopes.keep(prev);
            }
            if (z != latents) z.close();   // our own intermediate, nobody else holds this handle
            z = next;
        }
        return z;
    }
}
