package org.ldm4j.models.unet;

import org.bytedeco.pytorch.Tensor;
import org.ldm4j.models.attention.AttentionProcessor;

import java.util.List;

/**
 * Per-call additions to a {@link UNet2DConditionModel} forward; every field may be null.
 *
 * @param downBlockAdditionalResiduals     ControlNet: one tensor per skip connection (conv_in output, then every
 *                                         resnet/attention pair and downsampler output), added to the skips
 * @param midBlockAdditionalResidual       ControlNet: added to the mid-block output
 * @param downIntrablockAdditionalResiduals T2I-Adapter / FG-DM: one tensor per down block, added inside it after its
 *                                         last resnet/attention pair (before the downsampler) for cross-attention
 *                                         blocks, after the whole block for plain ones (diffusers' placement)
 * @param attention                        attention processor for every layer; null = fused SDPA
 */
public record UNetExtras(List<Tensor> downBlockAdditionalResiduals, Tensor midBlockAdditionalResidual,
                         List<Tensor> downIntrablockAdditionalResiduals, AttentionProcessor attention) {
    public static final UNetExtras NONE = new UNetExtras(null, null, null, null);

    public static UNetExtras controlNet(List<Tensor> downBlockResiduals, Tensor midBlockResidual) {
        return new UNetExtras(downBlockResiduals, midBlockResidual, null, null);
    }

    public static UNetExtras adapter(List<Tensor> downIntrablockResiduals) {
        return new UNetExtras(null, null, downIntrablockResiduals, null);
    }

    public static UNetExtras attention(AttentionProcessor processor) {
        return new UNetExtras(null, null, null, processor);
    }

    /** The same extras with another attention processor. */
    public UNetExtras withAttention(AttentionProcessor processor) {
        return new UNetExtras(downBlockAdditionalResiduals, midBlockAdditionalResidual, downIntrablockAdditionalResiduals, processor);
    }
}
