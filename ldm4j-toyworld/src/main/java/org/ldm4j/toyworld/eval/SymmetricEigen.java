package org.ldm4j.toyworld.eval;

/**
 * Eigen-decomposition of a real symmetric matrix by the cyclic Jacobi method (Golub & Van Loan, "Matrix
 * Computations", sec. 8.5): plane rotations zero the off-diagonal entries one by one until their norm is negligible.
 * Quadratically convergent and accurate to working precision for the 64-256 dimensional covariances of the
 * ToyWorld-FID; done in Java doubles so the metric has no dependence on a native LAPACK build.
 */
public final class SymmetricEigen {
    private static final int MAX_SWEEPS = 100;

    private SymmetricEigen() {}

    /** Eigenvalues and eigenvectors: {@code vectors[i][k]} is component i of eigenvector k (columns). */
    public record Result(double[] values, double[][] vectors) {}

    public static Result decompose(double[][] matrix) {
        int n = matrix.length;
        double[][] a = new double[n][];
        for (int i = 0; i < n; i++) {
            if (matrix[i].length != n) throw new IllegalArgumentException("matrix is not square: row " + i + " has " + matrix[i].length + " entries, expected " + n);
            a[i] = matrix[i].clone();
        }
        double[][] v = new double[n][n];
        for (int i = 0; i < n; i++) v[i][i] = 1;
        double scale = 0;
        for (double[] row : a) for (double x : row) scale += x * x;
        double tolerance = 1e-30 * Math.max(scale, Double.MIN_NORMAL);
        for (int sweep = 0; sweep < MAX_SWEEPS; sweep++) {
            double off = 0;
            for (int p = 0; p < n; p++) for (int q = p + 1; q < n; q++) off += a[p][q] * a[p][q];
            if (off <= tolerance) break;
            for (int p = 0; p < n; p++) {
                for (int q = p + 1; q < n; q++) {
                    double apq = a[p][q];
                    if (apq == 0) continue;
                    // rotation angle that zeroes a[p][q] (the smaller of the two solutions, for stability)
                    double theta = (a[q][q] - a[p][p]) / (2 * apq);
                    double t = Math.signum(theta) / (Math.abs(theta) + Math.sqrt(theta * theta + 1));
                    if (theta == 0) t = 1;
                    double c = 1 / Math.sqrt(t * t + 1), s = t * c;
                    for (int k = 0; k < n; k++) {
                        double akp = a[k][p], akq = a[k][q];
                        a[k][p] = c * akp - s * akq;
                        a[k][q] = s * akp + c * akq;
                    }
                    for (int k = 0; k < n; k++) {
                        double apk = a[p][k], aqk = a[q][k];
                        a[p][k] = c * apk - s * aqk;
                        a[q][k] = s * apk + c * aqk;
                    }
                    for (int k = 0; k < n; k++) {
                        double vkp = v[k][p], vkq = v[k][q];
                        v[k][p] = c * vkp - s * vkq;
                        v[k][q] = s * vkp + c * vkq;
                    }
                }
            }
        }
        double[] values = new double[n];
        for (int i = 0; i < n; i++) values[i] = a[i][i];
        return new Result(values, v);
    }

    /** The symmetric square root V·diag(√max(λ, 0))·Vᵀ of a symmetric positive semi-definite matrix. */
    public static double[][] sqrtPsd(double[][] m) {
        Result r = decompose(m);
        int n = m.length;
        double[] root = new double[n];
        for (int k = 0; k < n; k++) root[k] = Math.sqrt(Math.max(0, r.values()[k]));
        double[][] out = new double[n][n];
        double[][] v = r.vectors();
        for (int i = 0; i < n; i++) {
            for (int j = i; j < n; j++) {
                double s = 0;
                for (int k = 0; k < n; k++) s += v[i][k] * root[k] * v[j][k];
                out[i][j] = s;
                out[j][i] = s;
            }
        }
        return out;
    }
}
