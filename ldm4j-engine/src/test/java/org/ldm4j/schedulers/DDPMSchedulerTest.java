package org.ldm4j.schedulers;

import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import static org.ldm4j.schedulers.SchedulerFixtures.*;

/** Published figures of diffusers' {@code tests/schedulers/test_scheduler_ddpm.py} (1000 steps, generator seed 0). */
class DDPMSchedulerTest {
    @BeforeAll static void threads() { torch.set_num_threads(1); }

    private static SchedulerConfig cfg(String predictionType) {
        return config(Schedulers.DDPM, "num_train_timesteps", 1000, "beta_start", 0.0001, "beta_end", 0.02,
                "beta_schedule", "linear", "variance_type", "fixed_small", "clip_sample", true,
                "prediction_type", predictionType);
    }

    /** diffusers' test loops over reversed(range(1000)) without set_timesteps: the same as 1000 leading steps. */
    private static Tensor loop(Scheduler s, int start, boolean noise) {
        return fullLoop(s, false, start, noise);
    }

    @Test void fullLoopNoNoise() {
        assertSumMean(loop(cfg("epsilon").create(1000, seed0()), 0, false), 258.9606, 0.3372);
    }

    @Test void fullLoopWithVPrediction() {
        assertSumMean(loop(cfg("v_prediction").create(1000, seed0()), 0, false), 202.0296, 0.2631);
    }

    @Test void fullLoopWithNoise() {
        assertSumMean(loop(cfg("epsilon").create(1000, seed0()), 998, true), 387.9466, 0.5051);
    }

}
