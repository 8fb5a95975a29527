package org.ldm4j.models.vae;

import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch;
import org.ldm4j.nn.Block;
import org.ldm4j.nn.Conv2d;
import org.ldm4j.nn.GroupNorm;
import org.ldm4j.nn.Param;
import org.ldm4j.nn.Seq;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * diffusers {@code Decoder} (models/autoencoders/vae.py): conv_in from the latent, the {@link UNetMidBlock2D}, one
 * {@link UpDecoderBlock2D} per entry of the reversed {@code block_out_channels} with {@code layers_per_block + 1}
 * resnets each (all but the last double the resolution), GroupNorm, SiLU, conv_out to image channels.
 *
 * <p>Differentiable end to end: GradOP backpropagates image losses to z through it, and Blended Latent Diffusion's
 * background repair optimises the weights of a {@link #copy()}.
 */
public final class Decoder extends Block {
    private final AutoencoderKLConfig config;
    public final Conv2d convIn;
    public final UNetMidBlock2D midBlock;
    public final Seq<UpDecoderBlock2D> upBlocks;
    public final GroupNorm convNormOut;
    public final Conv2d convOut;

    public Decoder(AutoencoderKLConfig config) {
        this.config = config;
        List<Integer> reversed = new ArrayList<>(config.blockOutChannels());
        java.util.Collections.reverse(reversed);
        int groups = config.normNumGroups();
        int n = reversed.size();
        int top = reversed.get(0);
        convIn = child("conv_in", new Conv2d(config.latentChannels(), top, 3, 1, 1));
        midBlock = child("mid_block", new UNetMidBlock2D(top, groups, Encoder.EPS, config.midBlockAddAttention()));
        upBlocks = child("up_blocks", new Seq<>());
        int in = top;
        for (int i = 0; i < n; i++) {
            int out = reversed.get(i);
            upBlocks.add(new UpDecoderBlock2D(in, out, config.layersPerBlock() + 1, i < n - 1, groups, Encoder.EPS));
            in = out;
        }
        int bottom = reversed.get(n - 1);
        convNormOut = child("conv_norm_out", new GroupNorm(groups, bottom, Encoder.EPS));
        convOut = child("conv_out", new Conv2d(bottom, config.outChannels(), 3, 1, 1));
    }

    /** z: (B, latent, h, w) after post_quant_conv -> (B, out, h·f, w·f). */
    public Tensor forward(Tensor z) {
        Tensor h = convIn.forward(z);
        h = midBlock.forward(h);
        for (UpDecoderBlock2D block : upBlocks.items()) h = block.forward(h);
        return convOut.forward(torch.silu(convNormOut.forward(h)));
    }

    /**
     * An independent decoder with cloned weights on the same device and dtype, without gradient tracking: optimising
     * or replacing its weights leaves this one untouched (Blended Latent Diffusion starts each image's background
     * repair from the pristine weights).
     */
    public Decoder copy() {
        Decoder copy = Block.withoutInit(() -> new Decoder(config));
        Map<String, Param> mine = namedParameters();
        copy.namedParameters().forEach((name, p) -> p.set(mine.get(name).t().detach().clone()));
        return copy;
    }
}
