package org.ldm4j.models.adapter;

import org.bytedeco.pytorch.Tensor;
import org.ldm4j.nn.Block;
import org.ldm4j.nn.Conv2d;
import org.ldm4j.nn.Seq;

/** diffusers {@code LightAdapterBlock}: [avg pool] → 1x1 in_conv to out/4 → resnets → 1x1 out_conv to out. */
public final class LightAdapterBlock extends Block {
    public final boolean down;
    public final Conv2d inConv, outConv;
    public final Seq<LightAdapterResnetBlock> resnets;

    public LightAdapterBlock(int inChannels, int outChannels, int numResBlocks, boolean down) {
        this.down = down;
        int mid = outChannels / 4;
        inConv = child("in_conv", new Conv2d(inChannels, mid, 1, 1, 0));
        resnets = child("resnets", new Seq<>());
        for (int i = 0; i < numResBlocks; i++) resnets.add(new LightAdapterResnetBlock(mid));
        outConv = child("out_conv", new Conv2d(mid, outChannels, 1, 1, 0));
    }

    public Tensor forward(Tensor x) {
        if (down) x = AdapterBlock.avgPool2x2(x);
        x = inConv.forward(x);
        for (LightAdapterResnetBlock r : resnets.items()) x = r.forward(x);
        return outConv.forward(x);
    }
}
