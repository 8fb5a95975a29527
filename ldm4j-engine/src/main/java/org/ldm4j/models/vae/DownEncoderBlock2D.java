package org.ldm4j.models.vae;

import org.bytedeco.pytorch.Tensor;
import org.ldm4j.models.resnet.Downsample2D;
import org.ldm4j.models.resnet.ResnetBlock2D;
import org.ldm4j.nn.Block;
import org.ldm4j.nn.ScopedForward;
import org.ldm4j.nn.Seq;

/**
 * diffusers {@code DownEncoderBlock2D} (unet_2d_blocks.py): {@code numLayers} resnets without time embedding, then
 * optionally a stride-2 conv with the LDM's asymmetric padding ({@code downsample_padding=0}).
 */
public final class DownEncoderBlock2D extends Block {
    public final Seq<ResnetBlock2D> resnets;
    public final Seq<Downsample2D> downsamplers;   // null on the last block

    public DownEncoderBlock2D(int inChannels, int outChannels, int numLayers, boolean addDownsample, int groups, double eps) {
        resnets = child("resnets", new Seq<>());
        for (int i = 0; i < numLayers; i++) {
            resnets.add(new ResnetBlock2D(i == 0 ? inChannels : outChannels, outChannels, 0, groups, eps));
        }
        if (addDownsample) {
            downsamplers = child("downsamplers", new Seq<>());
            downsamplers.add(new Downsample2D(outChannels, outChannels, 0));
        } else {
            downsamplers = null;
        }
    }

    public Tensor forward(Tensor x) {
        // One native-memory scope per resnet: at 512 px the decoder's temporaries otherwise pile up to ~6 GB.
        for (ResnetBlock2D r : resnets.items()) {
            try (ScopedForward s = ScopedForward.open()) {
                x = s.keep(r.forward(x, null));
            }
        }
        if (downsamplers != null) {
            try (ScopedForward s = ScopedForward.open()) {
                x = s.keep(downsamplers.get(0).forward(x));
            }
        }
        return x;
    }
}
