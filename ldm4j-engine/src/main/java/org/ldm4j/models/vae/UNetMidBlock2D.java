package org.ldm4j.models.vae;

import org.bytedeco.pytorch.Tensor;
import org.ldm4j.models.resnet.ResnetBlock2D;
import org.ldm4j.nn.Block;
import org.ldm4j.nn.ScopedForward;
import org.ldm4j.nn.Seq;

/**
 * diffusers {@code UNetMidBlock2D} as the VAE uses it (unet_2d_blocks.py): resnet, single-head self-attention, resnet,
 * with no time embedding and {@code output_scale_factor = rescale_output_factor = 1}. Attentions are registered before
 * resnets, as in diffusers' state dicts. Without attention ({@code mid_block_add_attention=false}) the block has no
 * {@code attentions} weights at all.
 */
public final class UNetMidBlock2D extends Block {
    public final Seq<AttentionBlock> attentions;   // empty without attention
    public final Seq<ResnetBlock2D> resnets;

    public UNetMidBlock2D(int channels, int groups, double eps, boolean addAttention) {
        attentions = child("attentions", new Seq<>());
        resnets = child("resnets", new Seq<>());
        resnets.add(new ResnetBlock2D(channels, channels, 0, groups, eps));
        if (addAttention) attentions.add(new AttentionBlock(channels, groups, eps));
        resnets.add(new ResnetBlock2D(channels, channels, 0, groups, eps));
    }

    public Tensor forward(Tensor x) {
        Tensor h;
        try (ScopedForward s = ScopedForward.open()) {
            h = resnets.get(0).forward(x, null);
            if (attentions.size() > 0) h = attentions.get(0).forward(h);
            h = s.keep(h);
        }
        return resnets.get(1).forward(h, null);
    }
}
