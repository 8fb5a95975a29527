package org.ldm4j.models.vae;

import org.bytedeco.pytorch.Tensor;
import org.ldm4j.models.resnet.ResnetBlock2D;
import org.ldm4j.models.resnet.Upsample2D;
import org.ldm4j.nn.Block;
import org.ldm4j.nn.ScopedForward;
import org.ldm4j.nn.Seq;

/**
 * diffusers {@code UpDecoderBlock2D} (unet_2d_blocks.py): {@code numLayers} resnets without time embedding (the
 * decoder passes {@code layers_per_block + 1}), then optionally nearest x2 upsampling and a conv3x3.
 */
public final class UpDecoderBlock2D extends Block {
    public final Seq<ResnetBlock2D> resnets;
    public final Seq<Upsample2D> upsamplers;   // null on the last block

    public UpDecoderBlock2D(int inChannels, int outChannels, int numLayers, boolean addUpsample, int groups, double eps) {
        resnets = child("resnets", new Seq<>());
        for (int i = 0; i < numLayers; i++) {
            resnets.add(new ResnetBlock2D(i == 0 ? inChannels : outChannels, outChannels, 0, groups, eps));
        }
        if (addUpsample) {
            upsamplers = child("upsamplers", new Seq<>());
            upsamplers.add(new Upsample2D(outChannels, outChannels));
        } else {
            upsamplers = null;
        }
    }

    public Tensor forward(Tensor x) {
        // One native-memory scope per resnet: at 512 px the decoder's temporaries otherwise pile up to ~6 GB.
        for (ResnetBlock2D r : resnets.items()) {
            try (ScopedForward s = ScopedForward.open()) {
                x = s.keep(r.forward(x, null));
            }
        }
        if (upsamplers != null) {
            try (ScopedForward s = ScopedForward.open()) {
                x = s.keep(upsamplers.get(0).forward(x, null));
            }
        }
        return x;
    }
}
