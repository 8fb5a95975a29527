package org.ldm4j.schedulers;

import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.Scalar;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.TensorOptions;
import org.bytedeco.pytorch.global.torch;
import org.bytedeco.pytorch.global.torch.ScalarType;
import org.ldm4j.nn.Dtypes;

import java.util.List;

/**
 * The forward (noising) process of a discrete-time diffusion model: betas, alphas and their cumulative product,
 * and q(x_t | x_0) at integer training timesteps. Shared by every scheduler and by the trainer.
 *
 * <p>Ho et al. 2020, eq. 4: {@code x_t = sqrt(alphaBar_t) x_0 + sqrt(1 - alphaBar_t) eps}. Diffusers builds these
 * arrays as float32 torch tensors (the constructor of every {@code scheduling_*.py}); they are built here with
 * the same libtorch ops ({@code linspace} in float32, {@code cumprod}, which accumulates in double on the CPU and
 * rounds each element to float) so that every published figure reproduces to the last bit of the schedule.
 */
public final class NoiseSchedule {
    /** The beta schedules this port implements ({@code beta_schedule} values). */
    public static final List<String> BETA_SCHEDULES = List.of("linear", "scaled_linear", "squaredcos_cap_v2");

    private final float[] betas;
    private final float[] alphas;
    private final float[] alphasCumprod;

    private NoiseSchedule(float[] betas) {
        this.betas = betas;
        try (PointerScope scope = new PointerScope()) {
            Tensor b = torch.tensor(betas);
            Tensor a = torch.rsub(b, new Scalar(1.0));                  // 1.0 - betas, float32
            this.alphas = toFloats(a);
            this.alphasCumprod = toFloats(torch.cumprod(a, 0));
        }
    }

    /**
     * Builds the schedule as diffusers' scheduler constructors do.
     *
     * @param trainedBetas explicit betas ({@code trained_betas}); when non-null, the other beta keys are ignored
     * @param rescaleBetasZeroSnr Lin et al. 2023, "Common Diffusion Noise Schedules and Sample Steps are Flawed", Alg. 1
     */
    public static NoiseSchedule of(int numTrainTimesteps, double betaStart, double betaEnd, String betaSchedule,
                                   List<Double> trainedBetas, boolean rescaleBetasZeroSnr) {
        if (numTrainTimesteps < 1) {
            throw new IllegalArgumentException("scheduler config key 'num_train_timesteps': must be >= 1, got " + numTrainTimesteps);
        }
        float[] betas;
        if (trainedBetas != null) {
            // one variance per training timestep; an empty list reached libtorch as an empty tensor whose data
            // pointer is null (NullPointerException, found by DiffusersConfigFuzzTest)
            if (trainedBetas.size() != numTrainTimesteps) {
                throw new IllegalArgumentException("scheduler config key 'trained_betas': " + trainedBetas.size()
                        + " values for num_train_timesteps " + numTrainTimesteps + " (one per training timestep)");
            }
            betas = new float[trainedBetas.size()];
            for (int i = 0; i < betas.length; i++) {
                Double beta = trainedBetas.get(i);
                betas[i] = checkBeta("trained_betas[" + i + "]", beta == null ? Double.NaN : beta);
            }
        } else {
            // a variance per step: outside [0, 1] the alphas are negative (NaN square roots), and a value beyond
            // float range made libtorch's linspace throw a bare RuntimeException (found by DiffusersConfigFuzzTest)
            if (!"squaredcos_cap_v2".equals(betaSchedule)) {
                checkBeta("beta_start", betaStart);
                checkBeta("beta_end", betaEnd);
            }
            betas = switch (betaSchedule) {
                case "linear" -> linspaceFloat32(betaStart, betaEnd, numTrainTimesteps, false);
                // sqrt in double (Python's **0.5), linspace in float32, then squared in float32
                case "scaled_linear" -> linspaceFloat32(Math.sqrt(betaStart), Math.sqrt(betaEnd), numTrainTimesteps, true);
                case "squaredcos_cap_v2" -> cosineBetas(numTrainTimesteps, 0.999);
                default -> throw new IllegalArgumentException("scheduler config key 'beta_schedule': '" + betaSchedule
                        + "' is not implemented (expected one of " + BETA_SCHEDULES + ")");
            };
        }
        if (rescaleBetasZeroSnr) betas = rescaleZeroTerminalSnr(betas);
        return new NoiseSchedule(betas);
    }

    private static float checkBeta(String key, double beta) {
        if (!(beta >= 0 && beta <= 1)) {
            throw new IllegalArgumentException("scheduler config key '" + key + "': a noise variance must be in [0, 1], got " + beta);
        }
        return (float) beta;
    }

    private static float[] linspaceFloat32(double start, double end, int n, boolean square) {
        try (PointerScope scope = new PointerScope()) {
            Tensor t = torch.linspace(new Scalar(start), new Scalar(end), n,
                    new TensorOptions().dtype(Dtypes.optional(ScalarType.Float)));
            return toFloats(square ? t.mul(t) : t);
        }
    }

    /** Nichol and Dhariwal 2021, eq. 17: betas from the cosine alpha-bar, in double, capped, then float32. */
    private static float[] cosineBetas(int n, double maxBeta) {
        float[] betas = new float[n];
        for (int i = 0; i < n; i++) {
            double t1 = (double) i / n, t2 = (double) (i + 1) / n;
            betas[i] = (float) Math.min(1 - alphaBarCosine(t2) / alphaBarCosine(t1), maxBeta);
        }
        return betas;
    }

    private static double alphaBarCosine(double t) {
        double c = Math.cos((t + 0.008) / 1.008 * Math.PI / 2);
        return c * c;
    }

    /** diffusers {@code rescale_zero_terminal_snr}, op for op in float32. */
    private static float[] rescaleZeroTerminalSnr(float[] betas) {
        try (PointerScope scope = new PointerScope()) {
            Tensor alphas = torch.rsub(torch.tensor(betas), new Scalar(1.0));
            Tensor sqrtBar = torch.cumprod(alphas, 0).sqrt();
            Tensor first = sqrtBar.select(0, 0).clone();
            Tensor last = sqrtBar.select(0, betas.length - 1).clone();
            sqrtBar = sqrtBar.sub(last);
            sqrtBar = sqrtBar.mul(first.div(first.sub(last)));
            Tensor bar = sqrtBar.mul(sqrtBar);
            Tensor ratio = bar.narrow(0, 1, betas.length - 1).div(bar.narrow(0, 0, betas.length - 1));
            Tensor newAlphas = torch.cat(new org.bytedeco.pytorch.TensorVector(bar.narrow(0, 0, 1), ratio), 0);
            return toFloats(torch.rsub(newAlphas, new Scalar(1.0)));
        }
    }

    static float[] toFloats(Tensor t) {
        Tensor c = t.to(ScalarType.Float).contiguous();
        float[] out = new float[(int) c.numel()];
        c.data_ptr_float().get(out);
        return out;
    }

    public int numTrainTimesteps() { return betas.length; }

    public float[] betas() { return betas.clone(); }

    public float[] alphas() { return alphas.clone(); }

    /** alphaBar_t for t = 0 .. numTrainTimesteps-1, float32 as in diffusers. */
    public float[] alphasCumprod() { return alphasCumprod.clone(); }

    public float alphaCumprod(int t) { return alphasCumprod[t]; }

    /** Karras-style noise levels {@code sqrt((1 - alphaBar_t) / alphaBar_t)}, computed in float32, ascending in t. */
    public float[] sigmas() {
        float[] s = new float[alphasCumprod.length];
        for (int t = 0; t < s.length; t++) s[t] = sigma(alphasCumprod[t]);
        return s;
    }

    static float sigma(float alphaCumprod) {
        return (float) Math.sqrt((1f - alphaCumprod) / alphaCumprod);
    }

    /** q(x_t | x_0) at one training timestep {@code t} for the whole batch. */
    public Tensor addNoise(Tensor originalSamples, Tensor noise, int t) {
        return addNoise(originalSamples, noise, torch.tensor(new long[]{t}));
    }

    /**
     * q(x_t | x_0) at per-example training timesteps (a 1-D int64 tensor, one per batch element, or one for all),
     * as diffusers' {@code add_noise}: alphaBar is cast to the sample dtype before the square roots.
     */
    public Tensor addNoise(Tensor originalSamples, Tensor noise, Tensor timesteps) {
        Tensor[] c = coefficients(originalSamples, timesteps);
        return c[0].mul(originalSamples).add(c[1].mul(noise));
    }

    /** The v-prediction target (Salimans and Ho 2022, sec. 4): {@code v = sqrt(alphaBar) eps - sqrt(1 - alphaBar) x0}. */
    public Tensor velocity(Tensor sample, Tensor noise, Tensor timesteps) {
        Tensor[] c = coefficients(sample, timesteps);
        return c[0].mul(noise).sub(c[1].mul(sample));
    }

    public Tensor velocity(Tensor sample, Tensor noise, int t) {
        return velocity(sample, noise, torch.tensor(new long[]{t}));
    }

    /** {sqrt(alphaBar_t), sqrt(1 - alphaBar_t)}, shaped (B, 1, 1, ...) to broadcast over the sample. */
    private Tensor[] coefficients(Tensor sample, Tensor timesteps) {
        Tensor ac = Dtypes.to(torch.tensor(alphasCumprod), sample.device(), sample.scalar_type());
        Tensor picked = ac.index_select(0, Dtypes.to(timesteps.flatten(), sample.device(), ScalarType.Long));
        long[] shape = new long[(int) sample.dim()];
        java.util.Arrays.fill(shape, 1);
        shape[0] = -1;
        Tensor sqrtAlpha = picked.sqrt().reshape(shape);
        Tensor sqrtOneMinus = torch.rsub(picked, new Scalar(1.0)).sqrt().reshape(shape);
        return new Tensor[]{sqrtAlpha, sqrtOneMinus};
    }
}
