package org.ldm4j.schedulers;

import org.bytedeco.pytorch.global.torch;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.ldm4j.schedulers.EulerDiscreteSchedulerTest.cfg;
import static org.ldm4j.schedulers.SchedulerFixtures.*;

/** Published figures of diffusers' {@code tests/schedulers/test_scheduler_lms.py}. */
class LMSDiscreteSchedulerTest {
    @BeforeAll static void threads() { torch.set_num_threads(1); }

    @Test void fullLoopNoNoise() {
        assertSumMean(fullLoop(cfg(Schedulers.LMS).create(10, seed0()), true), 1006.388, 1.31);
    }

    @Test void fullLoopWithVPrediction() {
        assertSumMean(fullLoop(cfg(Schedulers.LMS, "prediction_type", "v_prediction").create(10, seed0()), true), 0.0017, 2.2676e-06);
    }

    @Test void fullLoopKarrasSigmas() {
        assertSumMean(fullLoop(cfg(Schedulers.LMS, "use_karras_sigmas", true).create(10, seed0()), true), 3812.9927, 2e-2, 4.9648);
    }

    @Test void fullLoopWithNoise() {
        assertSumMean(fullLoop(cfg(Schedulers.LMS).create(10, seed0()), true, 8, true), 27663.6895, 36.0204);
    }

    @Test void firstCoefficientIsTheEulerStep() {
        // order 1: the Lagrange basis is 1, so the coefficient is sigma_1 - sigma_0
        LMSDiscreteScheduler s = (LMSDiscreteScheduler) cfg(Schedulers.LMS).create(10, seed0());
        float[] sig = s.sigmas();
        assertEquals((double) sig[1] - sig[0], s.lmsCoefficient(1, 0, 0), 1e-9);
    }
}
