package org.ldm4j.schedulers;

import org.bytedeco.pytorch.Scalar;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch.ScalarType;
import org.ldm4j.nn.Dtypes;
import org.ldm4j.nn.Rng;

import java.util.List;

/**
 * DPM-Solver++ multistep (Lu et al. 2022, "DPM-Solver++", Algorithm 2; "DPM++ 2M" at order 2), port of diffusers
 * {@code scheduling_dpmsolver_multistep.py} for the data-prediction algorithms {@code dpmsolver++} and
 * {@code sde-dpmsolver++} (noise from the run's {@link Rng}).
 *
 * <p>Notation: {@code alpha_t = 1/sqrt(sigma^2 + 1)}, {@code sigma_t = sigma * alpha_t} (VP form of the step's
 * sigma), {@code lambda = log(alpha_t / sigma_t)}, {@code h = lambda_t - lambda_s0}, {@code m0, m1, m2} = the
 * latest x0 predictions, {@code r0 = h_0 / h}, {@code D0, D1, D2} = the divided differences of eq. (8)-(9).
 * Scalars are float32 like diffusers' 0-dim tensors.
 */
public final class DPMSolverMultistepScheduler extends IntegerTimestepScheduler {

    /** {@code scheduler_config.json} of a {@code DPMSolverMultistepScheduler}; missing keys take diffusers' defaults. */
    public record Config(Integer numTrainTimesteps, Double betaStart, Double betaEnd, String betaSchedule,
                         List<Double> trainedBetas, Integer solverOrder, String predictionType, Boolean thresholding,
                         Double dynamicThresholdingRatio, Double sampleMaxValue, String algorithmType,
                         String solverType, Boolean lowerOrderFinal, Boolean eulerAtFinal, Boolean useKarrasSigmas,
                         Boolean useExponentialSigmas, Boolean useBetaSigmas, Boolean useLuLambdas,
                         Boolean useFlowSigmas, String finalSigmasType, Double lambdaMinClipped, String varianceType,
                         String timestepSpacing, Integer stepsOffset, Boolean rescaleBetasZeroSnr,
                         Boolean useDynamicShifting) implements SchedulerConfig {
        public Config {
            numTrainTimesteps = ConfigValues.or(numTrainTimesteps, 1000);
            betaStart = ConfigValues.or(betaStart, 0.0001);
            betaEnd = ConfigValues.or(betaEnd, 0.02);
            betaSchedule = ConfigValues.oneOf("beta_schedule", ConfigValues.or(betaSchedule, "linear"), NoiseSchedule.BETA_SCHEDULES);
            solverOrder = ConfigValues.or(solverOrder, 2);
            ConfigValues.unsupported("solver_order", solverOrder < 1 || solverOrder > 3, "must be 1, 2 or 3, got " + solverOrder);
            predictionType = ConfigValues.oneOf("prediction_type", ConfigValues.or(predictionType, "epsilon"), DDIMScheduler.PREDICTION_TYPES);
            thresholding = ConfigValues.or(thresholding, false);
            dynamicThresholdingRatio = ConfigValues.or(dynamicThresholdingRatio, 0.995);
            sampleMaxValue = ConfigValues.or(sampleMaxValue, 1.0);
            algorithmType = ConfigValues.or(algorithmType, "dpmsolver++");
            if (algorithmType.equals("deis")) algorithmType = "dpmsolver++";          // as diffusers remaps it
            ConfigValues.oneOf("algorithm_type", algorithmType, List.of("dpmsolver++", "sde-dpmsolver++"));
            solverType = ConfigValues.or(solverType, "midpoint");
            if (List.of("logrho", "bh1", "bh2").contains(solverType)) solverType = "midpoint";
            ConfigValues.oneOf("solver_type", solverType, List.of("midpoint", "heun"));
            lowerOrderFinal = ConfigValues.or(lowerOrderFinal, true);
            eulerAtFinal = ConfigValues.or(eulerAtFinal, false);
            useKarrasSigmas = ConfigValues.or(useKarrasSigmas, false);
            useExponentialSigmas = ConfigValues.or(useExponentialSigmas, false);
            useBetaSigmas = ConfigValues.or(useBetaSigmas, false);
            useLuLambdas = ConfigValues.or(useLuLambdas, false);
            useFlowSigmas = ConfigValues.or(useFlowSigmas, false);
            ConfigValues.checkSigmaSpacing(useKarrasSigmas, useExponentialSigmas, useBetaSigmas);
            ConfigValues.unsupported("use_flow_sigmas", useFlowSigmas, "flow-matching sigmas are not implemented");
            finalSigmasType = ConfigValues.oneOf("final_sigmas_type", ConfigValues.or(finalSigmasType, "zero"), List.of("zero", "sigma_min"));
            lambdaMinClipped = ConfigValues.or(lambdaMinClipped, Double.NEGATIVE_INFINITY);
            ConfigValues.unsupported("variance_type", varianceType != null, "'" + varianceType
                    + "' is not implemented (learned variances need twice the output channels)");
            timestepSpacing = ConfigValues.oneOf("timestep_spacing", ConfigValues.or(timestepSpacing, "linspace"), TimestepSpacing.NAMES);
            stepsOffset = ConfigValues.or(stepsOffset, 0);
            rescaleBetasZeroSnr = ConfigValues.or(rescaleBetasZeroSnr, false);
            useDynamicShifting = ConfigValues.or(useDynamicShifting, false);
            ConfigValues.unsupported("use_dynamic_shifting", useDynamicShifting, "dynamic shifting is not implemented");
        }

        @Override public NoiseSchedule noiseSchedule() {
            return NoiseSchedule.of(numTrainTimesteps, betaStart, betaEnd, betaSchedule, trainedBetas, rescaleBetasZeroSnr);
        }

        @Override public Scheduler create(int numInferenceSteps, Rng rng) {
            return new DPMSolverMultistepScheduler(this, numInferenceSteps, rng);
        }
    }

    private final Config config;
    private final NoiseSchedule schedule;
    private final float[] sigmas;            // steps + 1, float32
    private final long[] timesteps;
    private final Rng rng;
    private final Tensor[] modelOutputs;     // the last solverOrder x0 predictions, oldest first
    private int lowerOrderNums;
    private int lastIndex = -1;

    private DPMSolverMultistepScheduler(Config config, int steps, Rng rng) {
        ConfigValues.checkSteps(steps);
        this.config = config;
        this.schedule = config.noiseSchedule();
        this.rng = rng;
        this.modelOutputs = new Tensor[config.solverOrder()];
        float[] ac = schedule.alphasCumprod();
        float[] train = KarrasSigmaScheduler.trainingSigmas(schedule, config.rescaleBetasZeroSnr());
        if (config.rescaleBetasZeroSnr()) ac[ac.length - 1] = (float) Math.pow(2, -24);
        int t = config.numTrainTimesteps();

        // 1. the last usable timestep: lambda_t below lambda_min_clipped is cut (searchsorted on flipped lambda)
        int clippedIdx = 0;
        for (int k = ac.length - 1; k >= 0; k--) {
            float lambda = (float) Math.log((float) Math.sqrt(ac[k])) - (float) Math.log((float) Math.sqrt(1f - ac[k]));
            if (lambda < config.lambdaMinClipped()) clippedIdx++; else break;
        }
        int lastTimestep = t - clippedIdx;

        // 2. N + 1 points, the last dropped (diffusers' spacing for this scheduler)
        double[] ts = new double[steps];
        switch (config.timestepSpacing()) {
            case "linspace" -> {
                double[] lin = TimestepSpacing.linspace(0, lastTimestep - 1, steps + 1);
                for (int i = 0; i < steps; i++) ts[i] = Math.rint(lin[steps - i]);
            }
            case "leading" -> {
                int ratio = lastTimestep / (steps + 1);
                for (int i = 0; i < steps; i++) ts[i] = (double) (steps - i) * ratio + config.stepsOffset();
            }
            default -> {
                double[] ar = TimestepSpacing.arange(lastTimestep, 0, -(double) t / steps);
                ts = new double[ar.length];
                for (int i = 0; i < ar.length; i++) ts[i] = Math.rint(ar[i]) - 1;
            }
        }

        // 3. sigmas, optionally re-spaced (Karras rho = 7, log-uniform lambda, exponential)
        double[] sig;
        float[] logSigmas = SigmaSchedules.logSigmas(train);
        int n = ts.length;
        boolean roundT = !config.betaSchedule().equals("squaredcos_cap_v2");
        if (config.useKarrasSigmas() || config.useExponentialSigmas()) {
            double min = train[0], max = train[train.length - 1];
            sig = SigmaSchedules.respaced(config.useKarrasSigmas(), min, max, n);
            for (int i = 0; i < n; i++) {
                double tt = SigmaSchedules.sigmaToT(sig[i], logSigmas);
                ts[i] = config.useKarrasSigmas() && roundT ? Math.rint(tt) : tt;
            }
        } else if (config.useLuLambdas()) {
            // Lu et al. 2022 (DPM-Solver, sec. 3.3): uniform in log sigma between the table's ends
            double lmin = logSigmas[0], lmax = logSigmas[logSigmas.length - 1];
            double[] ramp = TimestepSpacing.linspace(0, 1, n);
            sig = new double[n];
            for (int i = 0; i < n; i++) {
                sig[i] = Math.exp(lmax + ramp[i] * (lmin - lmax));
                double tt = SigmaSchedules.sigmaToT(sig[i], logSigmas);
                ts[i] = roundT ? Math.rint(tt) : tt;
            }
        } else {
            sig = new double[n];
            for (int i = 0; i < n; i++) sig[i] = TimestepSpacing.interp(ts[i], train);
        }
        this.sigmas = new float[n + 1];
        for (int i = 0; i < n; i++) sigmas[i] = (float) sig[i];
        sigmas[n] = config.finalSigmasType().equals("sigma_min") ? train[0] : 0f;
        this.timesteps = new long[n];
        for (int i = 0; i < n; i++) timesteps[i] = (long) ts[i];
    }

    @Override protected long[] integerTimesteps() { return timesteps; }

    /** alpha_t and sigma_t of the VP process at Karras sigma {@code s}. */
    private static float alphaOf(float s) { return 1f / (float) Math.sqrt(s * s + 1f); }

    private static float lambdaOf(float alpha, float sigma) { return (float) Math.log(alpha) - (float) Math.log(sigma); }

    private static float exp(float x) { return (float) Math.exp(x); }

    @Override public StepOutput step(Tensor modelOutput, int i, Tensor sample) {
        if (lastIndex >= 0 && i != lastIndex + 1) {
            throw new IllegalStateException("DPM-Solver keeps a history: step " + i + " follows step " + lastIndex);
        }
        lastIndex = i;
        int n = timesteps.length;
        boolean lowerOrderFinal = i == n - 1 && (config.eulerAtFinal()
                || (config.lowerOrderFinal() && n < 15) || config.finalSigmasType().equals("zero"));
        boolean lowerOrderSecond = i == n - 2 && config.lowerOrderFinal() && n < 15;

        // convert_model_output: the data prediction x0 (DPM-Solver++ works in x0)
        Tensor x0 = convertModelOutput(modelOutput, i, sample);
        History.release(modelOutputs[0]);
        System.arraycopy(modelOutputs, 1, modelOutputs, 0, modelOutputs.length - 1);
        modelOutputs[modelOutputs.length - 1] = History.hold(x0);

        Tensor x = Dtypes.isFloat32(sample) ? sample : sample.to(ScalarType.Float);
        Tensor noise = config.algorithmType().equals("sde-dpmsolver++")
                ? rng.randn(x.device(), ScalarType.Float, x.sizes().vec().get()) : null;

        int order = config.solverOrder();
        Tensor prev;
        if (order == 1 || lowerOrderNums < 1 || lowerOrderFinal) prev = firstOrder(x0, i, x, noise);
        else if (order == 2 || lowerOrderNums < 2 || lowerOrderSecond) prev = secondOrder(i, x, noise);
        else prev = thirdOrder(i, x, noise);
        if (lowerOrderNums < order) lowerOrderNums++;
        if (i == n - 1) {                    // the run is over: give the history back
            for (int k = 0; k < modelOutputs.length; k++) { History.release(modelOutputs[k]); modelOutputs[k] = null; }
        }
        return new StepOutput(prev.to(modelOutput.scalar_type()), x0);
    }

    private Tensor convertModelOutput(Tensor modelOutput, int i, Tensor sample) {
        float sigma = sigmas[i];
        float alphaT = alphaOf(sigma), sigmaT = sigma * alphaT;
        Tensor x0 = switch (config.predictionType()) {
            case "epsilon" -> sample.sub(modelOutput.mul(new Scalar(sigmaT))).div(new Scalar(alphaT));
            case "sample" -> modelOutput;
            default -> sample.mul(new Scalar(alphaT)).sub(modelOutput.mul(new Scalar(sigmaT)));
        };
        return config.thresholding()
                ? DynamicThresholding.apply(x0, config.dynamicThresholdingRatio(), config.sampleMaxValue()) : x0;
    }

    private boolean sde() { return config.algorithmType().equals("sde-dpmsolver++"); }

    /** DPM-Solver++(1), i.e. DDIM in x0 form (eq. 5 of DPM-Solver++). */
    private Tensor firstOrder(Tensor x0, int i, Tensor x, Tensor noise) {
        float sT = sigmas[i + 1], sS = sigmas[i];
        float aT = alphaOf(sT), sigT = sT * aT, aS = alphaOf(sS), sigS = sS * aS;
        float h = lambdaOf(aT, sigT) - lambdaOf(aS, sigS);
        if (!sde()) {
            return x.mul(new Scalar(sigT / sigS)).sub(x0.mul(new Scalar(aT * (exp(-h) - 1f))));
        }
        return x.mul(new Scalar(sigT / sigS * exp(-h)))
                .add(x0.mul(new Scalar(aT * (1f - exp(-2f * h)))))
                .add(noise.mul(new Scalar(sigT * (float) Math.sqrt(1f - exp(-2f * h)))));
    }

    /** Multistep DPM-Solver++(2M), Algorithm 2. */
    private Tensor secondOrder(int i, Tensor x, Tensor noise) {
        float sT = sigmas[i + 1], s0 = sigmas[i], s1 = sigmas[i - 1];
        float aT = alphaOf(sT), sigT = sT * aT;
        float a0 = alphaOf(s0), sig0 = s0 * a0, a1 = alphaOf(s1), sig1 = s1 * a1;
        float lambdaT = lambdaOf(aT, sigT), lambda0 = lambdaOf(a0, sig0), lambda1 = lambdaOf(a1, sig1);
        Tensor m0 = modelOutputs[modelOutputs.length - 1], m1 = modelOutputs[modelOutputs.length - 2];
        float h = lambdaT - lambda0, h0 = lambda0 - lambda1;
        float r0 = h0 / h;
        Tensor d0 = m0, d1 = m0.sub(m1).mul(new Scalar(1f / r0));
        boolean midpoint = config.solverType().equals("midpoint");
        if (!sde()) {
            float c = aT * (exp(-h) - 1f);
            Tensor out = x.mul(new Scalar(sigT / sig0)).sub(d0.mul(new Scalar(c)));
            return midpoint ? out.sub(d1.mul(new Scalar(0.5f * c)))
                    : out.add(d1.mul(new Scalar(aT * ((exp(-h) - 1f) / h + 1f))));
        }
        float c = aT * (1f - exp(-2f * h));
        Tensor out = x.mul(new Scalar(sigT / sig0 * exp(-h))).add(d0.mul(new Scalar(c)));
        out = midpoint ? out.add(d1.mul(new Scalar(0.5f * c)))
                : out.add(d1.mul(new Scalar(aT * ((1f - exp(-2f * h)) / (-2f * h) + 1f))));
        return out.add(noise.mul(new Scalar(sigT * (float) Math.sqrt(1f - exp(-2f * h)))));
    }

    /** Multistep DPM-Solver++(3M). */
    private Tensor thirdOrder(int i, Tensor x, Tensor noise) {
        float sT = sigmas[i + 1], s0 = sigmas[i], s1 = sigmas[i - 1], s2 = sigmas[i - 2];
        float aT = alphaOf(sT), sigT = sT * aT;
        float a0 = alphaOf(s0), sig0 = s0 * a0, a1 = alphaOf(s1), sig1 = s1 * a1, a2 = alphaOf(s2), sig2 = s2 * a2;
        float lambdaT = lambdaOf(aT, sigT), lambda0 = lambdaOf(a0, sig0);
        float lambda1 = lambdaOf(a1, sig1), lambda2 = lambdaOf(a2, sig2);
        int k = modelOutputs.length;
        Tensor m0 = modelOutputs[k - 1], m1 = modelOutputs[k - 2], m2 = modelOutputs[k - 3];
        float h = lambdaT - lambda0, h0 = lambda0 - lambda1, h1 = lambda1 - lambda2;
        float r0 = h0 / h, r1 = h1 / h;
        Tensor d10 = m0.sub(m1).mul(new Scalar(1f / r0)), d11 = m1.sub(m2).mul(new Scalar(1f / r1));
        Tensor d1 = d10.add(d10.sub(d11).mul(new Scalar(r0 / (r0 + r1))));
        Tensor d2 = d10.sub(d11).mul(new Scalar(1f / (r0 + r1)));
        if (!sde()) {
            return x.mul(new Scalar(sigT / sig0))
                    .sub(m0.mul(new Scalar(aT * (exp(-h) - 1f))))
                    .add(d1.mul(new Scalar(aT * ((exp(-h) - 1f) / h + 1f))))
                    .sub(d2.mul(new Scalar(aT * ((exp(-h) - 1f + h) / (h * h) - 0.5f))));
        }
        float e2 = exp(-2f * h);
        return x.mul(new Scalar(sigT / sig0 * exp(-h)))
                .add(m0.mul(new Scalar(aT * (1f - e2))))
                .add(d1.mul(new Scalar(aT * ((1f - e2) / (-2f * h) + 1f))))
                .add(d2.mul(new Scalar(aT * ((1f - e2 - 2f * h) / ((2f * h) * (2f * h)) - 0.5f))))
                .add(noise.mul(new Scalar(sigT * (float) Math.sqrt(1f - e2))));
    }

    /** VP noising at step i's sigma: alpha_t x0 + sigma_t eps. */
    @Override public Tensor addNoise(Tensor originalSamples, Tensor noise, int i) {
        float alphaT = alphaOf(sigmas[i]), sigmaT = sigmas[i] * alphaT;
        return originalSamples.mul(new Scalar(alphaT)).add(noise.mul(new Scalar(sigmaT)));
    }
}
