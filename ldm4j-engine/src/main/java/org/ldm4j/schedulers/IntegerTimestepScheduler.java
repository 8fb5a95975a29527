package org.ldm4j.schedulers;

import org.bytedeco.pytorch.Tensor;

/**
 * The schedulers that step over integer training timesteps with unit-variance noise (DDPM, DDIM, PNDM, DPM-Solver):
 * the UNet input needs no scaling and the initial noise has σ = 1. Sigma-parameterised schedulers (Euler, LMS) have
 * their own base, {@link KarrasSigmaScheduler}.
 */
abstract class IntegerTimestepScheduler implements Scheduler {
    /** The integer timesteps of this run, noisiest first. */
    protected abstract long[] integerTimesteps();

    @Override public final double[] timesteps() {
        long[] t = integerTimesteps();
        double[] out = new double[t.length];
        for (int i = 0; i < out.length; i++) out[i] = t[i];
        return out;
    }

    @Override public double initNoiseSigma() { return 1.0; }

    @Override public Tensor scaleModelInput(Tensor sample, int i) { return sample; }
}
