package org.ldm4j.train.toyworld;

import org.bytedeco.pytorch.Scalar;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch;
import org.ldm4j.nn.Block;
import org.ldm4j.nn.Conv2d;
import org.ldm4j.nn.GroupNorm;

/**
 * The patch discriminator of SD's autoencoder training (pix2pix's NLayerDiscriminator, here with two strided layers):
 * conv 4x4/2, LeakyReLU(0.2), conv 4x4/2, GroupNorm, LeakyReLU, conv 4x4/1 to one logit per patch.
 *
 * <p>Two layers instead of SD's three: each logit then sees a 22x22 pixel patch, about a ToyWorld object, which is the
 * scale at which an L1/L2-trained decoder loses texture (a flower bed's dots become a uniform blob). GroupNorm replaces
 * BatchNorm so that a logit does not depend on the rest of the batch.
 */
public final class PatchDiscriminator extends Block {
    private final Conv2d conv0, conv1, conv2;
    private final GroupNorm norm1;

    public PatchDiscriminator(int channels, int width) {
        conv0 = child("conv0", new Conv2d(channels, width, 4, 2, 1));
        conv1 = child("conv1", new Conv2d(width, 2 * width, 4, 2, 1, false));
        norm1 = child("norm1", new GroupNorm(8, 2 * width, 1e-5));
        conv2 = child("conv2", new Conv2d(2 * width, 1, 4, 1, 1));
    }

    /** Patch logits (n, 1, h/4 - 1, w/4 - 1) of images in [-1, 1]. */
    public Tensor forward(Tensor x) {
        Scalar slope = new Scalar(0.2);
        Tensor h = torch.leaky_relu(conv0.forward(x), slope);
        h = torch.leaky_relu(norm1.forward(conv1.forward(h)), slope);
        return conv2.forward(h);
    }
}
