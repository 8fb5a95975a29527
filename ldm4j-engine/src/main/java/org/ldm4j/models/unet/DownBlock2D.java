package org.ldm4j.models.unet;

import org.bytedeco.pytorch.Tensor;
import org.ldm4j.models.attention.AttentionProcessor;
import org.ldm4j.nn.ScopedForward;
import org.ldm4j.models.resnet.Downsample2D;
import org.ldm4j.models.resnet.ResnetBlock2D;
import org.ldm4j.nn.Block;
import org.ldm4j.nn.Seq;

import java.util.List;

/** diffusers {@code DownBlock2D} (models/unets/unet_2d_blocks.py): resnets, then an optional stride-2 downsampler. */
public final class DownBlock2D extends Block implements UNetDownBlock {
    public final Seq<ResnetBlock2D> resnets;
    public final Seq<Downsample2D> downsamplers;   // null for the last block

    public DownBlock2D(int inChannels, int outChannels, int tembChannels, int numLayers, double eps, int groups,
                       boolean addDownsample, int downsamplePadding) {
        resnets = child("resnets", new Seq<>());
        for (int i = 0; i < numLayers; i++) {
            resnets.add(new ResnetBlock2D(i == 0 ? inChannels : outChannels, outChannels, tembChannels, groups, eps));
        }
        downsamplers = addDownsample ? child("downsamplers", new Seq<>()) : null;
        if (addDownsample) downsamplers.add(new Downsample2D(outChannels, outChannels, downsamplePadding));
    }

    /**
     * The adapter residual is added to the block output, and to the skip that is the same tensor, as diffusers'
     * UNet does with an in-place {@code sample += residual} after calling a block without cross-attention.
     */
    @Override
    public Tensor forward(Tensor hidden, Tensor temb, Tensor context, AttentionProcessor attention, Tensor intrablockResidual,
                          List<Tensor> skips) {
        for (ResnetBlock2D resnet : resnets.items()) {
            try (ScopedForward scope = ScopedForward.open()) {
                hidden = scope.keep(resnet.forward(hidden, temb));
            }
            skips.add(hidden);
        }
        if (downsamplers != null) {
            hidden = downsamplers.get(0).forward(hidden);
            skips.add(hidden);
        }
        if (intrablockResidual != null) {
            hidden = hidden.add(intrablockResidual);
            skips.set(skips.size() - 1, hidden);
        }
        return hidden;
    }

    @Override
    public int skipCount() { return resnets.size() + (downsamplers != null ? 1 : 0); }
}
