package org.ldm4j.models.resnet;

import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch;
import org.ldm4j.nn.Block;
import org.ldm4j.nn.Conv2d;

/** diffusers {@code Upsample2D} with {@code use_conv=True}: nearest-neighbour x2 (or to a given size), then conv3x3. */
public final class Upsample2D extends Block {
    public final Conv2d conv;

    public Upsample2D(int channels, int outChannels) {
        conv = child("conv", new Conv2d(channels, outChannels, 3, 1, 1));
    }

    /** @param outputSize (h, w) to upsample to (the UNet passes its skip's size for odd shapes), or null for x2 */
    public Tensor forward(Tensor x, long[] outputSize) {
        long[] size = outputSize != null ? outputSize : new long[]{x.size(2) * 2, x.size(3) * 2};
        return conv.forward(torch.upsample_nearest2d(x, size));
    }
}
