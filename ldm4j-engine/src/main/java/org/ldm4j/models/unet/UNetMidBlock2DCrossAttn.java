package org.ldm4j.models.unet;

import org.bytedeco.pytorch.Tensor;
import org.ldm4j.models.attention.AttentionProcessor;
import org.ldm4j.nn.ScopedForward;
import org.ldm4j.models.attention.Transformer2DModel;
import org.ldm4j.models.resnet.ResnetBlock2D;
import org.ldm4j.nn.Block;
import org.ldm4j.nn.Seq;

/** diffusers {@code UNetMidBlock2DCrossAttn} with one attention: resnet, transformer, resnet at the lowest resolution. */
public final class UNetMidBlock2DCrossAttn extends Block {
    public final Seq<Transformer2DModel> attentions;
    public final Seq<ResnetBlock2D> resnets;

    public UNetMidBlock2DCrossAttn(int channels, int tembChannels, double eps, int groups, int heads, int crossAttentionDim,
                                   int transformerLayers, boolean useLinearProjection) {
        attentions = child("attentions", new Seq<>());
        resnets = child("resnets", new Seq<>());
        resnets.add(new ResnetBlock2D(channels, channels, tembChannels, groups, eps));
        attentions.add(new Transformer2DModel(heads, channels / heads, channels, transformerLayers, crossAttentionDim,
                groups, useLinearProjection));
        resnets.add(new ResnetBlock2D(channels, channels, tembChannels, groups, eps));
    }

    public Tensor forward(Tensor hidden, Tensor temb, Tensor context, AttentionProcessor attention) {
        try (ScopedForward scope = ScopedForward.open()) {
            hidden = resnets.get(0).forward(hidden, temb);
            for (int i = 0; i < attentions.size(); i++) {
                hidden = attentions.get(i).forward(hidden, context, attention);
                hidden = resnets.get(i + 1).forward(hidden, temb);
            }
            return scope.keep(hidden);
        }
    }
}
