package org.ldm4j.schedulers;

import org.bytedeco.pytorch.Scalar;
import org.bytedeco.pytorch.Tensor;
import org.ldm4j.nn.Rng;

import java.util.List;

/**
 * Ancestral Euler sampling ("Euler a"), port of diffusers {@code scheduling_euler_ancestral_discrete.py} after
 * k-diffusion's {@code sample_euler_ancestral}: an Euler step down to sigma_down, then fresh noise of size sigma_up
 * from the run's {@link Rng}, with sigma_up^2 + sigma_down^2 = sigma_{i+1}^2 (eta = 1).
 */
public final class EulerAncestralDiscreteScheduler extends KarrasSigmaScheduler {

    /** {@code scheduler_config.json} of an {@code EulerAncestralDiscreteScheduler}; missing keys take diffusers' defaults. */
    public record Config(Integer numTrainTimesteps, Double betaStart, Double betaEnd, String betaSchedule,
                         List<Double> trainedBetas, String predictionType, String timestepSpacing,
                         Integer stepsOffset, Boolean rescaleBetasZeroSnr) implements SchedulerConfig {
        public Config {
            numTrainTimesteps = ConfigValues.or(numTrainTimesteps, 1000);
            betaStart = ConfigValues.or(betaStart, 0.0001);
            betaEnd = ConfigValues.or(betaEnd, 0.02);
            betaSchedule = ConfigValues.oneOf("beta_schedule", ConfigValues.or(betaSchedule, "linear"), NoiseSchedule.BETA_SCHEDULES);
            // diffusers raises NotImplementedError for "sample"
            predictionType = ConfigValues.oneOf("prediction_type", ConfigValues.or(predictionType, "epsilon"), List.of("epsilon", "v_prediction"));
            timestepSpacing = ConfigValues.oneOf("timestep_spacing", ConfigValues.or(timestepSpacing, "linspace"), TimestepSpacing.NAMES);
            stepsOffset = ConfigValues.or(stepsOffset, 0);
            rescaleBetasZeroSnr = ConfigValues.or(rescaleBetasZeroSnr, false);
        }

        @Override public NoiseSchedule noiseSchedule() {
            return NoiseSchedule.of(numTrainTimesteps, betaStart, betaEnd, betaSchedule, trainedBetas, rescaleBetasZeroSnr);
        }

        @Override public Scheduler create(int numInferenceSteps, Rng rng) {
            return new EulerAncestralDiscreteScheduler(this, numInferenceSteps, rng);
        }
    }

    private final Config config;
    private final Rng rng;

    private EulerAncestralDiscreteScheduler(Config config, int steps, Rng rng) {
        super(table(config, steps), config.timestepSpacing());
        this.config = config;
        this.rng = rng;
    }

    private static Table table(Config c, int steps) {
        ConfigValues.checkSteps(steps);
        float[] train = trainingSigmas(c.noiseSchedule(), c.rescaleBetasZeroSnr());
        double[] timesteps = TimestepSpacing.float32(c.timestepSpacing(), c.numTrainTimesteps(), steps, c.stepsOffset());
        float[] out = new float[steps + 1];
        for (int i = 0; i < steps; i++) out[i] = (float) TimestepSpacing.interp(timesteps[i], train);
        return new Table(out, timesteps);     // last sigma 0
    }

    @Override public StepOutput step(Tensor modelOutput, int i, Tensor sample) {
        float sigma = sigmas[i];
        Tensor x = toFloat32(sample);
        Tensor x0 = predictOriginal(config.predictionType(), modelOutput, x, sigma);

        float from = sigmas[i], to = sigmas[i + 1];
        float sigmaUp = (float) Math.sqrt(to * to * (from * from - to * to) / (from * from));
        float sigmaDown = (float) Math.sqrt(to * to - sigmaUp * sigmaUp);

        Tensor derivative = x.sub(x0).div(new Scalar(sigma));
        Tensor prev = x.add(derivative.mul(new Scalar(sigmaDown - sigma)));
        // drawn at every step, the last included (sigma_up = 0 there), so the generator advances like diffusers'
        Tensor noise = rng.randnLike(modelOutput);
        prev = prev.add(noise.mul(new Scalar(sigmaUp)));
        return new StepOutput(prev.to(modelOutput.scalar_type()), x0);
    }
}
