package org.ldm4j.methods.blended;

import org.bytedeco.pytorch.Scalar;
import org.bytedeco.pytorch.Tensor;
import org.ldm4j.nn.Rng;
import org.ldm4j.pipeline.Denoiser;
import org.ldm4j.pipeline.Step;
import org.ldm4j.pipeline.StepHook;
import org.ldm4j.schedulers.DDIMScheduler;
import org.ldm4j.schedulers.Scheduler;

/**
 * RePaint's resampling (Lugmayr et al., "RePaint: Inpainting using Denoising Diffusion Probabilistic Models", CVPR
 * 2022, Algorithm 1 with jump length 1) on top of the latent blend: after step i has taken z from t_i to the level
 * below, the blended latent is noised back up to t_i with the forward process and step i is run again, {@code passes}
 * times in all. The blend fixes the outside only at each step's input, so the inside is denoised without seeing a
 * background that agrees with it; each extra pass lets the model read the inside it drew next to the true background.
 *
 * <p>The forward step is q(z_{t_i} | z_below) = N(√(ᾱ_i / ᾱ_below) z_below, (1 − ᾱ_i / ᾱ_below) I), with ᾱ of the
 * DDIM schedule (DDIM only: a stateless step that may be taken twice). Fresh noise is drawn from the run's generator.
 * Only the steps before {@code until} (a fraction of the run) are resampled, where the layout is decided.
 *
 * <p>A hook after the {@link LatentBlend}: it calls the blend's own hooks around each repeated step, so the repeated
 * step sees what the loop's step saw.
 */
public final class Resampling implements StepHook {
    /** Off: one pass per step. */
    public static final Settings OFF = new Settings(1, 0.0);

    /**
     * @param passes model calls per resampled step (1 = off; RePaint's U)
     * @param until fraction of the steps resampled, from the first
     */
    public record Settings(int passes, double until) {
        public Settings {
            if (passes < 1 || passes > 20) throw new IllegalArgumentException("resample passes must be in 1..20, got " + passes);
            if (!(until >= 0 && until <= 1)) throw new IllegalArgumentException("resample fraction must be in [0, 1], got " + until);
        }

        public boolean enabled() { return passes > 1 && until > 0; }
    }

    private final Settings settings;
    private final LatentBlend blend;
    private final Denoiser denoiser;
    private final DDIMScheduler scheduler;
    private final Rng rng;

    Resampling(Settings settings, LatentBlend blend, Denoiser denoiser, Scheduler scheduler, Rng rng) {
        if (!(scheduler instanceof DDIMScheduler ddim)) {
            throw new IllegalArgumentException("resampling needs the DDIM scheduler (a step taken twice), not "
                    + scheduler.getClass().getSimpleName());
        }
        this.settings = settings;
        this.blend = blend;
        this.denoiser = denoiser;
        this.scheduler = ddim;
        this.rng = rng;
    }

    /** True when step {@code step} is resampled: not the last one (there is no level below it to come back from). */
    boolean resamples(Step step) {
        return step.index() < step.count() - 1 && step.index() < settings.until() * step.count();
    }

    @Override public Tensor afterStep(Tensor z, Tensor predictedX0, Step step) {
        if (!resamples(step)) return z;
        int i = step.index();
        double ratio = scheduler.alphaBar(i) / (double) scheduler.alphaBarPrev(i);   // ᾱ_i / ᾱ_below, < 1
        for (int pass = 1; pass < settings.passes(); pass++) {
            Tensor known = blend.blend(z, step, i + 1);                      // the true background at the level below
            Tensor up = known.mul(new Scalar(Math.sqrt(ratio))).add(rng.randnLike(known).mul(new Scalar(Math.sqrt(1 - ratio))));
            Tensor x = blend.beforeModel(up, step);
            Tensor modelOutput = denoiser.predict(scheduler.scaleModelInput(x, i), step);
            Scheduler.StepOutput out = scheduler.step(modelOutput, i, x);
            z = blend.afterStep(out.prevSample(), out.predOriginalSample(), step);
        }
        return z;
    }
}
