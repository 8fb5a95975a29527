package org.ldm4j.schedulers;

/**
 * Sigma-space helpers shared by the Euler, LMS and DPM-Solver ports, in double like the numpy code they mirror.
 *
 * <p>Karras et al. 2022 ("Elucidating the Design Space of Diffusion-Based Generative Models"), eq. 5:
 * {@code sigma_i = (sigmaMax^(1/rho) + i/(N-1) (sigmaMin^(1/rho) - sigmaMax^(1/rho)))^rho}, rho = 7.
 */
final class SigmaSchedules {
    private SigmaSchedules() {}

    /** diffusers {@code _convert_to_karras}: N sigmas from sigmaMax down to sigmaMin. */
    static double[] karras(double sigmaMin, double sigmaMax, int n) {
        double rho = 7.0;
        double[] ramp = TimestepSpacing.linspace(0, 1, n);
        double minInvRho = Math.pow(sigmaMin, 1 / rho);
        double maxInvRho = Math.pow(sigmaMax, 1 / rho);
        double[] out = new double[n];
        for (int i = 0; i < n; i++) out[i] = Math.pow(maxInvRho + ramp[i] * (minInvRho - maxInvRho), rho);
        return out;
    }

    /** diffusers {@code _convert_to_exponential}: N sigmas evenly spaced in log sigma. */
    static double[] exponential(double sigmaMin, double sigmaMax, int n) {
        double[] logs = TimestepSpacing.linspace(Math.log(sigmaMax), Math.log(sigmaMin), n);
        double[] out = new double[n];
        for (int i = 0; i < n; i++) out[i] = Math.exp(logs[i]);
        return out;
    }

    /** The {@code use_karras_sigmas} (else {@code use_exponential_sigmas}) re-spacing of N sigmas from sigmaMax to sigmaMin. */
    static double[] respaced(boolean karras, double sigmaMin, double sigmaMax, int n) {
        return karras ? karras(sigmaMin, sigmaMax, n) : exponential(sigmaMin, sigmaMax, n);
    }

    /**
     * The fractional training timestep of each re-spaced sigma ({@link #sigmaToT} against the training sigmas), in
     * float32 as the Euler and LMS {@code set_timesteps} keep them.
     */
    static double[] timestepsOf(double[] sigmas, float[] trainingSigmas) {
        float[] logSigmas = logSigmas(trainingSigmas);
        double[] timesteps = new double[sigmas.length];
        for (int i = 0; i < sigmas.length; i++) timesteps[i] = (float) sigmaToT(sigmas[i], logSigmas);
        return timesteps;
    }

    /** {@code np.log(sigmas)} of a float32 sigma table: a float32 result. */
    static float[] logSigmas(float[] sigmas) {
        float[] out = new float[sigmas.length];
        for (int i = 0; i < out.length; i++) out[i] = (float) Math.log(sigmas[i]);
        return out;
    }

    /**
     * diffusers {@code _sigma_to_t}: the fractional training timestep whose sigma is {@code sigma}, by linear
     * interpolation in log sigma between the two neighbouring training sigmas (ascending table).
     */
    static double sigmaToT(double sigma, float[] logSigmas) {
        double logSigma = Math.log(Math.max(sigma, 1e-10));
        int count = 0;                                 // cumsum(dists >= 0).argmax() == (number of trues) - 1
        for (float ls : logSigmas) if (logSigma - ls >= 0) count++;
        int low = Math.min(Math.max(count - 1, 0), logSigmas.length - 2);
        int high = low + 1;
        double lo = logSigmas[low], hi = logSigmas[high];
        double w = (lo - logSigma) / (lo - hi);
        w = Math.min(Math.max(w, 0), 1);
        return (1 - w) * low + w * high;
    }
}
