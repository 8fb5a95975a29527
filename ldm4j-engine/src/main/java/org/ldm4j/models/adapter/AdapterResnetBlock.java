package org.ldm4j.models.adapter;

import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch;
import org.ldm4j.nn.Block;
import org.ldm4j.nn.Conv2d;

/**
 * diffusers {@code AdapterResnetBlock} (models/adapter.py): x + block2(ReLU(block1(x))), block1 3x3, block2 1x1
 * (the original T2I-Adapter's {@code ResnetBlock} with sk=True, ksize=1; FG-DM's plain adapter block too).
 */
public final class AdapterResnetBlock extends Block {
    public final Conv2d block1, block2;

    public AdapterResnetBlock(int channels) {
        block1 = child("block1", new Conv2d(channels, channels, 3, 1, 1));
        block2 = child("block2", new Conv2d(channels, channels, 1, 1, 0));
    }

    public Tensor forward(Tensor x) {
        return block2.forward(torch.relu(block1.forward(x))).add(x);
    }
}
