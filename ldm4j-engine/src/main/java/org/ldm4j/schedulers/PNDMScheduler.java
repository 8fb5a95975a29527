package org.ldm4j.schedulers;

import org.bytedeco.pytorch.Scalar;
import org.bytedeco.pytorch.Tensor;
import org.ldm4j.nn.Rng;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * Pseudo numerical methods for diffusion models (Liu et al. 2022, "PNDM"), port of diffusers
 * {@code scheduling_pndm.py}: Runge-Kutta warm-up steps (PRK, eq. 13) then linear multistep (PLMS, eq. 12) on the
 * DDIM transfer function phi of eq. 11. Stable Diffusion ships it with {@code skip_prk_steps: true}, where the
 * warm-up is replaced by a first-order step and a repeated second timestep.
 *
 * <p>Like diffusers, the PRK/PLMS state machine is driven by the number of steps this run has taken (its
 * {@code counter}), not by the index: a run started mid-schedule (img2img) warms up from its first step.
 * The predicted x0 is the DDIM estimate from the combined noise prediction at the step's effective timestep.
 */
public final class PNDMScheduler extends IntegerTimestepScheduler {

    /** {@code scheduler_config.json} of a {@code PNDMScheduler}; missing keys take diffusers' defaults. */
    public record Config(Integer numTrainTimesteps, Double betaStart, Double betaEnd, String betaSchedule,
                         List<Double> trainedBetas, Boolean skipPrkSteps, Boolean setAlphaToOne,
                         String predictionType, String timestepSpacing, Integer stepsOffset) implements SchedulerConfig {
        public Config {
            numTrainTimesteps = ConfigValues.or(numTrainTimesteps, 1000);
            betaStart = ConfigValues.or(betaStart, 0.0001);
            betaEnd = ConfigValues.or(betaEnd, 0.02);
            betaSchedule = ConfigValues.oneOf("beta_schedule", ConfigValues.or(betaSchedule, "linear"), NoiseSchedule.BETA_SCHEDULES);
            skipPrkSteps = ConfigValues.or(skipPrkSteps, false);
            setAlphaToOne = ConfigValues.or(setAlphaToOne, false);
            predictionType = ConfigValues.oneOf("prediction_type", ConfigValues.or(predictionType, "epsilon"), List.of("epsilon", "v_prediction"));
            timestepSpacing = ConfigValues.oneOf("timestep_spacing", ConfigValues.or(timestepSpacing, "leading"), TimestepSpacing.NAMES);
            stepsOffset = ConfigValues.or(stepsOffset, 0);
        }

        @Override public NoiseSchedule noiseSchedule() {
            return NoiseSchedule.of(numTrainTimesteps, betaStart, betaEnd, betaSchedule, trainedBetas, false);
        }

        @Override public Scheduler create(int numInferenceSteps, Rng rng) {
            return new PNDMScheduler(this, numInferenceSteps);
        }
    }

    private static final int PNDM_ORDER = 4;

    private final Config config;
    private final NoiseSchedule schedule;
    private final float[] alphasCumprod;
    private final float finalAlphaCumprod;
    private final int stepRatio;             // T // N, diffusers' spacing between PLMS timesteps
    private final long[] prkTimesteps;
    private final long[] timesteps;          // PRK timesteps then PLMS timesteps
    private final List<Tensor> ets = new ArrayList<>();   // past noise predictions e_{t}, e_{t+1}, ...
    private Tensor curModelOutput;           // PRK: running weighted sum of the four evaluations
    private Tensor curSample;
    private int counter;
    private int lastIndex = -1;

    PNDMScheduler(Config config, int numInferenceSteps) {
        ConfigValues.checkSteps(numInferenceSteps);
        this.config = config;
        this.schedule = config.noiseSchedule();
        this.alphasCumprod = schedule.alphasCumprod();
        this.finalAlphaCumprod = config.setAlphaToOne() ? 1f : alphasCumprod[0];
        int t = config.numTrainTimesteps();
        this.stepRatio = t / numInferenceSteps;
        long[] asc = TimestepSpacing.integer(config.timestepSpacing(), t, numInferenceSteps, config.stepsOffset());
        reverse(asc);                         // diffusers keeps _timesteps ascending
        long[] plms;
        if (config.skipPrkSteps()) {
            // concat(ts[:-1], ts[-2:-1], ts[-1:])[::-1]: the second-noisiest timestep is visited twice
            long[] p = new long[asc.length + 1];
            System.arraycopy(asc, 0, p, 0, asc.length - 1);
            if (asc.length >= 2) p[asc.length - 1] = asc[asc.length - 2];
            p[asc.length] = asc[asc.length - 1];
            if (asc.length < 2) p = Arrays.copyOfRange(p, 1, 2);
            reverse(p);
            this.prkTimesteps = new long[0];
            plms = p;
        } else {
            if (asc.length < PNDM_ORDER) {
                throw new IllegalArgumentException("PNDM with PRK warm-up needs at least " + PNDM_ORDER
                        + " inference steps, got " + numInferenceSteps + " (or set skip_prk_steps)");
            }
            // ts[-4:].repeat(2) + tile([0, T//N//2], 4), then [:-1].repeat(2)[1:-1], reversed
            long half = stepRatio / 2;
            long[] pairs = new long[2 * PNDM_ORDER];
            for (int k = 0; k < PNDM_ORDER; k++) {
                long v = asc[asc.length - PNDM_ORDER + k];
                pairs[2 * k] = v;
                pairs[2 * k + 1] = v + half;
            }
            long[] doubled = new long[2 * (pairs.length - 1)];
            for (int k = 0; k < pairs.length - 1; k++) doubled[2 * k] = doubled[2 * k + 1] = pairs[k];
            long[] prk = Arrays.copyOfRange(doubled, 1, doubled.length - 1);
            reverse(prk);
            this.prkTimesteps = prk;
            plms = Arrays.copyOfRange(asc, 0, asc.length - 3);
            reverse(plms);
        }
        this.timesteps = new long[prkTimesteps.length + plms.length];
        System.arraycopy(prkTimesteps, 0, timesteps, 0, prkTimesteps.length);
        System.arraycopy(plms, 0, timesteps, prkTimesteps.length, plms.length);
    }

    private static void reverse(long[] a) {
        for (int i = 0, j = a.length - 1; i < j; i++, j--) { long x = a[i]; a[i] = a[j]; a[j] = x; }
    }

    @Override protected long[] integerTimesteps() { return timesteps; }

    @Override public StepOutput step(Tensor modelOutput, int i, Tensor sample) {
        if (lastIndex >= 0 && i != lastIndex + 1) {
            throw new IllegalStateException("PNDM keeps a history: step " + i + " follows step " + lastIndex);
        }
        lastIndex = i;
        long t = timesteps[i];
        StepOutput out = counter < prkTimesteps.length && !config.skipPrkSteps()
                ? stepPrk(modelOutput, t, sample) : stepPlms(modelOutput, t, sample);
        if (i == timesteps.length - 1) releaseHistory();
        return out;
    }

    /** The run is over: give the remembered tensors back. */
    private void releaseHistory() {
        ets.forEach(History::release);
        ets.clear();
        setCurModelOutput(null);
        setCurSample(null);
    }

    /** Fourth-order Runge-Kutta warm-up: four model calls per step, weights 1/6, 1/3, 1/3, 1/6. */
    private StepOutput stepPrk(Tensor modelOutput, long timestep, Tensor sample) {
        long diffToPrev = counter % 2 != 0 ? 0 : stepRatio / 2;
        long prevTimestep = timestep - diffToPrev;
        timestep = prkTimesteps[counter / 4 * 4];
        switch (counter % 4) {
            case 0 -> {
                setCurModelOutput(accumulate(curModelOutput, modelOutput.mul(new Scalar(1.0 / 6))));
                ets.add(History.hold(modelOutput));
                setCurSample(sample);
            }
            case 1, 2 -> setCurModelOutput(accumulate(curModelOutput, modelOutput.mul(new Scalar(1.0 / 3))));
            default -> {
                modelOutput = accumulate(curModelOutput, modelOutput.mul(new Scalar(1.0 / 6)));
                setCurModelOutput(null);
            }
        }
        Tensor from = curSample != null ? curSample : sample;
        StepOutput out = prevSample(from, timestep, prevTimestep, modelOutput);
        counter++;
        return out;
    }

    private void setCurModelOutput(Tensor t) {
        History.release(curModelOutput);
        curModelOutput = History.hold(t);
    }

    private void setCurSample(Tensor t) {
        History.release(curSample);
        curSample = History.hold(t);
    }

    private static Tensor accumulate(Tensor sum, Tensor term) { return sum == null ? term : sum.add(term); }

    /** Linear multistep: Adams-Bashforth combinations of up to four past noise predictions. */
    private StepOutput stepPlms(Tensor modelOutput, long timestep, Tensor sample) {
        if (!config.skipPrkSteps() && ets.size() < 3) {
            throw new IllegalStateException("PLMS without skip_prk_steps needs the PRK warm-up first");
        }
        long prevTimestep = timestep - stepRatio;
        if (counter != 1) {
            while (ets.size() > 3) History.release(ets.remove(0));
            ets.add(History.hold(modelOutput));
        } else {
            // the repeated timestep: step from the first step's sample again, over the same interval
            prevTimestep = timestep;
            timestep = timestep + stepRatio;
        }
        int n = ets.size();
        Tensor e1 = ets.get(n - 1);
        if (n == 1 && counter == 0) {
            setCurSample(sample);
        } else if (n == 1 && counter == 1) {
            modelOutput = modelOutput.add(e1).div(new Scalar(2.0));
            sample = curSample;                 // still held by us until the step is computed
            curSample = null;
            StepOutput out = prevSample(sample, timestep, prevTimestep, modelOutput);
            History.release(sample);
            counter++;
            return out;
        } else if (n == 2) {
            modelOutput = e1.mul(new Scalar(3.0)).sub(ets.get(0)).div(new Scalar(2.0));
        } else if (n == 3) {
            modelOutput = e1.mul(new Scalar(23.0)).sub(ets.get(1).mul(new Scalar(16.0)))
                    .add(ets.get(0).mul(new Scalar(5.0))).div(new Scalar(12.0));
        } else {
            Tensor sum = e1.mul(new Scalar(55.0)).sub(ets.get(2).mul(new Scalar(59.0)))
                    .add(ets.get(1).mul(new Scalar(37.0))).sub(ets.get(0).mul(new Scalar(9.0)));
            modelOutput = sum.mul(new Scalar(1.0 / 24));
        }
        StepOutput out = prevSample(sample, timestep, prevTimestep, modelOutput);
        counter++;
        return out;
    }

    /** The transfer phi(x_t, e_t, t, t-delta) of eq. 11 (a DDIM step written without x0). */
    private StepOutput prevSample(Tensor sample, long timestep, long prevTimestep, Tensor modelOutput) {
        float aT = alphasCumprod[(int) timestep];
        float aPrev = prevTimestep >= 0 ? alphasCumprod[(int) prevTimestep] : finalAlphaCumprod;
        float bT = 1f - aT, bPrev = 1f - aPrev;
        float sqrtA = (float) Math.sqrt(aT), sqrtB = (float) Math.sqrt(bT);
        if (config.predictionType().equals("v_prediction")) {
            modelOutput = modelOutput.mul(new Scalar(sqrtA)).add(sample.mul(new Scalar(sqrtB)));
        }
        float sampleCoeff = (float) Math.sqrt(aPrev / aT);
        float denom = aT * (float) Math.sqrt(bPrev) + (float) Math.sqrt(aT * bT * aPrev);
        Tensor prev = sample.mul(new Scalar(sampleCoeff))
                .sub(modelOutput.mul(new Scalar(aPrev - aT)).div(new Scalar(denom)));
        Tensor x0 = sample.sub(modelOutput.mul(new Scalar(sqrtB))).div(new Scalar(sqrtA));
        return new StepOutput(prev, x0);
    }

    @Override public Tensor addNoise(Tensor originalSamples, Tensor noise, int i) {
        return schedule.addNoise(originalSamples, noise, (int) timesteps[i]);
    }
}
