package org.ldm4j.schedulers;

import org.bytedeco.pytorch.Scalar;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.*;
import static org.ldm4j.schedulers.SchedulerFixtures.*;

class NoiseScheduleTest {
    @BeforeAll static void threads() { torch.set_num_threads(1); }

    private static final NoiseSchedule SD = NoiseSchedule.of(1000, 0.00085, 0.012, "scaled_linear", null, false);

    @Test void scaledLinearEndpointsAndMonotoneAlphaBar() {
        float[] b = SD.betas();
        assertEquals(0.00085, b[0], 1e-9);
        assertEquals(0.012, b[999], 1e-8);
        float[] ac = SD.alphasCumprod();
        assertEquals(1 - b[0], ac[0], 1e-9);
        for (int t = 1; t < ac.length; t++) assertTrue(ac[t] < ac[t - 1]);
        assertEquals(0.0047, ac[999], 1e-4);          // SD's terminal alphaBar (sigma_max ~ 14.6)
    }

    @Test void cosineBetasAreCapped() {
        float[] b = NoiseSchedule.of(1000, 0, 0, "squaredcos_cap_v2", null, false).betas();
        assertEquals(0.999f, b[999]);
        assertTrue(b[0] > 0 && b[0] < 1e-4);
    }

    @Test void zeroTerminalSnrRescaleReachesAlphaBarZero() {
        float[] ac = NoiseSchedule.of(1000, 0.00085, 0.012, "scaled_linear", null, true).alphasCumprod();
        assertEquals(0.0, ac[999], 1e-7);
        assertEquals(SD.alphaCumprod(0), ac[0], 1e-6);
    }

    @Test void batchedAddNoiseMatchesPerTimestepAndVelocityInverts() {
        Tensor x0 = dummySampleDeter(), noise = dummyNoiseDeter();
        Tensor ts = torch.tensor(new long[]{0, 10, 500, 999});
        Tensor batched = SD.addNoise(x0, noise, ts);
        for (int b = 0; b < 4; b++) {
            int t = (int) ts.select(0, b).item_long();
            Tensor single = SD.addNoise(x0, noise, t).select(0, b);
            assertTrue(batched.select(0, b).equal(single), "example " + b);
        }
        // x0 = sqrt(aBar) x_t - sqrt(1 - aBar) v (Salimans and Ho 2022)
        int t = 700;
        Tensor xt = SD.addNoise(x0, noise, t);
        Tensor v = SD.velocity(x0, noise, t);
        double a = SD.alphaCumprod(t);
        Tensor back = xt.mul(new Scalar(Math.sqrt(a))).sub(v.mul(new Scalar(Math.sqrt(1 - a))));
        assertTrue(back.allclose(x0, 1e-5, 1e-5, false));
    }

    @Test void variancesOutsideZeroToOneAreRefusedWithTheirKey() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> NoiseSchedule.of(1000, 5.0e85, 0.012, "scaled_linear", null, false));
        assertTrue(e.getMessage().contains("'beta_start'"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class,
                () -> NoiseSchedule.of(3, 0.1, 0.2, "linear", java.util.Arrays.asList(0.1, Double.NaN, 0.3), false));
        assertTrue(e.getMessage().contains("'trained_betas[1]'"), e.getMessage());
    }
}
