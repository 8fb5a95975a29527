package org.ldm4j.schedulers;

import org.ldm4j.nn.Rng;

/**
 * A scheduler's configuration ({@code scheduler_config.json}); makes a fresh {@link Scheduler} per run.
 *
 * <p>Implementations are records whose components are the diffusers keys in camelCase, read with
 * {@link Schedulers#read}; a missing key takes the diffusers default of that scheduler class.
 */
public interface SchedulerConfig {
    /**
     * @param numInferenceSteps the number of denoising steps
     * @param rng the run's random stream (used by ancestral/stochastic schedulers for their per-step noise)
     */
    Scheduler create(int numInferenceSteps, Rng rng);

    /** The forward process these settings define (betas, alphaBar, q(x_t | x0) for a trainer). */
    NoiseSchedule noiseSchedule();
}
