package org.ldm4j.methods.guidance;

import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch;
import org.ldm4j.methods.gradop.LatentOptimizer;
import org.ldm4j.pipeline.Step;
import org.ldm4j.pipeline.StepHook;
import org.ldm4j.schedulers.Scheduler;

import java.util.ArrayList;
import java.util.Collections;
import java.util.List;

/**
 * Steers a reverse pass toward wanted classes, as a hook on the one denoising loop. After a guided step i the
 * scheduler has produced x_{t_{i+1}} and its x0 prediction x̂0; then
 * <pre>
 *   x̂0* = argmin L(x̂0)   by gradSteps Adam steps from x̂0      (L: {@link SegmentationLoss})
 *   x_{t_{i+1}} ← x_{t_{i+1}} + c_{i+1} · (x̂0* − x̂0)
 * </pre>
 * with c_{i+1} the weight of x0 in the scheduler's noising at the latent's level (√ᾱ for DDPM-type schedules, 1 for
 * σ-type ones; read from {@code addNoise} so any scheduler works). The noise part of the latent is left as it is, so
 * unlike GradOP+'s re-noising no fresh noise enters and an unguided region keeps its course. After the last step the
 * latent is x0 itself and takes the move unscaled.
 */
public final class SegmentationGuidance implements StepHook {
    private final Scheduler scheduler;
    private final SegmentationLoss loss;
    private final GuidanceSettings settings;
    private final List<double[]> losses = new ArrayList<>();

    public SegmentationGuidance(Scheduler scheduler, SegmentationLoss loss, GuidanceSettings settings) {
        this.scheduler = scheduler;
        this.loss = loss;
        this.settings = settings;
    }

    @Override
    public Tensor afterStep(Tensor latents, Tensor predictedX0, Step step) {
        if (!settings.guides(step.progress())) return latents;
        LatentOptimizer.Result r = LatentOptimizer.optimise(loss, predictedX0, settings.gradSteps(), settings.lr());
        synchronized (losses) {
            losses.add(r.losses());
        }
        Tensor move = r.z().sub(predictedX0.to(r.z().scalar_type()));
        r.z().close();
        int next = step.index() + 1;
        Tensor scaled = next < step.count() ? scheduler.addNoise(move, torch.zeros_like(move), next) : move;
        return latents.add(scaled.to(latents.scalar_type()));
    }

    /** The loss before each Adam step of every guided step so far, in order. */
    public List<double[]> losses() {
        synchronized (losses) {
            return Collections.unmodifiableList(new ArrayList<>(losses));
        }
    }
}
