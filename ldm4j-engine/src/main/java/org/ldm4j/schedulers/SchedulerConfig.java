package org.ldm4j.schedulers;

import org.ldm4j.nn.Rng;

/** A scheduler's configuration ({@code scheduler_config.json}); makes a fresh {@link Scheduler} per run. */
public interface SchedulerConfig {
    /**
     * @param numInferenceSteps the number of denoising steps
     * @param rng the run's random stream (used by ancestral/stochastic schedulers for their per-step noise)
     */
    Scheduler create(int numInferenceSteps, Rng rng);
}
