package org.ldm4j.pipeline;

import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.TensorVector;
import org.bytedeco.pytorch.global.torch;
import org.ldm4j.models.controlnet.ControlNetModel;
import org.ldm4j.models.unet.UNetExtras;
import org.ldm4j.nn.Scopes;

import java.util.ArrayList;
import java.util.List;

/**
 * One ControlNet in a run, as diffusers' {@code StableDiffusionControlNetPipeline} drives it: every step the ControlNet
 * runs on the UNet's batch (both guidance halves see the control image), and its residuals, times {@code scale}, go
 * to the UNet. Several sources sum (diffusers' {@code MultiControlNetModel}).
 *
 * <ul>
 *   <li>{@code start}/{@code end}: the fraction of steps during which it is on (diffusers' {@code control_guidance_start/end}:
 *       step i of n is on unless i/n &lt; start or (i+1)/n &gt; end); off steps skip the ControlNet entirely (diffusers
 *       runs it with scale 0, which adds zeros).</li>
 *   <li>guess mode: the ControlNet runs on the conditional half only, with logspace(-1, 0) scales, and the
 *       unconditional half gets no residuals (diffusers pads with zeros).</li>
 * </ul>
 * The hint encoder runs once per generation (its output does not depend on the step).
 */
public final class ControlNetSource implements ControlSource {
    private final ControlNetModel net;
    private final Tensor hint;
    private final double scale, start, end;
    private final boolean guessMode;
    private Tensor hintEmbedding;
    private int runs;

    /**
     * @param hint (1, conditioning_channels, H, W) in [0, 1] at the output size (see {@link ControlImages})
     */
    public ControlNetSource(ControlNetModel net, Tensor hint, double scale, double start, double end, boolean guessMode) {
        if (!(start >= 0 && start < end && end <= 1)) {
            throw new IllegalArgumentException("control guidance start/end must satisfy 0 <= start < end <= 1, got " + start + ", " + end);
        }
        if (!Double.isFinite(scale)) throw new IllegalArgumentException("control scale must be finite, got " + scale);
        this.net = net;
        this.hint = Scopes.keep(hint);
        this.scale = scale;
        this.start = start;
        this.end = end;
        this.guessMode = guessMode;
    }

    public ControlNetSource(ControlNetModel net, Tensor hint, double scale) { this(net, hint, scale, 0, 1, false); }

    /** diffusers' {@code controlnet_keep}: whether step i of the run's n steps is inside [start, end]. */
    public boolean active(Step step) {
        int n = step.count() - step.first(), i = step.index() - step.first();
        return !((double) i / n < start || (double) (i + 1) / n > end);
    }

    /** How many steps actually ran the ControlNet. */
    public int runs() { return runs; }

    @Override
    public UNetExtras extras(ControlInput in, Step step) {
        if (!active(step)) return null;
        runs++;
        if (hintEmbedding == null) hintEmbedding = Scopes.keep(net.embedHint(hint));
        boolean guess = guessMode || net.config.globalPoolConditions();
        if (guess && in.guided()) {
            ControlNetModel.Residuals r = net.forwardEmbedded(in.condLatents(), in.timestep(), in.condContext(), hintEmbedding, scale, true, null);
            List<Tensor> down = new ArrayList<>();
            for (Tensor d : r.down()) down.add(withZeroUncond(d));
            return UNetExtras.controlNet(down, withZeroUncond(r.mid()));
        }
        return net.forwardEmbedded(in.latents(), in.timestep(), in.context(), hintEmbedding, scale, guess, null).toExtras();
    }

    private static Tensor withZeroUncond(Tensor cond) {
        return torch.cat(new TensorVector(torch.zeros_like(cond), cond), 0);
    }

    @Override
    public void validate(StableDiffusion sd, int width, int height) {
        ControlImages.requireSize("control image", hint, width, height);
        if (hint.size(1) != net.config.conditioningChannels()) {
            throw new IllegalArgumentException("control image has " + hint.size(1) + " channels, the ControlNet takes "
                    + net.config.conditioningChannels());
        }
        if (net.hintDownscale() != sd.vaeScaleFactor()) {
            throw new IllegalArgumentException("the ControlNet's hint encoder downsamples by " + net.hintDownscale()
                    + " but the model's VAE factor is " + sd.vaeScaleFactor() + ": this ControlNet was made for another model");
        }
        if (net.residualCount() != sd.unet.skipCount() || net.config.encoder().inChannels() != sd.unet.config.inChannels()
                || !net.config.encoder().blockOutChannels().equals(sd.unet.config.blockOutChannels())
                || !net.config.encoder().crossAttentionDimPerBlock().equals(sd.unet.config.crossAttentionDimPerBlock())) {
            throw new IllegalArgumentException("the ControlNet (widths " + net.config.encoder().blockOutChannels() + ", "
                    + net.residualCount() + " residuals, text width " + net.config.encoder().crossAttentionDimPerBlock().get(0)
                    + ") does not match the UNet (widths " + sd.unet.config.blockOutChannels() + ", " + sd.unet.skipCount()
                    + " skips, text width " + sd.unet.config.crossAttentionDimPerBlock().get(0) + ")");
        }
    }
}
