package org.ldm4j.toyworld.eval;

/**
 * The Fréchet distance between Gaussians fitted to two feature sets (Heusel et al. 2017, "GANs trained by a two
 * time-scale update rule", eq. 6; the FID when the features are Inception pool3):
 * <pre>  d² = ‖μ₁ − μ₂‖² + Tr(Σ₁ + Σ₂ − 2 (Σ₁ Σ₂)^½)</pre>
 *
 * <p>Tr((Σ₁Σ₂)^½) is computed as Tr((Σ₁^½ Σ₂ Σ₁^½)^½): the two matrices are similar, and the second is symmetric
 * positive semi-definite, so both square roots come from symmetric eigen-decompositions ({@link SymmetricEigen})
 * with negative round-off eigenvalues clamped to 0 — no complex arithmetic as scipy's {@code sqrtm} needs.
 * Covariances use the unbiased (n − 1) normalisation, as pytorch-fid's {@code np.cov} does.
 */
public final class FrechetDistance {
    private FrechetDistance() {}

    /** Mean and covariance of a feature set. */
    public record Statistics(double[] mean, double[][] covariance, int count) {
        public int dim() { return mean.length; }
    }

    /** Fits mean and covariance to {@code features[n][d]} (at least 2 rows). */
    public static Statistics statistics(double[][] features) {
        int n = features.length;
        if (n < 2) throw new IllegalArgumentException("Fréchet distance needs at least 2 feature vectors, got " + n);
        int d = features[0].length;
        double[] mean = new double[d];
        for (double[] f : features) {
            if (f.length != d) throw new IllegalArgumentException("feature vectors differ in length: " + f.length + " vs " + d);
            for (int i = 0; i < d; i++) mean[i] += f[i];
        }
        for (int i = 0; i < d; i++) mean[i] /= n;
        double[][] cov = new double[d][d];
        double[] c = new double[d];
        for (double[] f : features) {
            for (int i = 0; i < d; i++) c[i] = f[i] - mean[i];
            for (int i = 0; i < d; i++) {
                double ci = c[i];
                for (int j = i; j < d; j++) cov[i][j] += ci * c[j];
            }
        }
        for (int i = 0; i < d; i++) {
            for (int j = i; j < d; j++) {
                cov[i][j] /= (n - 1);
                cov[j][i] = cov[i][j];
            }
        }
        return new Statistics(mean, cov, n);
    }

    public static double distance(double[][] a, double[][] b) { return distance(statistics(a), statistics(b)); }

    public static double distance(Statistics a, Statistics b) {
        if (a.dim() != b.dim()) throw new IllegalArgumentException("feature dimensions differ: " + a.dim() + " vs " + b.dim());
        int d = a.dim();
        double meanTerm = 0;
        for (int i = 0; i < d; i++) {
            double diff = a.mean()[i] - b.mean()[i];
            meanTerm += diff * diff;
        }
        double[][] rootA = SymmetricEigen.sqrtPsd(a.covariance());
        double[][] middle = multiply(multiply(rootA, b.covariance()), rootA);
        symmetrize(middle);
        double traceCross = 0;
        for (double v : SymmetricEigen.decompose(middle).values()) traceCross += Math.sqrt(Math.max(0, v));
        return meanTerm + trace(a.covariance()) + trace(b.covariance()) - 2 * traceCross;
    }

    static double trace(double[][] m) {
        double t = 0;
        for (int i = 0; i < m.length; i++) t += m[i][i];
        return t;
    }

    static double[][] multiply(double[][] a, double[][] b) {
        int n = a.length, k = b.length, m = b[0].length;
        double[][] out = new double[n][m];
        for (int i = 0; i < n; i++) {
            for (int p = 0; p < k; p++) {
                double aip = a[i][p];
                if (aip == 0) continue;
                double[] bp = b[p], oi = out[i];
                for (int j = 0; j < m; j++) oi[j] += aip * bp[j];
            }
        }
        return out;
    }

    private static void symmetrize(double[][] m) {
        for (int i = 0; i < m.length; i++) {
            for (int j = i + 1; j < m.length; j++) {
                double v = 0.5 * (m[i][j] + m[j][i]);
                m[i][j] = v;
                m[j][i] = v;
            }
        }
    }
}
