package org.ldm4j.models.resnet;

import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch;
import org.ldm4j.nn.Block;
import org.ldm4j.nn.Conv2d;

/**
 * diffusers {@code Downsample2D} with {@code use_conv=True}: a stride-2 conv3x3. With padding 0 (the VAE encoder)
 * the input is first padded by one pixel on the right and bottom only, as the original LDM code does.
 */
public final class Downsample2D extends Block {
    public final Conv2d conv;
    private final int padding;

    public Downsample2D(int channels, int outChannels, int padding) {
        this.padding = padding;
        conv = child("conv", new Conv2d(channels, outChannels, 3, 2, padding));
    }

    public Tensor forward(Tensor x) {
        if (padding == 0) x = torch.constant_pad_nd(x, 0, 1, 0, 1);
        return conv.forward(x);
    }
}
