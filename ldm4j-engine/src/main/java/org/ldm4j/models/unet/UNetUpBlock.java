package org.ldm4j.models.unet;

import org.bytedeco.pytorch.Tensor;
import org.ldm4j.models.attention.AttentionProcessor;

import java.util.List;

/** What the UNet needs from an up block: {@link CrossAttnUpBlock2D} or {@link UpBlock2D}. */
public interface UNetUpBlock {
    /**
     * @param skips        this block's skip connections in the order the down path produced them; the block consumes
     *                     them from the last one, concatenating one per resnet
     * @param upsampleSize (h, w) for the upsampler when the input size is not a multiple of the total up factor, else null
     */
    Tensor forward(Tensor hidden, List<Tensor> skips, Tensor temb, Tensor context, AttentionProcessor attention,
                   long[] upsampleSize);

    /** Number of resnets = skip connections consumed. */
    int resnetCount();
}
