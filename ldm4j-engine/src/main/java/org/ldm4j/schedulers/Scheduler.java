package org.ldm4j.schedulers;

import org.bytedeco.pytorch.Tensor;

/**
 * One sampling run of a diffusion scheduler, created fresh per run by {@link SchedulerConfig#create}.
 *
 * <p>Indices {@code i} run over {@link #timesteps()} (0 = the noisiest step). A multistep scheduler (PNDM, LMS,
 * DPM-Solver) keeps its history inside this object, so an instance serves one run only, and its steps must be
 * taken at consecutive indices; a run may start at any index (img2img, see {@link Schedulers#img2imgStartIndex}).
 */
public interface Scheduler {
    /** The timesteps the UNet sees, noisiest first. */
    double[] timesteps();

    /** Standard deviation of the initial noise (1 for DDIM/DDPM/PNDM, sigma_max-ish for Euler-style). */
    double initNoiseSigma();

    /** Scales the model input at step {@code i} (identity except for sigma-parameterised schedulers). */
    Tensor scaleModelInput(Tensor sample, int i);

    /** One reverse step at index {@code i}: returns x_{prev} and the predicted x0. */
    StepOutput step(Tensor modelOutput, int i, Tensor sample);

    /** q(x_t | x0) at the timestep of index {@code i}: x0 noised to that step's level. */
    Tensor addNoise(Tensor originalSamples, Tensor noise, int i);

    /** How many model calls make one logical step (PNDM PLMS and DPM-Solver multistep are 1 here; Heun would be 2). */
    default int order() { return 1; }

    /** The output of {@link #step}: the previous (less noisy) sample and the model's estimate of x0. */
    record StepOutput(Tensor prevSample, Tensor predOriginalSample) {}
}
