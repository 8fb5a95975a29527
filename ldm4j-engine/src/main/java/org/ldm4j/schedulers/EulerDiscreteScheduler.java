package org.ldm4j.schedulers;

import org.bytedeco.pytorch.Scalar;
import org.bytedeco.pytorch.Tensor;
import org.ldm4j.nn.Rng;

import java.util.List;

/**
 * Euler's method on the probability-flow ODE in sigma (Karras et al. 2022, Algorithm 2 without churn), port of
 * diffusers {@code scheduling_euler_discrete.py}: {@code d = (x - x0) / sigma_i}, {@code x_{i+1} = x + d (sigma_{i+1} - sigma_i)}.
 */
public final class EulerDiscreteScheduler extends KarrasSigmaScheduler {

    /** {@code scheduler_config.json} of an {@code EulerDiscreteScheduler}; missing keys take diffusers' defaults. */
    public record Config(Integer numTrainTimesteps, Double betaStart, Double betaEnd, String betaSchedule,
                         List<Double> trainedBetas, String predictionType, String interpolationType,
                         Boolean useKarrasSigmas, Boolean useExponentialSigmas, Boolean useBetaSigmas,
                         Double sigmaMin, Double sigmaMax, String timestepSpacing, String timestepType,
                         Integer stepsOffset, Boolean rescaleBetasZeroSnr, String finalSigmasType) implements SchedulerConfig {
        public Config {
            numTrainTimesteps = ConfigValues.or(numTrainTimesteps, 1000);
            betaStart = ConfigValues.or(betaStart, 0.0001);
            betaEnd = ConfigValues.or(betaEnd, 0.02);
            betaSchedule = ConfigValues.oneOf("beta_schedule", ConfigValues.or(betaSchedule, "linear"), NoiseSchedule.BETA_SCHEDULES);
            predictionType = ConfigValues.oneOf("prediction_type", ConfigValues.or(predictionType, "epsilon"), DDIMScheduler.PREDICTION_TYPES);
            interpolationType = ConfigValues.oneOf("interpolation_type", ConfigValues.or(interpolationType, "linear"), List.of("linear"));
            useKarrasSigmas = ConfigValues.or(useKarrasSigmas, false);
            useExponentialSigmas = ConfigValues.or(useExponentialSigmas, false);
            useBetaSigmas = ConfigValues.or(useBetaSigmas, false);
            ConfigValues.checkSigmaSpacing(useKarrasSigmas, useExponentialSigmas, useBetaSigmas);
            timestepSpacing = ConfigValues.oneOf("timestep_spacing", ConfigValues.or(timestepSpacing, "linspace"), TimestepSpacing.NAMES);
            timestepType = ConfigValues.oneOf("timestep_type", ConfigValues.or(timestepType, "discrete"), List.of("discrete"));
            stepsOffset = ConfigValues.or(stepsOffset, 0);
            rescaleBetasZeroSnr = ConfigValues.or(rescaleBetasZeroSnr, false);
            finalSigmasType = ConfigValues.oneOf("final_sigmas_type", ConfigValues.or(finalSigmasType, "zero"), List.of("zero", "sigma_min"));
        }

        @Override public NoiseSchedule noiseSchedule() {
            return NoiseSchedule.of(numTrainTimesteps, betaStart, betaEnd, betaSchedule, trainedBetas, rescaleBetasZeroSnr);
        }

        @Override public Scheduler create(int numInferenceSteps, Rng rng) {
            return new EulerDiscreteScheduler(this, numInferenceSteps);
        }
    }

    private final Config config;

    private EulerDiscreteScheduler(Config config, int steps) {
        super(table(config, steps), config.timestepSpacing());
        this.config = config;
    }

    /** diffusers {@code set_timesteps}. */
    private static Table table(Config c, int steps) {
        ConfigValues.checkSteps(steps);
        float[] train = trainingSigmas(c.noiseSchedule(), c.rescaleBetasZeroSnr());
        double[] timesteps = TimestepSpacing.float32(c.timestepSpacing(), c.numTrainTimesteps(), steps, c.stepsOffset());
        double[] sigmas = new double[timesteps.length];
        for (int i = 0; i < sigmas.length; i++) sigmas[i] = TimestepSpacing.interp(timesteps[i], train);
        if (c.useKarrasSigmas() || c.useExponentialSigmas()) {
            double min = c.sigmaMin() != null ? c.sigmaMin() : sigmas[sigmas.length - 1];
            double max = c.sigmaMax() != null ? c.sigmaMax() : sigmas[0];
            sigmas = SigmaSchedules.respaced(c.useKarrasSigmas(), min, max, steps);
            timesteps = SigmaSchedules.timestepsOf(sigmas, train);
        }
        float last = c.finalSigmasType().equals("sigma_min") ? train[0] : 0f;
        float[] out = new float[sigmas.length + 1];
        for (int i = 0; i < sigmas.length; i++) out[i] = (float) sigmas[i];
        out[sigmas.length] = last;
        return new Table(out, timesteps);
    }

    @Override public StepOutput step(Tensor modelOutput, int i, Tensor sample) {
        Tensor x = toFloat32(sample);
        float sigma = sigmas[i];
        Tensor x0 = predictOriginal(config.predictionType(), modelOutput, x, sigma);
        Tensor derivative = x.sub(x0).div(new Scalar(sigma));               // ODE derivative, eq. 3 of Karras et al.
        float dt = sigmas[i + 1] - sigma;
        Tensor prev = x.add(derivative.mul(new Scalar(dt)));
        return new StepOutput(prev.to(modelOutput.scalar_type()), x0);
    }
}
