package org.ldm4j.toyworld.eval;

import org.bytedeco.pytorch.T_TensorTensor_T;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.ldm4j.nn.Tensors;

import java.util.Arrays;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

class FrechetDistanceTest {
    @BeforeAll
    static void threads() { torch.set_num_threads(1); }

    @Test
    void squareRootOf2x2MatchesClosedForm() {
        // sqrt(M) = (M + sqrt(det M) I) / sqrt(tr M + 2 sqrt(det M)) for 2x2 symmetric positive definite M
        double[][] m = {{5, 2}, {2, 3}};
        double s = Math.sqrt(5 * 3 - 4), t = Math.sqrt(8 + 2 * s);
        double[][] root = SymmetricEigen.sqrtPsd(m);
        assertEquals((5 + s) / t, root[0][0], 1e-12);
        assertEquals(2 / t, root[0][1], 1e-12);
        assertEquals(2 / t, root[1][0], 1e-12);
        assertEquals((3 + s) / t, root[1][1], 1e-12);
    }

    @Test
    void jacobiMatchesLibtorchEigh() {
        Random r = new Random(3);
        int n = 24;
        double[][] a = new double[n][n];
        float[] flat = new float[n * n];
        for (int i = 0; i < n; i++) for (int j = i; j < n; j++) a[i][j] = a[j][i] = r.nextGaussian();
        for (int i = 0; i < n; i++) for (int j = 0; j < n; j++) flat[i * n + j] = (float) a[i][j];
        SymmetricEigen.Result mine = SymmetricEigen.decompose(a);
        T_TensorTensor_T ref = torch.linalg_eigh(Tensors.ofFloats(flat, n, n).to(torch.ScalarType.Double));
        float[] refValues = Tensors.toFloats(ref.get0());
        double[] sorted = mine.values().clone();
        Arrays.sort(sorted);
        for (int i = 0; i < n; i++) assertEquals(refValues[i], sorted[i], 1e-5);
        // A v = λ v for every pair
        for (int k = 0; k < n; k++) {
            for (int i = 0; i < n; i++) {
                double av = 0;
                for (int j = 0; j < n; j++) av += a[i][j] * mine.vectors()[j][k];
                assertEquals(mine.values()[k] * mine.vectors()[i][k], av, 1e-10);
            }
        }
    }

    @Test
    void identicalSetsAreAtDistanceZero() {
        double[][] x = gaussian(400, 16, 0.0, 1.0, 5);
        assertEquals(0.0, FrechetDistance.distance(x, x), 1e-8);
    }

    @Test
    void shiftedSetIsAtSquaredMeanDifference() {
        double[][] x = gaussian(300, 8, 0.0, 1.0, 6);
        double[] shift = {0.5, -1, 2, 0, 0, 0.25, 0, 3};
        double[][] y = new double[x.length][];
        for (int i = 0; i < x.length; i++) {
            y[i] = x[i].clone();
            for (int k = 0; k < 8; k++) y[i][k] += shift[k];
        }
        double expected = 0;
        for (double s : shift) expected += s * s;
        assertEquals(expected, FrechetDistance.distance(x, y), 1e-8);
    }

    @Test
    void diagonalGaussiansMatchClosedForm() {
        // equal means, covariances diag(a) and diag(b): d² = Σ (√a − √b)²
        FrechetDistance.Statistics p = new FrechetDistance.Statistics(new double[3], new double[][]{{4, 0, 0}, {0, 1, 0}, {0, 0, 9}}, 10);
        FrechetDistance.Statistics q = new FrechetDistance.Statistics(new double[]{1, 0, 0}, new double[][]{{1, 0, 0}, {0, 1, 0}, {0, 0, 4}}, 10);
        assertEquals(1 + 1 + 0 + 1, FrechetDistance.distance(p, q), 1e-10);
        // and a sampled version converges to it: N(0, 4 I) vs N(0, I) in 4 dims -> 4 · (2 − 1)² = 4
        double d = FrechetDistance.distance(gaussian(20000, 4, 0, 2, 7), gaussian(20000, 4, 0, 1, 8));
        assertEquals(4.0, d, 0.15);
        assertTrue(FrechetDistance.distance(gaussian(500, 4, 0, 1, 9), gaussian(500, 4, 0, 1, 10)) < 0.1);
    }

    static double[][] gaussian(int n, int d, double mean, double std, long seed) {
        Random r = new Random(seed);
        double[][] out = new double[n][d];
        for (double[] row : out) for (int k = 0; k < d; k++) row[k] = mean + std * r.nextGaussian();
        return out;
    }
}
