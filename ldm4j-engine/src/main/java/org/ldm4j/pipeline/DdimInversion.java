package org.ldm4j.pipeline;

import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.Tensor;
import org.ldm4j.nn.Scopes;
import org.ldm4j.schedulers.DDIMScheduler;

import java.util.function.BooleanSupplier;

/**
 * DDIM inversion (Song et al. 2021, eq. 13 read backwards; the start of null-text inversion and of text-based editing
 * of generated maps in FG-DM): a clean latent z_0 is carried up the schedule, z_{t_prev} → z_t, with ε predicted at
 * the lower level, so that running the same DDIM schedule forward from the result comes back near z_0. Denoising the
 * inverted latent with another prompt edits what the prompt changes and keeps most of the rest.
 */
public final class DdimInversion {
    private DdimInversion() {}

    /**
     * @param z0        the clean latent as the UNet sees it (scaled)
     * @param scheduler the DDIM schedule the edit will then run forward (eta 0)
     * @param denoiser  ε̂ at the source prompt; guidance 1 (the conditional prediction) inverts best
     * @return z_T at the schedule's first (noisiest) timestep
     */
    public static Tensor invert(Tensor z0, DDIMScheduler scheduler, Denoiser denoiser, BooleanSupplier cancelled) {
        double[] timesteps = scheduler.timesteps();
        int n = timesteps.length;
        Tensor z = z0;
        for (int i = n - 1; i >= 0; i--) {
            if (cancelled != null && cancelled.getAsBoolean()) throw new StepHook.Cancelled("inversion cancelled at step " + i);
            try (PointerScope scope = new PointerScope()) {
                Tensor eps = denoiser.predict(scheduler.scaleModelInput(z, i), new Step(i, timesteps[i], n, 0));
                z = Scopes.keep(scheduler.invertStep(eps, i, z));
            }
        }
        return z;
    }
}
