package org.ldm4j.models.controlnet;

import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch;
import org.ldm4j.nn.Block;
import org.ldm4j.nn.Conv2d;
import org.ldm4j.nn.Seq;

import java.util.List;

/**
 * diffusers {@code ControlNetConditioningEmbedding} (models/controlnets/controlnet.py), the hint encoder of ControlNet
 * (Zhang et al. 2023, "Adding Conditional Control to Text-to-Image Diffusion Models"): conv_in 3x3, then per width
 * step a 3x3 conv and a stride-2 3x3 conv to the next width, SiLU after each, and a zero-initialised 3x3 conv_out to
 * the UNet's first width. The original cldm {@code input_hint_block} is the same sequence with the SiLUs as modules.
 */
public final class ControlNetConditioningEmbedding extends Block {
    public final Conv2d convIn;
    public final Seq<Conv2d> blocks;
    public final Conv2d convOut;

    public ControlNetConditioningEmbedding(int embeddingChannels, int conditioningChannels, List<Integer> widths) {
        convIn = child("conv_in", new Conv2d(conditioningChannels, widths.get(0), 3, 1, 1));
        blocks = child("blocks", new Seq<>());
        for (int i = 0; i < widths.size() - 1; i++) {
            blocks.add(new Conv2d(widths.get(i), widths.get(i), 3, 1, 1));
            blocks.add(new Conv2d(widths.get(i), widths.get(i + 1), 3, 2, 1));
        }
        convOut = child("conv_out", new Conv2d(widths.get(widths.size() - 1), embeddingChannels, 3, 1, 1));
        if (initialising()) ControlNetModel.zero(convOut);
    }

    /** (B, conditioning_channels, H, W) in [0, 1] to (B, embedding_channels, H / 2^k, W / 2^k). */
    public Tensor forward(Tensor conditioning) {
        Tensor h = torch.silu(convIn.forward(conditioning));
        for (Conv2d b : blocks.items()) h = torch.silu(b.forward(h));
        return convOut.forward(h);
    }
}
