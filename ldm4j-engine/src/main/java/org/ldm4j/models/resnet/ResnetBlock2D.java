package org.ldm4j.models.resnet;

import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch;
import org.ldm4j.nn.Block;
import org.ldm4j.nn.Conv2d;
import org.ldm4j.nn.GroupNorm;
import org.ldm4j.nn.Linear;

/**
 * diffusers {@code ResnetBlock2D} (models/resnet.py) with {@code time_embedding_norm="default"},
 * {@code output_scale_factor=1}: GroupNorm, SiLU, conv3x3, + projected time embedding, GroupNorm, SiLU, conv3x3,
 * plus a 1x1 shortcut when the channel count changes. Used by the UNet (with a time embedding) and the VAE (without).
 */
public final class ResnetBlock2D extends Block {
    public final GroupNorm norm1;
    public final Conv2d conv1;
    public final Linear timeEmbProj;   // null in the VAE
    public final GroupNorm norm2;
    public final Conv2d conv2;
    public final Conv2d convShortcut;  // null when in == out

    /**
     * @param tembChannels time-embedding width, or 0 for none (VAE)
     */
    public ResnetBlock2D(int inChannels, int outChannels, int tembChannels, int groups, double eps) {
        norm1 = child("norm1", new GroupNorm(groups, inChannels, eps));
        conv1 = child("conv1", new Conv2d(inChannels, outChannels, 3, 1, 1));
        timeEmbProj = tembChannels > 0 ? child("time_emb_proj", new Linear(tembChannels, outChannels)) : null;
        norm2 = child("norm2", new GroupNorm(groups, outChannels, eps));
        conv2 = child("conv2", new Conv2d(outChannels, outChannels, 3, 1, 1));
        convShortcut = inChannels != outChannels ? child("conv_shortcut", new Conv2d(inChannels, outChannels, 1, 1, 0)) : null;
    }

    /** @param temb (B, tembChannels) or null */
    public Tensor forward(Tensor x, Tensor temb) {
        Tensor h = conv1.forward(torch.silu(norm1.forward(x)));
        if (timeEmbProj != null && temb != null) {
            Tensor t = timeEmbProj.forward(torch.silu(temb));       // (B, C)
            h = h.add(t.unsqueeze(2).unsqueeze(3));
        }
        h = conv2.forward(torch.silu(norm2.forward(h)));            // dropout is identity at inference
        Tensor skip = convShortcut != null ? convShortcut.forward(x) : x;
        return skip.add(h);
    }
}
