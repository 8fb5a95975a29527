package org.ldm4j.schedulers;

import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.ldm4j.nn.Rng;

import static org.junit.jupiter.api.Assertions.*;
import static org.ldm4j.schedulers.SchedulerFixtures.*;

/** Published figures of diffusers' {@code tests/schedulers/test_scheduler_dpm_multi.py}. */
class DPMSolverMultistepSchedulerTest {
    @BeforeAll static void threads() { torch.set_num_threads(1); }

    static SchedulerConfig cfg(Object... extra) {
        Object[] base = {"num_train_timesteps", 1000, "beta_start", 0.0001, "beta_end", 0.02, "beta_schedule", "linear",
                "solver_order", 2, "prediction_type", "epsilon", "thresholding", false, "sample_max_value", 1.0,
                "algorithm_type", "dpmsolver++", "solver_type", "midpoint", "lower_order_final", false,
                "euler_at_final", false, "lambda_min_clipped", Double.NEGATIVE_INFINITY, "variance_type", null,
                "final_sigmas_type", "sigma_min"};
        Object[] all = new Object[base.length + extra.length];
        System.arraycopy(base, 0, all, 0, base.length);
        System.arraycopy(extra, 0, all, base.length, extra.length);
        return config(Schedulers.DPM_SOLVER_MULTISTEP, all);
    }

    @Test void fullLoopNoNoise() {
        assertMean(fullLoop(cfg().create(10, seed0()), false), 0.3301);
    }

    @Test void fullLoopWithNoise() {
        assertSumMean(fullLoop(cfg().create(10, seed0()), false, 5, true), 318.4111, 0.4146);
    }

    @Test void fullLoopNoNoiseThresholding() {
        assertMean(fullLoop(cfg("thresholding", true, "dynamic_thresholding_ratio", 0.87, "sample_max_value", 0.5)
                .create(10, seed0()), false), 1.1364);
    }

    @Test void fullLoopWithVPrediction() {
        assertMean(fullLoop(cfg("prediction_type", "v_prediction").create(10, seed0()), false), 0.2251);
    }

    @Test void fullLoopWithKarrasAndVPrediction() {
        assertMean(fullLoop(cfg("prediction_type", "v_prediction", "use_karras_sigmas", true).create(10, seed0()), false), 0.2096);
    }

    @Test void fullLoopWithLuLambdasAndVPrediction() {
        assertMean(fullLoop(cfg("prediction_type", "v_prediction", "use_lu_lambdas", true).create(10, seed0()), false), 0.1554);
    }

    @Test void switchKeepsTheFigure() {
        // test_switch: a config written out and read back (from_config of its own config) gives the same figure
        SchedulerConfig back = Schedulers.DPM_SOLVER_MULTISTEP.fromConfig(cfg());
        assertMean(fullLoop(back.create(10, seed0()), false), 0.3301);
    }

    @Test void everyOrderAndSolverIsFinite() {
        for (String algorithm : new String[]{"dpmsolver++", "sde-dpmsolver++"}) {
            for (String solver : new String[]{"midpoint", "heun"}) {
                for (int order = 1; order <= 3; order++) {
                    for (String prediction : new String[]{"epsilon", "sample"}) {
                        Tensor out = fullLoop(cfg("solver_order", order, "solver_type", solver, "prediction_type", prediction,
                                "algorithm_type", algorithm).create(10, new Rng(0)), false);
                        assertEquals(0, out.isnan().any().item_double(), algorithm + " " + solver + " " + order);
                    }
                }
            }
        }
    }

    @Test void lowerOrderFinalWithZeroFinalSigmaEndsOnX0() {
        Scheduler s = cfg("final_sigmas_type", "zero").create(10, seed0());
        Tensor x = dummySampleDeter();
        Scheduler.StepOutput last = null;
        double[] ts = s.timesteps();
        for (int i = 0; i < ts.length; i++) {
            last = s.step(dummyModel(x, ts[i]), i, x);
            x = last.prevSample();
        }
        assertTrue(last.prevSample().allclose(last.predOriginalSample(), 1e-6, 1e-6, false));
    }
}
