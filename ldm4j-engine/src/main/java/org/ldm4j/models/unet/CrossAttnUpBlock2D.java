package org.ldm4j.models.unet;

import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.TensorVector;
import org.bytedeco.pytorch.global.torch;
import org.ldm4j.models.attention.AttentionProcessor;
import org.ldm4j.nn.ScopedForward;
import org.ldm4j.models.attention.Transformer2DModel;
import org.ldm4j.models.resnet.ResnetBlock2D;
import org.ldm4j.models.resnet.Upsample2D;
import org.ldm4j.nn.Block;
import org.ldm4j.nn.Seq;

import java.util.List;

/**
 * diffusers {@code CrossAttnUpBlock2D}: (resnet on [hidden, skip], transformer) pairs consuming the skips from the
 * end, then an optional nearest x2 upsampler.
 */
public final class CrossAttnUpBlock2D extends Block implements UNetUpBlock {
    public final Seq<Transformer2DModel> attentions;
    public final Seq<ResnetBlock2D> resnets;
    public final Seq<Upsample2D> upsamplers;   // null for the last block

    public CrossAttnUpBlock2D(int inChannels, int prevOutputChannels, int outChannels, int tembChannels, int numLayers,
                              int transformerLayers, double eps, int groups, int heads, int crossAttentionDim,
                              boolean addUpsample, boolean useLinearProjection) {
        attentions = child("attentions", new Seq<>());
        resnets = child("resnets", new Seq<>());
        for (int i = 0; i < numLayers; i++) {
            int skipChannels = i == numLayers - 1 ? inChannels : outChannels;
            int resnetIn = i == 0 ? prevOutputChannels : outChannels;
            resnets.add(new ResnetBlock2D(resnetIn + skipChannels, outChannels, tembChannels, groups, eps));
            attentions.add(new Transformer2DModel(heads, outChannels / heads, outChannels, transformerLayers,
                    crossAttentionDim, groups, useLinearProjection));
        }
        upsamplers = addUpsample ? child("upsamplers", new Seq<>()) : null;
        if (addUpsample) upsamplers.add(new Upsample2D(outChannels, outChannels));
    }

    @Override
    public Tensor forward(Tensor hidden, List<Tensor> skips, Tensor temb, Tensor context, AttentionProcessor attention,
                          long[] upsampleSize) {
        int next = skips.size() - 1;
        for (int i = 0; i < resnets.size(); i++) {
            try (ScopedForward scope = ScopedForward.open()) {
                hidden = resnets.get(i).forward(torch.cat(new TensorVector(hidden, skips.get(next--)), 1), temb);
                hidden = scope.keep(attentions.get(i).forward(hidden, context, attention));
            }
        }
        if (upsamplers != null) hidden = upsamplers.get(0).forward(hidden, upsampleSize);
        return hidden;
    }

    @Override
    public int resnetCount() { return resnets.size(); }
}
