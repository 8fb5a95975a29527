package org.ldm4j.models.unet;

import org.bytedeco.pytorch.Tensor;
import org.ldm4j.models.attention.AttentionProcessor;

import java.util.List;

/** What the UNet (and a ControlNet) needs from a down block: {@link CrossAttnDownBlock2D} or {@link DownBlock2D}. */
public interface UNetDownBlock {
    /**
     * Runs the block and appends its skip connections (one per resnet, plus the downsampler output) to {@code skips}.
     *
     * @param context             (B, M, crossAttentionDim); ignored by blocks without attention
     * @param intrablockResidual  T2I-Adapter feature to add (see each block for where), or null
     * @return the block output (downsampled unless this is the last block)
     */
    Tensor forward(Tensor hidden, Tensor temb, Tensor context, AttentionProcessor attention, Tensor intrablockResidual,
                   List<Tensor> skips);

    /** Number of skip connections this block produces. */
    int skipCount();
}
