package org.ldm4j.schedulers;

import org.bytedeco.pytorch.global.torch;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import static org.ldm4j.schedulers.EulerDiscreteSchedulerTest.cfg;
import static org.ldm4j.schedulers.SchedulerFixtures.*;

/** Published figures of diffusers' {@code tests/schedulers/test_scheduler_euler_ancestral.py} (generator seed 0). */
class EulerAncestralDiscreteSchedulerTest {
    @BeforeAll static void threads() { torch.set_num_threads(1); }

    @Test void fullLoopNoNoise() {
        assertSumMean(fullLoop(cfg(Schedulers.EULER_ANCESTRAL).create(10, seed0()), true), 152.3192, 0.1983);
    }

    @Test void fullLoopWithVPrediction() {
        assertSumMean(fullLoop(cfg(Schedulers.EULER_ANCESTRAL, "prediction_type", "v_prediction").create(10, seed0()), true),
                108.4439, 0.1412);
    }

    @Test void fullLoopWithNoise() {
        assertSumMean(fullLoop(cfg(Schedulers.EULER_ANCESTRAL).create(10, seed0()), true, 8, true), 56163.0508, 73.1290);
    }
}
