package org.ldm4j.schedulers;

import org.bytedeco.pytorch.Scalar;
import org.bytedeco.pytorch.Tensor;
import org.ldm4j.nn.Rng;

import java.util.List;

/**
 * Ancestral DDPM sampling (Ho et al. 2020, "Denoising Diffusion Probabilistic Models"), port of diffusers
 * {@code scheduling_ddpm.py}: the posterior q(x_{t-1} | x_t, x0) of eq. 6-7 with x0 predicted by the model,
 * plus fresh noise from the run's {@link Rng} at every step but the last.
 *
 * <p>Notation: {@code aT} = alphaBar_t, {@code aPrev} = alphaBar_{t'} of the next timestep in the list,
 * {@code alphaT} = aT / aPrev, {@code betaT} = 1 - alphaT (the effective beta of a skipped-step schedule).
 */
public final class DDPMScheduler extends IntegerTimestepScheduler {

    /** {@code scheduler_config.json} of a {@code DDPMScheduler}; missing keys take diffusers' defaults. */
    public record Config(Integer numTrainTimesteps, Double betaStart, Double betaEnd, String betaSchedule,
                         List<Double> trainedBetas, String varianceType, Boolean clipSample, String predictionType,
                         Boolean thresholding, Double dynamicThresholdingRatio, Double clipSampleRange,
                         Double sampleMaxValue, String timestepSpacing, Integer stepsOffset,
                         Boolean rescaleBetasZeroSnr) implements SchedulerConfig, PredictedSampleClipping {
        public Config {
            numTrainTimesteps = ConfigValues.or(numTrainTimesteps, 1000);
            betaStart = ConfigValues.or(betaStart, 0.0001);
            betaEnd = ConfigValues.or(betaEnd, 0.02);
            betaSchedule = ConfigValues.oneOf("beta_schedule", ConfigValues.or(betaSchedule, "linear"), NoiseSchedule.BETA_SCHEDULES);
            varianceType = ConfigValues.oneOf("variance_type", ConfigValues.or(varianceType, "fixed_small"), VARIANCE_TYPES);
            clipSample = ConfigValues.or(clipSample, true);
            predictionType = ConfigValues.oneOf("prediction_type", ConfigValues.or(predictionType, "epsilon"), DDIMScheduler.PREDICTION_TYPES);
            thresholding = ConfigValues.or(thresholding, false);
            dynamicThresholdingRatio = ConfigValues.or(dynamicThresholdingRatio, 0.995);
            clipSampleRange = ConfigValues.or(clipSampleRange, 1.0);
            sampleMaxValue = ConfigValues.or(sampleMaxValue, 1.0);
            timestepSpacing = ConfigValues.oneOf("timestep_spacing", ConfigValues.or(timestepSpacing, "leading"), TimestepSpacing.NAMES);
            stepsOffset = ConfigValues.or(stepsOffset, 0);
            rescaleBetasZeroSnr = ConfigValues.or(rescaleBetasZeroSnr, false);
        }

        @Override public NoiseSchedule noiseSchedule() {
            return NoiseSchedule.of(numTrainTimesteps, betaStart, betaEnd, betaSchedule, trainedBetas, rescaleBetasZeroSnr);
        }

        @Override public Scheduler create(int numInferenceSteps, Rng rng) {
            return new DDPMScheduler(this, numInferenceSteps, rng);
        }
    }

    /**
     * The learned variances need a model with twice the output channels, which SD 1.x does not have;
     * "fixed_large_log" is left out because diffusers takes the square root of a log (NaN).
     */
    static final List<String> VARIANCE_TYPES = List.of("fixed_small", "fixed_small_log", "fixed_large");

    private final Config config;
    private final NoiseSchedule schedule;
    private final float[] alphasCumprod;
    private final long[] timesteps;
    private final Rng rng;

    DDPMScheduler(Config config, int numInferenceSteps, Rng rng) {
        this.config = config;
        this.schedule = config.noiseSchedule();
        this.alphasCumprod = schedule.alphasCumprod();
        this.timesteps = TimestepSpacing.integer(config.timestepSpacing(), config.numTrainTimesteps(),
                numInferenceSteps, config.stepsOffset());
        this.rng = rng;
    }

    @Override protected long[] integerTimesteps() { return timesteps; }

    @Override public StepOutput step(Tensor modelOutput, int i, Tensor sample) {
        // 1. alphas, betas; the previous timestep is the next one in the list (diffusers previous_timestep)
        long t = timesteps[i];
        long prevT = i + 1 < timesteps.length ? timesteps[i + 1] : -1;
        float aT = alphasCumprod[(int) t];
        float aPrev = prevT >= 0 ? alphasCumprod[(int) prevT] : 1f;
        float bT = 1f - aT, bPrev = 1f - aPrev;
        float alphaT = aT / aPrev, betaT = 1f - alphaT;

        // 2. predicted x0, eq. 15
        Tensor x0 = switch (config.predictionType()) {
            case "epsilon" -> sample.sub(modelOutput.mul(new Scalar((float) Math.sqrt(bT)))).div(new Scalar((float) Math.sqrt(aT)));
            case "sample" -> modelOutput;
            default -> sample.mul(new Scalar((float) Math.sqrt(aT))).sub(modelOutput.mul(new Scalar((float) Math.sqrt(bT))));
        };

        // 3. clip or threshold x0
        x0 = config.clipPredictedSample(x0);

        // 4-5. posterior mean mu~_t(x_t, x0), eq. 7
        float x0Coeff = ((float) Math.sqrt(aPrev) * betaT) / bT;
        float sampleCoeff = (float) Math.sqrt(alphaT) * bPrev / bT;
        Tensor prev = x0.mul(new Scalar(x0Coeff)).add(sample.mul(new Scalar(sampleCoeff)));

        // 6. add noise (diffusers draws it whenever t > 0)
        if (t > 0) {
            Tensor noise = rng.randnLike(modelOutput);
            float variance = variance(aT, aPrev, betaT);
            float scale = config.varianceType().equals("fixed_small_log") ? variance : (float) Math.sqrt(variance);
            prev = prev.add(noise.mul(new Scalar(scale)));
        }
        return new StepOutput(prev, x0);
    }

    /** diffusers {@code _get_variance}: beta~_t of eq. 7 (clamped at 1e-20) or beta_t; the log types as diffusers uses them. */
    private float variance(float aT, float aPrev, float betaT) {
        float v = (1f - aPrev) / (1f - aT) * betaT;
        v = Math.max(v, 1e-20f);
        return switch (config.varianceType()) {
            case "fixed_small" -> v;
            // exp(0.5 log v): used directly as the standard deviation
            case "fixed_small_log" -> (float) Math.exp(0.5f * (float) Math.log(v));
            default -> betaT;   // fixed_large
        };
    }

    @Override public Tensor addNoise(Tensor originalSamples, Tensor noise, int i) {
        return schedule.addNoise(originalSamples, noise, (int) timesteps[i]);
    }
}
