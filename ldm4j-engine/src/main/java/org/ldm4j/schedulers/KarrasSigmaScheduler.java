package org.ldm4j.schedulers;

import org.bytedeco.pytorch.Scalar;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch.ScalarType;
import org.ldm4j.nn.Dtypes;

/**
 * What the sigma-parameterised ("k-diffusion") schedulers share: x_t = x_0 + sigma_t * eps, a model input scaled
 * by 1 / sqrt(sigma^2 + 1) (Karras et al. 2022, table 1, "VP" preconditioning), and noising by sigma alone.
 * Holds the float32 sigma table of one run ({@code sigmas[i]} for step i, plus the final sigma).
 */
abstract class KarrasSigmaScheduler implements Scheduler {
    protected final float[] sigmas;       // length steps + 1, float32 like diffusers
    protected final double[] timesteps;   // float32 values, noisiest first
    private final boolean leadingSpacing;

    /** One run's sigmas (float32, steps + 1 entries) and the timesteps the UNet sees (float32 values). */
    record Table(float[] sigmas, double[] timesteps) {}

    protected KarrasSigmaScheduler(Table table, String timestepSpacing) {
        this.sigmas = table.sigmas();
        this.timesteps = table.timesteps();
        this.leadingSpacing = timestepSpacing.equals("leading");
    }

    @Override public double[] timesteps() { return timesteps.clone(); }

    /** The sigma table of this run (one more entry than steps: the sigma stepped to at the end). */
    public float[] sigmas() { return sigmas.clone(); }

    /** max sigma, or sqrt(max^2 + 1) for "leading" spacing (whose first timestep is not the last training one). */
    @Override public double initNoiseSigma() {
        float max = 0;
        for (float s : sigmas) max = Math.max(max, s);
        return leadingSpacing ? (float) Math.sqrt(max * max + 1f) : max;
    }

    @Override public Tensor scaleModelInput(Tensor sample, int i) {
        return sample.div(new Scalar(inputScale(sigmas[i])));
    }

    static float inputScale(float sigma) { return (float) Math.sqrt(sigma * sigma + 1f); }

    @Override public Tensor addNoise(Tensor originalSamples, Tensor noise, int i) {
        // diffusers casts the sigma table to the sample dtype first
        Tensor sigma = Dtypes.to(org.bytedeco.pytorch.global.torch.tensor(sigmas[i]),
                originalSamples.device(), originalSamples.scalar_type());
        return originalSamples.add(noise.mul(sigma));
    }

    /** x0 from the model output, as every k-diffusion port in diffusers computes it. */
    static Tensor predictOriginal(String predictionType, Tensor modelOutput, Tensor sample, float sigma) {
        return switch (predictionType) {
            case "epsilon" -> sample.sub(modelOutput.mul(new Scalar(sigma)));
            case "sample" -> modelOutput;
            default -> {   // v_prediction: c_out = -sigma / sqrt(sigma^2 + 1), c_skip = 1 / (sigma^2 + 1)
                float cOut = -sigma / inputScale(sigma);
                yield modelOutput.mul(new Scalar(cOut)).add(sample.div(new Scalar(sigma * sigma + 1f)));
            }
        };
    }

    static Tensor toFloat32(Tensor t) { return Dtypes.isFloat32(t) ? t : t.to(ScalarType.Float); }

    /** The training sigma table, with diffusers' zero-SNR tweak (alphaBar_T = 2^-24 so sigma_T stays finite). */
    static float[] trainingSigmas(NoiseSchedule schedule, boolean rescaleBetasZeroSnr) {
        float[] ac = schedule.alphasCumprod();
        if (rescaleBetasZeroSnr) ac[ac.length - 1] = (float) Math.pow(2, -24);
        float[] s = new float[ac.length];
        for (int t = 0; t < s.length; t++) s[t] = NoiseSchedule.sigma(ac[t]);
        return s;
    }
}
