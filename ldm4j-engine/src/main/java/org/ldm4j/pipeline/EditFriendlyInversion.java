package org.ldm4j.pipeline;

import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.Scalar;
import org.bytedeco.pytorch.Tensor;
import org.ldm4j.nn.Rng;
import org.ldm4j.nn.Scopes;
import org.ldm4j.schedulers.DDIMScheduler;

import java.util.ArrayList;
import java.util.List;
import java.util.function.BooleanSupplier;

/**
 * Edit-friendly DDPM inversion (Huberman-Spiegelglas, Kulikov, Michaeli, CVPR 2024; the inversion LEDITS++ builds on):
 * every level x_{t_i} is drawn on its own from q(x_t | x_0), and the noise each stochastic step (DDIM at eta 1) would
 * need to go from x_{t_i} to x_{t_{i+1}} is solved for and kept. Sampling with those noises reproduces x_0 exactly
 * under the source prompt; under an edited prompt the noises carry the layout while the prediction follows the edit.
 * Unlike {@link DdimInversion} there is no inversion error, at any guidance.
 *
 * @param start  x_{t_0}, where an edit starts
 * @param noises z_i for each step i (n of them)
 */
public record EditFriendlyInversion(Tensor start, List<Tensor> noises) {
    /** DDPM-like steps: DDIM at eta 1, whose noise the inversion solves for. */
    private static final double ETA = 1.0;

    /** Inverts {@code z0} along {@code scheduler}'s steps with the source prompt's {@code denoiser}. */
    public static EditFriendlyInversion invert(Tensor z0, DDIMScheduler scheduler, Denoiser denoiser, Rng rng, BooleanSupplier cancelled) {
        double[] timesteps = scheduler.timesteps();
        int n = timesteps.length;
        List<Tensor> levels = new ArrayList<>(n + 1);
        for (int i = 0; i < n; i++) {   // x_{t_i} ~ q(x_t | x_0), each with its own noise
            float a = scheduler.alphaBar(i);
            Tensor eps = rng.randnLike(z0);
            levels.add(Scopes.keep(z0.mul(new Scalar((float) Math.sqrt(a))).add(eps.mul(new Scalar((float) Math.sqrt(1 - a))))));
        }
        levels.add(z0);
        List<Tensor> noises = new ArrayList<>(n);
        for (int i = 0; i < n; i++) {
            if (cancelled != null && cancelled.getAsBoolean()) throw new StepHook.Cancelled("inversion cancelled at step " + i);
            try (PointerScope scope = new PointerScope()) {
                Tensor x = levels.get(i);
                Tensor eps = denoiser.predict(scheduler.scaleModelInput(x, i), new Step(i, timesteps[i], n, 0));
                float sigma = scheduler.sigma(i, ETA);
                Tensor gap = levels.get(i + 1).sub(scheduler.stepWithoutNoise(eps, i, x, ETA).prevSample());
                // a step to alphaBar 1 (set_alpha_to_one) has no noise to carry the gap: that last step is plain DDIM
                noises.add(Scopes.keep(sigma > 0 ? gap.div(new Scalar(sigma)) : gap.mul(new Scalar(0.0))));
            }
        }
        return new EditFriendlyInversion(levels.get(0), noises);
    }

    /** Runs the steps from {@link #start} with {@code denoiser} (the edited prompt) and the kept noises. */
    public Tensor sample(DDIMScheduler scheduler, Denoiser denoiser, BooleanSupplier cancelled) {
        double[] timesteps = scheduler.timesteps();
        int n = timesteps.length;
        if (noises.size() != n) throw new IllegalArgumentException("inverted along " + noises.size() + " steps, sampled with " + n);
        Tensor x = start;
        for (int i = 0; i < n; i++) {
            if (cancelled != null && cancelled.getAsBoolean()) throw new StepHook.Cancelled("cancelled before step " + i);
            try (PointerScope scope = new PointerScope()) {
                Tensor eps = denoiser.predict(scheduler.scaleModelInput(x, i), new Step(i, timesteps[i], n, 0));
                x = Scopes.keep(scheduler.stepWithoutNoise(eps, i, x, ETA).prevSample().add(noises.get(i).mul(new Scalar(scheduler.sigma(i, ETA)))));
            }
        }
        return x;
    }
}
