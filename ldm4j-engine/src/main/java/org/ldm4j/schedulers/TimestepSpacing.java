package org.ldm4j.schedulers;

import java.util.List;

/**
 * The three ways diffusers spreads N inference timesteps over the training range ({@code timestep_spacing}),
 * reproduced with numpy's arithmetic (Lin et al. 2023, table 2, compares them).
 *
 * <ul>
 *   <li>{@code leading}: {@code 0, r, 2r, ...} with {@code r = T // N}, plus {@code steps_offset}, reversed</li>
 *   <li>{@code trailing}: {@code round(arange(T, 0, -T/N)) - 1}, which always includes {@code T - 1}</li>
 *   <li>{@code linspace}: {@code linspace(0, T - 1, N)}, reversed (rounded for integer schedulers)</li>
 * </ul>
 * All results are noisiest first.
 */
public final class TimestepSpacing {
    public static final List<String> NAMES = List.of("leading", "trailing", "linspace");

    private TimestepSpacing() {}

    public static void check(String spacing) {
        if (!NAMES.contains(spacing)) {
            throw new IllegalArgumentException("scheduler config key 'timestep_spacing': '" + spacing
                    + "' is not supported (expected one of " + NAMES + ")");
        }
    }

    /** Integer timesteps as DDPM, DDIM, PNDM and DPM-Solver compute them ({@code .round().astype(int64)}). */
    public static long[] integer(String spacing, int numTrainTimesteps, int steps, int stepsOffset) {
        double[] raw = raw(spacing, numTrainTimesteps, steps, stepsOffset);
        long[] out = new long[raw.length];
        for (int i = 0; i < raw.length; i++) out[i] = (long) raw[i];
        return out;
    }

    /** Timesteps as Euler-style schedulers compute them: float32, fractional for linspace. */
    public static double[] float32(String spacing, int numTrainTimesteps, int steps, int stepsOffset) {
        if (spacing.equals("linspace")) {
            double[] lin = linspace(0, numTrainTimesteps - 1, steps);
            double[] out = new double[steps];
            for (int i = 0; i < steps; i++) out[i] = (float) lin[steps - 1 - i];
            return out;
        }
        return raw(spacing, numTrainTimesteps, steps, stepsOffset);
    }

    /** Whole-number timesteps, noisiest first, before the integer/float32 cast. */
    private static double[] raw(String spacing, int numTrainTimesteps, int steps, int stepsOffset) {
        check(spacing);
        if (steps < 1) throw new IllegalArgumentException("number of inference steps must be >= 1, got " + steps);
        if (steps > numTrainTimesteps) {
            throw new IllegalArgumentException("number of inference steps " + steps
                    + " cannot exceed num_train_timesteps " + numTrainTimesteps);
        }
        double[] out = new double[steps];
        switch (spacing) {
            case "linspace" -> {
                double[] lin = linspace(0, numTrainTimesteps - 1, steps);
                for (int i = 0; i < steps; i++) out[i] = Math.rint(lin[steps - 1 - i]);
            }
            case "leading" -> {
                int ratio = numTrainTimesteps / steps;
                for (int i = 0; i < steps; i++) out[i] = (double) (steps - 1 - i) * ratio + stepsOffset;
            }
            default -> {   // trailing
                double[] ar = arange(numTrainTimesteps, 0, -(double) numTrainTimesteps / steps);
                if (ar.length != steps) out = new double[ar.length];
                for (int i = 0; i < ar.length; i++) out[i] = Math.rint(ar[i]) - 1;
            }
        }
        return out;
    }

    /** numpy.linspace(start, stop, num) with endpoint: {@code i * step + start}, the last one set to stop. */
    static double[] linspace(double start, double stop, int num) {
        double[] y = new double[num];
        if (num == 1) { y[0] = start; return y; }
        double step = (stop - start) / (num - 1);
        for (int i = 0; i < num; i++) y[i] = i * step + start;
        y[num - 1] = stop;
        return y;
    }

    /** numpy.arange(start, stop, step) for doubles: length {@code ceil((stop-start)/step)}, values {@code start + i*delta}. */
    static double[] arange(double start, double stop, double step) {
        int len = (int) Math.ceil((stop - start) / step);
        if (len <= 0) return new double[0];
        double[] out = new double[len];
        out[0] = start;
        // numpy fills from the first two values: delta = (start + step) - start, which may differ from step
        double delta = (start + step) - start;
        for (int i = 1; i < len; i++) out[i] = start + i * delta;
        return out;
    }

    /** numpy.interp(x, arange(len(fp)), fp) for x inside [0, len-1], in double. */
    static double interp(double x, float[] fp) {
        int last = fp.length - 1;
        if (x <= 0) return fp[0];
        if (x >= last) return fp[last];
        int j = (int) Math.floor(x);
        if (j == x) return fp[j];
        double slope = ((double) fp[j + 1] - fp[j]) / 1.0;
        return slope * (x - j) + fp[j];
    }
}
