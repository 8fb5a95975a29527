package org.ldm4j.schedulers;

import org.bytedeco.pytorch.global.torch;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.*;
import static org.ldm4j.schedulers.SchedulerFixtures.*;

/** Published figures of diffusers' {@code tests/schedulers/test_scheduler_pndm.py} (PRK warm-up then PLMS). */
class PNDMSchedulerTest {
    @BeforeAll static void threads() { torch.set_num_threads(1); }

    private static SchedulerConfig cfg(Object... extra) {
        Object[] base = {"num_train_timesteps", 1000, "beta_start", 0.0001, "beta_end", 0.02, "beta_schedule", "linear"};
        Object[] all = new Object[base.length + extra.length];
        System.arraycopy(base, 0, all, 0, base.length);
        System.arraycopy(extra, 0, all, base.length, extra.length);
        return config(Schedulers.PNDM, all);
    }

    @Test void stepsOffsetTimesteps() {
        assertArrayEquals(new double[]{901, 851, 851, 801, 801, 751, 751, 701, 701, 651, 651, 601, 601, 501, 401, 301, 201, 101, 1},
                cfg("steps_offset", 1).create(10, seed0()).timesteps());
    }

    @Test void skipPrkTimestepsRepeatTheSecondOne() {
        // Stable Diffusion's setting: 10 steps give 11 model calls, the second timestep twice
        assertArrayEquals(new double[]{901, 801, 801, 701, 601, 501, 401, 301, 201, 101, 1},
                cfg("steps_offset", 1, "skip_prk_steps", true).create(10, seed0()).timesteps());
    }

    @Test void fullLoopNoNoise() {
        assertSumMean(fullLoop(cfg().create(10, seed0()), false), 198.1318, 0.2580);
    }

    @Test void fullLoopWithVPrediction() {
        assertSumMean(fullLoop(cfg("prediction_type", "v_prediction").create(10, seed0()), false), 67.3986, 0.0878);
    }

    @Test void fullLoopWithSetAlphaToOne() {
        assertSumMean(fullLoop(cfg("set_alpha_to_one", true, "beta_start", 0.01).create(10, seed0()), false), 230.0399, 0.2995);
    }

    @Test void fullLoopWithNoSetAlphaToOne() {
        assertSumMean(fullLoop(cfg("set_alpha_to_one", false, "beta_start", 0.01).create(10, seed0()), false), 186.9482, 0.2434);
    }

    @Test void skipPrkLoopIsFiniteAndOutOfOrderStepsFail() {
        Scheduler s = cfg("skip_prk_steps", true, "steps_offset", 1).create(10, seed0());
        assertTrue(fullLoop(s, false).isnan().any().item_double() == 0);
        Scheduler t = cfg("skip_prk_steps", true).create(10, seed0());
        t.step(dummySampleDeter(), 0, dummySampleDeter());
        assertThrows(IllegalStateException.class, () -> t.step(dummySampleDeter(), 2, dummySampleDeter()));
    }
}
