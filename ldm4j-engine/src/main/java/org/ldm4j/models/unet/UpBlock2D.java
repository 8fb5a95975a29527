package org.ldm4j.models.unet;

import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.TensorVector;
import org.bytedeco.pytorch.global.torch;
import org.ldm4j.models.attention.AttentionProcessor;
import org.ldm4j.nn.ScopedForward;
import org.ldm4j.models.resnet.ResnetBlock2D;
import org.ldm4j.models.resnet.Upsample2D;
import org.ldm4j.nn.Block;
import org.ldm4j.nn.Seq;

import java.util.List;

/**
 * diffusers {@code UpBlock2D}: each resnet takes the previous output concatenated (on channels) with one skip
 * connection, popped from the end; then an optional nearest x2 upsampler.
 */
public final class UpBlock2D extends Block implements UNetUpBlock {
    public final Seq<ResnetBlock2D> resnets;
    public final Seq<Upsample2D> upsamplers;   // null for the last block

    /**
     * @param inChannels         channels of the skip from the next-higher-resolution block (used by the last resnet)
     * @param prevOutputChannels channels coming from the previous up block (or the mid block)
     */
    public UpBlock2D(int inChannels, int prevOutputChannels, int outChannels, int tembChannels, int numLayers, double eps,
                     int groups, boolean addUpsample) {
        resnets = child("resnets", new Seq<>());
        for (int i = 0; i < numLayers; i++) {
            int skipChannels = i == numLayers - 1 ? inChannels : outChannels;
            int resnetIn = i == 0 ? prevOutputChannels : outChannels;
            resnets.add(new ResnetBlock2D(resnetIn + skipChannels, outChannels, tembChannels, groups, eps));
        }
        upsamplers = addUpsample ? child("upsamplers", new Seq<>()) : null;
        if (addUpsample) upsamplers.add(new Upsample2D(outChannels, outChannels));
    }

    @Override
    public Tensor forward(Tensor hidden, List<Tensor> skips, Tensor temb, Tensor context, AttentionProcessor attention,
                          long[] upsampleSize) {
        int next = skips.size() - 1;
        for (ResnetBlock2D resnet : resnets.items()) {
            try (ScopedForward scope = ScopedForward.open()) {
                hidden = scope.keep(resnet.forward(torch.cat(new TensorVector(hidden, skips.get(next--)), 1), temb));
            }
        }
        if (upsamplers != null) hidden = upsamplers.get(0).forward(hidden, upsampleSize);
        return hidden;
    }

    @Override
    public int resnetCount() { return resnets.size(); }
}
