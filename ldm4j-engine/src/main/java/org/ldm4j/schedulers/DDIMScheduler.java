package org.ldm4j.schedulers;

import org.bytedeco.pytorch.Scalar;
import org.bytedeco.pytorch.Tensor;
import org.ldm4j.nn.Rng;

import java.util.List;

/**
 * DDIM sampling (Song et al. 2021, "Denoising Diffusion Implicit Models"), port of diffusers
 * {@code scheduling_ddim.py}. With {@code eta > 0} the step adds fresh noise drawn from the run's {@link Rng}.
 *
 * <p>Notation (paper eq. 12 and 16): {@code aT} = alphaBar_t, {@code aPrev} = alphaBar_{t-1}, {@code x0} = predicted
 * x_0, {@code eps} = predicted noise, {@code std} = sigma_t(eta). Scalars are float32 like diffusers' 0-dim tensors.
 */
public final class DDIMScheduler extends IntegerTimestepScheduler {

    /** {@code scheduler_config.json} of a {@code DDIMScheduler}; missing keys take diffusers' defaults. */
    public record Config(Integer numTrainTimesteps, Double betaStart, Double betaEnd, String betaSchedule,
                         List<Double> trainedBetas, Boolean clipSample, Boolean setAlphaToOne, Integer stepsOffset,
                         String predictionType, Boolean thresholding, Double dynamicThresholdingRatio,
                         Double clipSampleRange, Double sampleMaxValue, String timestepSpacing,
                         Boolean rescaleBetasZeroSnr) implements SchedulerConfig, PredictedSampleClipping {
        public Config {
            numTrainTimesteps = ConfigValues.or(numTrainTimesteps, 1000);
            betaStart = ConfigValues.or(betaStart, 0.0001);
            betaEnd = ConfigValues.or(betaEnd, 0.02);
            betaSchedule = ConfigValues.oneOf("beta_schedule", ConfigValues.or(betaSchedule, "linear"), NoiseSchedule.BETA_SCHEDULES);
            clipSample = ConfigValues.or(clipSample, true);
            setAlphaToOne = ConfigValues.or(setAlphaToOne, true);
            stepsOffset = ConfigValues.or(stepsOffset, 0);
            predictionType = ConfigValues.oneOf("prediction_type", ConfigValues.or(predictionType, "epsilon"), PREDICTION_TYPES);
            thresholding = ConfigValues.or(thresholding, false);
            dynamicThresholdingRatio = ConfigValues.or(dynamicThresholdingRatio, 0.995);
            clipSampleRange = ConfigValues.or(clipSampleRange, 1.0);
            sampleMaxValue = ConfigValues.or(sampleMaxValue, 1.0);
            timestepSpacing = ConfigValues.oneOf("timestep_spacing", ConfigValues.or(timestepSpacing, "leading"), TimestepSpacing.NAMES);
            rescaleBetasZeroSnr = ConfigValues.or(rescaleBetasZeroSnr, false);
        }

        @Override public NoiseSchedule noiseSchedule() {
            return NoiseSchedule.of(numTrainTimesteps, betaStart, betaEnd, betaSchedule, trainedBetas, rescaleBetasZeroSnr);
        }

        /** Deterministic DDIM (eta = 0), as diffusers' pipelines call it by default. */
        @Override public Scheduler create(int numInferenceSteps, Rng rng) {
            return new DDIMScheduler(this, numInferenceSteps, rng, 0.0);
        }

        /** The same settings sampling with {@code eta} (0 = DDIM, 1 = DDPM-like ancestral variance). */
        public SchedulerConfig withEta(double eta) { return new WithEta(this, eta); }
    }

    /** A DDIM config with a non-default eta (eta is a step argument in diffusers, not a config key). */
    public record WithEta(Config config, double eta) implements SchedulerConfig {
        @Override public Scheduler create(int numInferenceSteps, Rng rng) {
            return new DDIMScheduler(config, numInferenceSteps, rng, eta);
        }
        @Override public NoiseSchedule noiseSchedule() { return config.noiseSchedule(); }
    }

    static final List<String> PREDICTION_TYPES = List.of("epsilon", "sample", "v_prediction");

    private final Config config;
    private final NoiseSchedule schedule;
    private final float[] alphasCumprod;
    private final float finalAlphaCumprod;
    private final long[] timesteps;
    private final int numInferenceSteps;
    private final Rng rng;
    private final double eta;

    DDIMScheduler(Config config, int numInferenceSteps, Rng rng, double eta) {
        this.config = config;
        this.schedule = config.noiseSchedule();
        this.alphasCumprod = schedule.alphasCumprod();
        // "set_alpha_to_one": the step into t < 0 lands on alphaBar = 1 (clean) or on alphaBar_0
        this.finalAlphaCumprod = config.setAlphaToOne() ? 1f : alphasCumprod[0];
        this.timesteps = TimestepSpacing.integer(config.timestepSpacing(), config.numTrainTimesteps(),
                numInferenceSteps, config.stepsOffset());
        this.numInferenceSteps = numInferenceSteps;
        this.rng = rng;
        this.eta = eta;
    }

    @Override protected long[] integerTimesteps() { return timesteps; }

    @Override public StepOutput step(Tensor modelOutput, int i, Tensor sample) {
        StepOutput out = stepWithoutNoise(modelOutput, i, sample, eta);
        // 7. "random noise": drawn from the run's generator only when eta > 0, like diffusers
        if (eta <= 0) return out;
        return new StepOutput(out.prevSample().add(rng.randnLike(modelOutput).mul(new Scalar(sigma(i, eta)))), out.predOriginalSample());
    }

    /**
     * Step {@code i} at the given eta without its random part: x_{t-1} = √ᾱ_prev·x̂_0 + √(1 − ᾱ_prev − σ²)·ε̂ (eq. 12),
     * to which {@link #step} adds σ·noise. Edit-friendly inversion solves for that noise itself.
     */
    public StepOutput stepWithoutNoise(Tensor modelOutput, int i, Tensor sample, double eta) {
        // 1-2. alphaBar_t and alphaBar_{t-1} (the previous timestep is t - T // N, whatever the spacing, as diffusers)
        float aT = alphaBar(i), aPrev = alphaBarPrev(i);
        float bT = 1f - aT;
        float sqrtA = (float) Math.sqrt(aT), sqrtB = (float) Math.sqrt(bT);

        // 3. predicted x0 and eps, eq. 12 "predicted x_0"
        Tensor x0, eps;
        switch (config.predictionType()) {
            case "epsilon" -> { x0 = sample.sub(modelOutput.mul(new Scalar(sqrtB))).div(new Scalar(sqrtA)); eps = modelOutput; }
            case "sample" -> { x0 = modelOutput; eps = sample.sub(x0.mul(new Scalar(sqrtA))).div(new Scalar(sqrtB)); }
            default -> {
                x0 = sample.mul(new Scalar(sqrtA)).sub(modelOutput.mul(new Scalar(sqrtB)));
                eps = modelOutput.mul(new Scalar(sqrtA)).add(sample.mul(new Scalar(sqrtB)));
            }
        }

        // 4. clip or threshold x0
        x0 = config.clipPredictedSample(x0);

        // 5-6. sigma_t(eta) (eq. 16), "direction pointing to x_t" and x_{t-1}, eq. 12
        float std = sigma(i, eta);
        Tensor direction = eps.mul(new Scalar((float) Math.sqrt(1f - aPrev - std * std)));
        return new StepOutput(x0.mul(new Scalar((float) Math.sqrt(aPrev))).add(direction), x0);
    }

    /** σ_t(eta) of step {@code i}, eq. 16: eta·√((1 − ᾱ_prev)/(1 − ᾱ_t)·(1 − ᾱ_t/ᾱ_prev)). */
    public float sigma(int i, double eta) {
        float aT = alphaBar(i), aPrev = alphaBarPrev(i);
        float variance = ((1f - aPrev) / (1f - aT)) * (1f - aT / aPrev);
        return (float) eta * (float) Math.sqrt(variance);
    }

    /** ᾱ at step {@code i}'s timestep t_i. */
    public float alphaBar(int i) { return alphasCumprod[(int) timesteps[i]]; }

    /** ᾱ at the level step {@code i} goes to: t_i − T // N (diffusers subtracts that whatever the spacing), or the final ᾱ. */
    public float alphaBarPrev(int i) {
        long prevT = timesteps[i] - config.numTrainTimesteps() / numInferenceSteps;
        return prevT >= 0 ? alphasCumprod[(int) prevT] : finalAlphaCumprod;
    }

    /**
     * DDIM inversion: step {@code i} run backwards at eta 0, from the level below t_i (the sample {@link #step} would
     * produce) up to t_i, with the same alphaBar pair and the given ε: x0 = (z_prev − √(1−ᾱ_prev)·ε) / √ᾱ_prev,
     * z_t = √ᾱ_t·x0 + √(1−ᾱ_t)·ε. With the ε of the forward step it is that step's exact inverse; inversion
     * (null-text inversion, LEDITS++) uses ε predicted at z_prev with timestep t_i instead, as diffusers'
     * DDIMInverseScheduler does. Epsilon prediction only.
     */
    public Tensor invertStep(Tensor modelOutput, int i, Tensor prevSample) {
        if (!config.predictionType().equals("epsilon")) {
            throw new IllegalArgumentException("DDIM inversion needs an epsilon-predicting model, not " + config.predictionType());
        }
        float aT = alphaBar(i), aPrev = alphaBarPrev(i);
        Tensor x0 = prevSample.sub(modelOutput.mul(new Scalar((float) Math.sqrt(1f - aPrev)))).div(new Scalar((float) Math.sqrt(aPrev)));
        return x0.mul(new Scalar((float) Math.sqrt(aT))).add(modelOutput.mul(new Scalar((float) Math.sqrt(1f - aT))));
    }

    @Override public Tensor addNoise(Tensor originalSamples, Tensor noise, int i) {
        return schedule.addNoise(originalSamples, noise, (int) timesteps[i]);
    }
}
