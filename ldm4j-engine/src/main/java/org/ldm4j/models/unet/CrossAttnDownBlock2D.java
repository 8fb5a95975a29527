package org.ldm4j.models.unet;

import org.bytedeco.pytorch.Tensor;
import org.ldm4j.models.attention.AttentionProcessor;
import org.ldm4j.nn.ScopedForward;
import org.ldm4j.models.attention.Transformer2DModel;
import org.ldm4j.models.resnet.Downsample2D;
import org.ldm4j.models.resnet.ResnetBlock2D;
import org.ldm4j.nn.Block;
import org.ldm4j.nn.Seq;

import java.util.List;

/**
 * diffusers {@code CrossAttnDownBlock2D}: (resnet, transformer) pairs, then an optional stride-2 downsampler. Every
 * pair's output is a skip connection, and so is the downsampler's.
 */
public final class CrossAttnDownBlock2D extends Block implements UNetDownBlock {
    public final Seq<Transformer2DModel> attentions;   // registered first, as in diffusers' state dict
    public final Seq<ResnetBlock2D> resnets;
    public final Seq<Downsample2D> downsamplers;       // null for the last block

    /**
     * @param heads             attention heads (head dim = outChannels / heads)
     * @param transformerLayers BasicTransformerBlocks per attention
     */
    public CrossAttnDownBlock2D(int inChannels, int outChannels, int tembChannels, int numLayers, int transformerLayers,
                                double eps, int groups, int heads, int crossAttentionDim, boolean addDownsample,
                                int downsamplePadding, boolean useLinearProjection) {
        attentions = child("attentions", new Seq<>());
        resnets = child("resnets", new Seq<>());
        for (int i = 0; i < numLayers; i++) {
            resnets.add(new ResnetBlock2D(i == 0 ? inChannels : outChannels, outChannels, tembChannels, groups, eps));
            attentions.add(new Transformer2DModel(heads, outChannels / heads, outChannels, transformerLayers,
                    crossAttentionDim, groups, useLinearProjection));
        }
        downsamplers = addDownsample ? child("downsamplers", new Seq<>()) : null;
        if (addDownsample) downsamplers.add(new Downsample2D(outChannels, outChannels, downsamplePadding));
    }

    /** The adapter residual is added to the output of the last (resnet, attention) pair, before the downsampler. */
    @Override
    public Tensor forward(Tensor hidden, Tensor temb, Tensor context, AttentionProcessor attention, Tensor intrablockResidual,
                          List<Tensor> skips) {
        int n = resnets.size();
        for (int i = 0; i < n; i++) {
            try (ScopedForward scope = ScopedForward.open()) {
                hidden = resnets.get(i).forward(hidden, temb);
                hidden = attentions.get(i).forward(hidden, context, attention);
                if (i == n - 1 && intrablockResidual != null) hidden = hidden.add(intrablockResidual);
                hidden = scope.keep(hidden);
            }
            skips.add(hidden);
        }
        if (downsamplers != null) {
            hidden = downsamplers.get(0).forward(hidden);
            skips.add(hidden);
        }
        return hidden;
    }

    @Override
    public int skipCount() { return resnets.size() + (downsamplers != null ? 1 : 0); }
}
