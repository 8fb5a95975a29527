package org.ldm4j.schedulers;

import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.ldm4j.nn.Rng;

import static org.junit.jupiter.api.Assertions.*;
import static org.ldm4j.schedulers.SchedulerFixtures.*;

/** Published figures of diffusers' {@code tests/schedulers/test_scheduler_ddim.py}. */
class DDIMSchedulerTest {
    @BeforeAll static void threads() { torch.set_num_threads(1); }

    private static SchedulerConfig cfg(Object... extra) {
        Object[] base = {"num_train_timesteps", 1000, "beta_start", 0.0001, "beta_end", 0.02,
                "beta_schedule", "linear", "clip_sample", true};
        Object[] all = new Object[base.length + extra.length];
        System.arraycopy(base, 0, all, 0, base.length);
        System.arraycopy(extra, 0, all, base.length, extra.length);
        return config(Schedulers.DDIM, all);
    }

    @Test void fullLoopNoNoise() {
        assertSumMean(fullLoop(cfg().create(10, seed0()), false), 172.0067, 0.223967);
    }

    @Test void fullLoopWithVPrediction() {
        assertSumMean(fullLoop(cfg("prediction_type", "v_prediction").create(10, seed0()), false), 52.5302, 0.0684);
    }

    @Test void fullLoopWithSetAlphaToOne() {
        assertSumMean(fullLoop(cfg("set_alpha_to_one", true, "beta_start", 0.01).create(10, seed0()), false), 149.8295, 0.1951);
    }

    @Test void fullLoopWithNoSetAlphaToOne() {
        assertSumMean(fullLoop(cfg("set_alpha_to_one", false, "beta_start", 0.01).create(10, seed0()), false), 149.0784, 0.1941);
    }

    @Test void fullLoopWithNoise() {
        assertSumMean(fullLoop(cfg().create(10, seed0()), false, 8, true), 354.5418, 0.4616);
    }

    @Test void timestepsLeadingWithOffset() {
        Scheduler s = cfg("steps_offset", 1).create(5, seed0());
        assertArrayEquals(new double[]{801, 601, 401, 201, 1}, s.timesteps());
    }

    @Test void etaDrawsAncestralNoiseFromTheRunsRng() {
        SchedulerConfig eta = ((DDIMScheduler.Config) cfg()).withEta(1.0);
        Tensor a = fullLoop(eta.create(10, new Rng(3)), false);
        Tensor b = fullLoop(eta.create(10, new Rng(3)), false);
        Tensor c = fullLoop(eta.create(10, new Rng(4)), false);
        Tensor deterministic = fullLoop(cfg().create(10, new Rng(3)), false);
        assertTrue(a.equal(b), "same seed, same samples");
        assertFalse(a.equal(c), "another seed changes the ancestral noise");
        assertFalse(a.equal(deterministic), "eta = 1 differs from eta = 0");
    }

    @Test void etaZeroStepMatchesClosedForm() {
        // x_{t-1} = sqrt(aPrev) x0 + sqrt(1 - aPrev) eps, with x0 = (x - sqrt(1 - aT) eps) / sqrt(aT)
        DDIMScheduler.Config c = (DDIMScheduler.Config) cfg("clip_sample", false);
        Scheduler s = c.create(10, seed0());
        float[] ac = c.noiseSchedule().alphasCumprod();
        Tensor x = dummySampleDeter(), eps = dummyNoiseDeter();
        Scheduler.StepOutput out = s.step(eps, 0, x);
        double aT = ac[900], aPrev = ac[800];
        Tensor x0 = x.sub(eps.mul(new org.bytedeco.pytorch.Scalar(Math.sqrt(1 - aT)))).div(new org.bytedeco.pytorch.Scalar(Math.sqrt(aT)));
        Tensor expected = x0.mul(new org.bytedeco.pytorch.Scalar(Math.sqrt(aPrev))).add(eps.mul(new org.bytedeco.pytorch.Scalar(Math.sqrt(1 - aPrev))));
        assertTrue(out.predOriginalSample().allclose(x0, 1e-5, 1e-5, false));
        assertTrue(out.prevSample().allclose(expected, 1e-5, 1e-5, false));
    }

    @Test void setAlphaToOneMakesTheLastStepLandOnX0() {
        // the last step goes to t < 0: with set_alpha_to_one, x_prev = x0 exactly (alphaBar = 1, no eps term)
        Scheduler s = cfg("set_alpha_to_one", true, "clip_sample", false).create(10, seed0());
        Scheduler.StepOutput out = s.step(dummyNoiseDeter(), 9, dummySampleDeter());
        assertTrue(out.prevSample().allclose(out.predOriginalSample(), 1e-6, 1e-6, false));
        Scheduler t = cfg("set_alpha_to_one", false, "clip_sample", false).create(10, seed0());
        Scheduler.StepOutput out2 = t.step(dummyNoiseDeter(), 9, dummySampleDeter());
        assertFalse(out2.prevSample().allclose(out2.predOriginalSample(), 1e-6, 1e-6, false));
    }
}
