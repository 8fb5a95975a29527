package org.ldm4j.pipeline;

/**
 * The latents became NaN or infinite during denoising (fp16 overflow, a broken checkpoint, a diverging guidance
 * scale): the run is stopped at that step instead of decoding garbage. {@link #step} is the 0-based index into the
 * scheduler's timesteps.
 */
public class NonFiniteLatentsException extends IllegalStateException {
    public final int step;
    public final double timestep;

    public NonFiniteLatentsException(int step, double timestep, int steps, String source) {
        super("latents became NaN/Inf at step " + (step + 1) + " of " + steps + " (timestep " + timestep + "), from "
                + source + "; try float32, a lower guidance scale, or check the model weights");
        this.step = step;
        this.timestep = timestep;
    }
}
