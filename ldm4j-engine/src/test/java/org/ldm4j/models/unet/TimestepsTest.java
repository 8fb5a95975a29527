package org.ldm4j.models.unet;

import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.ldm4j.nn.Dtypes;
import org.ldm4j.nn.Engine;

import static org.junit.jupiter.api.Assertions.*;

class TimestepsTest {
    @BeforeAll static void init() { Engine.threads(1); }

    /** diffusers get_timestep_embedding, evaluated in double precision. */
    static double expected(double t, int i, int dim, boolean flip, double shift) {
        int half = dim / 2;
        if (i >= 2 * half) return 0.0;                                    // odd-dim padding
        boolean firstHalf = i < half;
        int j = firstHalf ? i : i - half;
        double arg = t * Math.exp(-Math.log(10000) * j / (half - shift));
        boolean sinPart = firstHalf != flip;                              // [sin, cos] or flipped [cos, sin]
        return sinPart ? Math.sin(arg) : Math.cos(arg);
    }

    @Test void matchesTheFormulaForBothFlipsAndShifts() {
        float[] ts = {0f, 1f, 37.5f, 500f, 999f};
        for (int dim : new int[]{320, 7}) {
            for (boolean flip : new boolean[]{true, false}) {
                for (double shift : new double[]{0, 1}) {
                    Tensor emb = new Timesteps(dim, flip, shift).forward(torch.tensor(ts));
                    assertTrue(Dtypes.isFloat32(emb));
                    assertArrayEquals(new long[]{ts.length, dim}, emb.sizes().vec().get());
                    double worst = 0;
                    for (int b = 0; b < ts.length; b++) {
                        for (int i = 0; i < dim; i++) {
                            double got = emb.select(0, b).select(0, i).item_double();
                            worst = Math.max(worst, Math.abs(got - expected(ts[b], i, dim, flip, shift)));
                        }
                    }
                    // float32 arguments up to ~1000 rad carry ~6e-5 absolute error
                    assertTrue(worst < 3e-4, "dim " + dim + " flip " + flip + " shift " + shift + ": " + worst);
                }
            }
        }
    }

    @Test void integerTimestepsGiveTheSameEmbedding() {
        Tensor f = new Timesteps(64, true, 0).forward(torch.tensor(new float[]{10f, 981f}));
        Tensor l = new Timesteps(64, true, 0).forward(torch.tensor(new long[]{10L, 981L}));
        assertEquals(0.0, f.sub(l).abs().max().item_double());
        // t = 0 with flip: cos(0) = 1 first, sin(0) = 0 second
        Tensor zero = new Timesteps(8, true, 0).forward(torch.tensor(new float[]{0f}));
        assertEquals(4.0, zero.narrow(1, 0, 4).sum().item_double(), 1e-6);
        assertEquals(0.0, zero.narrow(1, 4, 4).abs().sum().item_double(), 1e-6);
    }
}
