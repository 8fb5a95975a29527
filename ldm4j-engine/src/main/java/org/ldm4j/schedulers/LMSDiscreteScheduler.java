package org.ldm4j.schedulers;

import org.bytedeco.pytorch.Scalar;
import org.bytedeco.pytorch.Tensor;
import org.ldm4j.nn.Rng;

import java.util.ArrayList;
import java.util.List;

/**
 * Linear multistep in sigma (Karras et al. 2022, after k-diffusion's {@code sample_lms}), port of diffusers
 * {@code scheduling_lms_discrete.py}: {@code x_{i+1} = x_i + sum_k c_k d_{i-k}}, where c_k integrates the k-th
 * Lagrange basis polynomial through the last {@code order} sigmas over [sigma_i, sigma_{i+1}].
 *
 * <p>diffusers integrates with scipy's {@code quad}; the integrand is a polynomial of degree at most 3, which
 * 4-point Gauss-Legendre integrates exactly.
 */
public final class LMSDiscreteScheduler extends KarrasSigmaScheduler {

    /** {@code scheduler_config.json} of an {@code LMSDiscreteScheduler}; missing keys take diffusers' defaults. */
    public record Config(Integer numTrainTimesteps, Double betaStart, Double betaEnd, String betaSchedule,
                         List<Double> trainedBetas, Boolean useKarrasSigmas, Boolean useExponentialSigmas,
                         Boolean useBetaSigmas, String predictionType, String timestepSpacing,
                         Integer stepsOffset) implements SchedulerConfig {
        public Config {
            numTrainTimesteps = ConfigValues.or(numTrainTimesteps, 1000);
            betaStart = ConfigValues.or(betaStart, 0.0001);
            betaEnd = ConfigValues.or(betaEnd, 0.02);
            betaSchedule = ConfigValues.oneOf("beta_schedule", ConfigValues.or(betaSchedule, "linear"), NoiseSchedule.BETA_SCHEDULES);
            useKarrasSigmas = ConfigValues.or(useKarrasSigmas, false);
            useExponentialSigmas = ConfigValues.or(useExponentialSigmas, false);
            useBetaSigmas = ConfigValues.or(useBetaSigmas, false);
            ConfigValues.checkSigmaSpacing(useKarrasSigmas, useExponentialSigmas, useBetaSigmas);
            predictionType = ConfigValues.oneOf("prediction_type", ConfigValues.or(predictionType, "epsilon"), DDIMScheduler.PREDICTION_TYPES);
            timestepSpacing = ConfigValues.oneOf("timestep_spacing", ConfigValues.or(timestepSpacing, "linspace"), TimestepSpacing.NAMES);
            stepsOffset = ConfigValues.or(stepsOffset, 0);
        }

        @Override public NoiseSchedule noiseSchedule() {
            return NoiseSchedule.of(numTrainTimesteps, betaStart, betaEnd, betaSchedule, trainedBetas, false);
        }

        @Override public Scheduler create(int numInferenceSteps, Rng rng) {
            return new LMSDiscreteScheduler(this, numInferenceSteps);
        }
    }

    private static final int MAX_ORDER = 4;
    private static final double[] GAUSS_NODES = {-0.8611363115940526, -0.3399810435848563, 0.3399810435848563, 0.8611363115940526};
    private static final double[] GAUSS_WEIGHTS = {0.3478548451374538, 0.6521451548625461, 0.6521451548625461, 0.3478548451374538};

    private final Config config;
    private final List<Tensor> derivatives = new ArrayList<>();
    private int lastIndex = -1;

    private LMSDiscreteScheduler(Config config, int steps) {
        super(table(config, steps), config.timestepSpacing());
        this.config = config;
    }

    private static Table table(Config c, int steps) {
        ConfigValues.checkSteps(steps);
        float[] train = KarrasSigmaScheduler.trainingSigmas(c.noiseSchedule(), false);
        double[] timesteps = TimestepSpacing.float32(c.timestepSpacing(), c.numTrainTimesteps(), steps, c.stepsOffset());
        double[] sigmas = new double[steps];
        for (int i = 0; i < steps; i++) sigmas[i] = TimestepSpacing.interp(timesteps[i], train);
        if (c.useKarrasSigmas() || c.useExponentialSigmas()) {
            double min = sigmas[steps - 1], max = sigmas[0];
            sigmas = SigmaSchedules.respaced(c.useKarrasSigmas(), min, max, steps);
            timesteps = SigmaSchedules.timestepsOf(sigmas, train);
        }
        float[] out = new float[steps + 1];
        for (int i = 0; i < steps; i++) out[i] = (float) sigmas[i];
        return new Table(out, timesteps);
    }

    /** diffusers {@code get_lms_coefficient}: integral of the Lagrange basis for d_{t - current}. */
    double lmsCoefficient(int order, int t, int current) {
        double a = sigmas[t], b = sigmas[t + 1];
        double half = (b - a) / 2, mid = (a + b) / 2, sum = 0;
        for (int g = 0; g < GAUSS_NODES.length; g++) {
            double tau = mid + half * GAUSS_NODES[g];
            double prod = 1.0;
            for (int k = 0; k < order; k++) {
                if (k == current) continue;
                prod *= (tau - sigmas[t - k]) / ((double) sigmas[t - current] - sigmas[t - k]);
            }
            sum += GAUSS_WEIGHTS[g] * prod;
        }
        return sum * half;
    }

    @Override public StepOutput step(Tensor modelOutput, int i, Tensor sample) {
        if (lastIndex >= 0 && i != lastIndex + 1) {
            throw new IllegalStateException("LMS keeps a history: step " + i + " follows step " + lastIndex);
        }
        lastIndex = i;
        float sigma = sigmas[i];
        Tensor x0 = predictOriginal(config.predictionType(), modelOutput, sample, sigma);
        derivatives.add(History.hold(sample.sub(x0).div(new Scalar(sigma))));
        if (derivatives.size() > MAX_ORDER) History.release(derivatives.remove(0));

        // diffusers takes the order from the index, not from the history: a run started at i > 0 (img2img)
        // uses higher-order coefficients with fewer derivatives (zip truncates), kept for parity
        int order = Math.min(i + 1, MAX_ORDER);
        Tensor update = null;
        int pairs = Math.min(order, derivatives.size());
        for (int k = 0; k < pairs; k++) {
            Tensor term = derivatives.get(derivatives.size() - 1 - k).mul(new Scalar(lmsCoefficient(order, i, k)));
            update = update == null ? term : update.add(term);
        }
        Tensor prev = sample.add(update);
        if (i == timesteps.length - 1) {
            derivatives.forEach(History::release);
            derivatives.clear();
        }
        return new StepOutput(prev, x0);
    }
}
