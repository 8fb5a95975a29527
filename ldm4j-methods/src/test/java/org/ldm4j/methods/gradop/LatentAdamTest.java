package org.ldm4j.methods.gradop;

import org.bytedeco.pytorch.Scalar;
import org.bytedeco.pytorch.Tensor;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.ldm4j.nn.Engine;
import org.ldm4j.nn.Tensors;

import static org.junit.jupiter.api.Assertions.*;

class LatentAdamTest {
    @BeforeAll static void threads() { Engine.threads(1); }

    /** f(z) = ½ Σ a_i (z_i − c_i)², ∇f = a·(z − c): the tensor Adam against the recurrence written out in doubles. */
    @Test void followsTorchAdamOnAQuadratic() {
        double[] a = {0.5, 2.0, 10.0, 0.01}, c = {1.0, -2.0, 0.3, 4.0}, z0 = {0.0, 0.0, 1.0, -1.0};
        double lr = 0.1, b1 = 0.9, b2 = 0.999, eps = 1e-8;
        Tensor z = Tensors.ofFloats(toFloats(z0), 4);
        Tensor aT = Tensors.ofFloats(toFloats(a), 4), cT = Tensors.ofFloats(toFloats(c), 4);
        LatentAdam adam = new LatentAdam(z, lr);
        double[] zr = z0.clone(), m = new double[4], v = new double[4];
        for (int k = 1; k <= 30; k++) {
            Tensor g = aT.mul(z.sub(cT));
            adam.step(z, g);
            for (int i = 0; i < 4; i++) {
                double gi = a[i] * (zr[i] - c[i]);
                m[i] = b1 * m[i] + (1 - b1) * gi;
                v[i] = b2 * v[i] + (1 - b2) * gi * gi;
                double denom = Math.sqrt(v[i]) / Math.sqrt(1 - Math.pow(b2, k)) + eps;
                zr[i] -= lr / (1 - Math.pow(b1, k)) * m[i] / denom;
            }
            float[] got = Tensors.toFloats(z);
            for (int i = 0; i < 4; i++) assertEquals(zr[i], got[i], 1e-5, "step " + k + " coordinate " + i);
            if (k == 1) {
                // Adam's first step moves every coordinate by lr against the gradient's sign, whatever its size
                for (int i = 0; i < 4; i++) assertEquals(z0[i] - lr * Math.signum(a[i] * (z0[i] - c[i])), got[i], 1e-6);
            }
        }
        assertEquals(30, adam.stepCount());
        // and it makes progress on the objective
        double f0 = 0, f1 = 0;
        float[] got = Tensors.toFloats(z);
        for (int i = 0; i < 4; i++) {
            f0 += 0.5 * a[i] * (z0[i] - c[i]) * (z0[i] - c[i]);
            f1 += 0.5 * a[i] * (got[i] - c[i]) * (got[i] - c[i]);
        }
        assertTrue(f1 < f0 / 2, f1 + " vs " + f0);
        assertThrows(IllegalArgumentException.class, () -> new LatentAdam(z.mul(new Scalar(1)), 0));
    }

    private static float[] toFloats(double[] d) {
        float[] f = new float[d.length];
        for (int i = 0; i < d.length; i++) f[i] = (float) d[i];
        return f;
    }
}
