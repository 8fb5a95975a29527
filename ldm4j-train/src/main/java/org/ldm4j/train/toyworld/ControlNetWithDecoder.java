package org.ldm4j.train.toyworld;

import org.ldm4j.models.controlnet.ControlNetModel;
import org.ldm4j.models.unet.UNet2DConditionModel;
import org.ldm4j.nn.Block;

/**
 * What an image factor trains with the UNet's decoder unlocked (ControlNet's {@code sd_locked=False}, config key
 * {@code "branch": "controlnet_decoder"}): the ControlNet, and beside it the up blocks and output layers of a copy of
 * the base UNet. Only those are this block's parameters (so the trainer updates, checkpoints and averages only them);
 * the copy's encoder half stays the base model's, frozen, as the ControlNet's residuals are added to its skips.
 * Parameter names: {@code controlnet.*} and {@code unet.up_blocks.*}, {@code unet.conv_norm_out.*},
 * {@code unet.conv_out.*}, the UNet's own names under {@code unet.}.
 */
public final class ControlNetWithDecoder extends Block {
    public final ControlNetModel controlNet;
    /** The whole UNet copy the residuals feed: its trained decoder and its frozen encoder. */
    public final UNet2DConditionModel unet;

    public ControlNetWithDecoder(ControlNetModel controlNet, UNet2DConditionModel unetCopy) {
        this.controlNet = child("controlnet", controlNet);
        this.unet = unetCopy;
        unetCopy.requiresGrad(false);
        child("unet.up_blocks", unetCopy.upBlocksModule);
        child("unet.conv_norm_out", unetCopy.convNormOut);
        child("unet.conv_out", unetCopy.convOut);
    }
}
