package org.ldm4j.models.adapter;

import org.bytedeco.pytorch.LongOptional;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch;
import org.ldm4j.nn.Block;
import org.ldm4j.nn.Conv2d;
import org.ldm4j.nn.Seq;

/**
 * diffusers {@code AdapterBlock}: [2x2 average pool if {@code down}] → [1x1 in_conv if the width changes] → resnets.
 * The pool uses {@code ceil_mode=True} as diffusers; the original code (and FG-DM) floors, which only differs on odd
 * sizes.
 */
public final class AdapterBlock extends Block {
    public final boolean down;
    public final Conv2d inConv;   // null when in == out
    public final Seq<AdapterResnetBlock> resnets;

    public AdapterBlock(int inChannels, int outChannels, int numResBlocks, boolean down) {
        this.down = down;
        inConv = inChannels != outChannels ? child("in_conv", new Conv2d(inChannels, outChannels, 1, 1, 0)) : null;
        resnets = child("resnets", new Seq<>());
        for (int i = 0; i < numResBlocks; i++) resnets.add(new AdapterResnetBlock(outChannels));
    }

    public Tensor forward(Tensor x) {
        if (down) x = avgPool2x2(x);
        if (inConv != null) x = inConv.forward(x);
        for (AdapterResnetBlock r : resnets.items()) x = r.forward(x);
        return x;
    }

    /** {@code nn.AvgPool2d(kernel_size=2, stride=2, ceil_mode=True)}. */
    static Tensor avgPool2x2(Tensor x) {
        return torch.avg_pool2d(x, new long[]{2, 2}, new long[]{2, 2}, new long[]{0, 0}, true, true, new LongOptional());
    }
}
