package org.ldm4j.methods.gradop;

import org.bytedeco.pytorch.Tensor;
import org.ldm4j.nn.Rng;
import org.ldm4j.pipeline.Step;
import org.ldm4j.pipeline.StepHook;
import org.ldm4j.schedulers.Scheduler;

import java.util.ArrayList;
import java.util.Collections;
import java.util.List;

/**
 * GradOP+'s optimise-and-re-noise window, as a hook on the one denoising loop. After the scheduler step of index i,
 * for i = i₀ … i₀ + iterations − 1 (i₀ = {@link GradOpPlusSettings#firstIteration()}), never after the last step:
 * <pre>
 *   z* = argmin_z L(f(D(z)), y)   by gradSteps Adam steps from z = x_{t_{i+1}} (or x̂0, see Optimised)
 *   x_{t_{i+1}} ← √ᾱ_{t_{i+1}}·z* + √(1 − ᾱ_{t_{i+1}})·ε',   ε' ~ N(0, I) from the run's generator
 * </pre>
 * The latent after step i sits at timesteps[i+1], so the re-noise returns it to the level it already had
 * (the official {@code t_enc}). One ε' is drawn per iteration, in order, as the official generator is consumed.
 */
public final class GradOpPlusHook implements StepHook {
    private final Scheduler scheduler;
    private final Rng rng;
    private final PaintingLoss loss;
    private final GradOpPlusSettings settings;
    private final List<LatentOptimizer.Result> history = new ArrayList<>();

    public GradOpPlusHook(Scheduler scheduler, Rng rng, PaintingLoss loss, GradOpPlusSettings settings) {
        this.scheduler = scheduler;
        this.rng = rng;
        this.loss = loss;
        this.settings = settings.validate();
    }

    /** True when the latent is optimised after step {@code index} of {@code count}. */
    public static boolean optimisesAfter(int index, int count, GradOpPlusSettings s) {
        int first = s.firstIteration();
        return index >= first && index < first + s.iterations() && index + 1 < count;
    }

    @Override
    public Tensor afterStep(Tensor latents, Tensor predictedX0, Step step) {
        if (!optimisesAfter(step.index(), step.count(), settings)) return latents;
        Tensor z = settings.optimised() == GradOpPlusSettings.Optimised.PREDICTED_X0 ? predictedX0 : latents;
        LatentOptimizer.Result r = LatentOptimizer.optimise(loss, z, settings.gradSteps(), settings.lr());
        synchronized (history) {
            history.add(new LatentOptimizer.Result(null, r.losses()));   // losses only: latents are freed with the step
        }
        Tensor noise = rng.randnLike(r.z());
        Tensor renoised = scheduler.addNoise(r.z(), noise, step.index() + 1);
        r.z().close();   // a new tensor was made from it; free the optimised latent now rather than at GC
        return renoised;
    }

    /** The loss curves of the iterations done so far ({@link LatentOptimizer.Result#losses()}; z is null). */
    public List<LatentOptimizer.Result> history() {
        synchronized (history) {
            return Collections.unmodifiableList(new ArrayList<>(history));
        }
    }
}
