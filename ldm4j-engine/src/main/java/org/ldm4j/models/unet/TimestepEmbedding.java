package org.ldm4j.models.unet;

import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch;
import org.ldm4j.nn.Block;
import org.ldm4j.nn.Linear;

/** diffusers {@code TimestepEmbedding} with {@code act_fn="silu"}: linear_1, SiLU, linear_2. */
public final class TimestepEmbedding extends Block {
    public final Linear linear1;   // (timeEmbedDim, inChannels)
    public final Linear linear2;   // (timeEmbedDim, timeEmbedDim)

    public TimestepEmbedding(int inChannels, int timeEmbedDim) {
        linear1 = child("linear_1", new Linear(inChannels, timeEmbedDim));
        linear2 = child("linear_2", new Linear(timeEmbedDim, timeEmbedDim));
    }

    /** (B, inChannels) → (B, timeEmbedDim) */
    public Tensor forward(Tensor sample) {
        return linear2.forward(torch.silu(linear1.forward(sample)));
    }
}
