package org.ldm4j.schedulers;

import org.bytedeco.pytorch.global.torch;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import static org.ldm4j.schedulers.SchedulerFixtures.*;

/** Published figures of diffusers' {@code tests/schedulers/test_scheduler_euler.py} (T = 1100, 10 steps). */
class EulerDiscreteSchedulerTest {
    @BeforeAll static void threads() { torch.set_num_threads(1); }

    static SchedulerConfig cfg(Schedulers kind, Object... extra) {
        Object[] base = {"num_train_timesteps", 1100, "beta_start", 0.0001, "beta_end", 0.02, "beta_schedule", "linear"};
        Object[] all = new Object[base.length + extra.length];
        System.arraycopy(base, 0, all, 0, base.length);
        System.arraycopy(extra, 0, all, base.length, extra.length);
        return config(kind, all);
    }

    @Test void fullLoopNoNoise() {
        assertSumMean(fullLoop(cfg(Schedulers.EULER).create(10, seed0()), true), 10.0807, 0.0131);
    }

    @Test void fullLoopWithVPrediction() {
        assertSumMean(fullLoop(cfg(Schedulers.EULER, "prediction_type", "v_prediction").create(10, seed0()), true), 0.0002, 2.2676e-06);
    }

    @Test void fullLoopKarrasSigmas() {
        assertSumMean(fullLoop(cfg(Schedulers.EULER, "use_karras_sigmas", true).create(10, seed0()), true),
                124.52299499511719, 0.16213932633399963);
    }

    @Test void fullLoopWithNoise() {
        assertSumMean(fullLoop(cfg(Schedulers.EULER).create(10, seed0()), true, 8, true), 57062.9297, 74.3007);
    }
}
