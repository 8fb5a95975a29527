package org.ldm4j.models.adapter;

import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch;
import org.ldm4j.nn.Block;
import org.ldm4j.nn.Conv2d;

/** diffusers {@code LightAdapterResnetBlock}: x + block2(ReLU(block1(x))), both 3x3. */
public final class LightAdapterResnetBlock extends Block {
    public final Conv2d block1, block2;

    public LightAdapterResnetBlock(int channels) {
        block1 = child("block1", new Conv2d(channels, channels, 3, 1, 1));
        block2 = child("block2", new Conv2d(channels, channels, 3, 1, 1));
    }

    public Tensor forward(Tensor x) {
        return block2.forward(torch.relu(block1.forward(x))).add(x);
    }
}
