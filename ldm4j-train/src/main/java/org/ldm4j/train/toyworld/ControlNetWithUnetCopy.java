package org.ldm4j.train.toyworld;

import org.ldm4j.models.controlnet.ControlNetModel;
import org.ldm4j.models.unet.UNet2DConditionModel;
import org.ldm4j.nn.Block;

/**
 * What an image factor trains when the UNet it steers is unlocked: the ControlNet, and beside it a copy of the base
 * UNet, of which either the decoder trains (ControlNet's {@code sd_locked=False}, config key
 * {@code "branch": "controlnet_decoder"}: up blocks and output layers; the encoder half stays the base model's, frozen,
 * as the ControlNet's residuals are added to its skips) or the whole copy ({@code "branch": "controlnet_unet"}).
 * Only the trained parts are this block's parameters, so the trainer updates, checkpoints and averages only them.
 * Parameter names: {@code controlnet.*}, and the UNet's own names under {@code unet.} ({@code unet.up_blocks.*},
 * {@code unet.conv_norm_out.*}, {@code unet.conv_out.*} for the decoder; every {@code unet.*} for the whole copy). The
 * export writes the whole copy either way, so a stage of one kind can start ({@code init}) from the other's folder.
 */
public final class ControlNetWithUnetCopy extends Block {
    public final ControlNetModel controlNet;
    /** The whole UNet copy the residuals feed, trained parts and frozen ones. */
    public final UNet2DConditionModel unet;

    public ControlNetWithUnetCopy(ControlNetModel controlNet, UNet2DConditionModel unetCopy, FgdmTrainingSettings.UnetCopy trains) {
        this.controlNet = child("controlnet", controlNet);
        this.unet = unetCopy;
        switch (trains) {
            case WHOLE -> child("unet", unetCopy);
            case DECODER -> {
                unetCopy.requiresGrad(false);
                child("unet.up_blocks", unetCopy.upBlocksModule);
                child("unet.conv_norm_out", unetCopy.convNormOut);
                child("unet.conv_out", unetCopy.convOut);
            }
            case NONE -> throw new IllegalArgumentException("a ControlNet over the frozen base UNet needs no copy of it");
        }
    }
}
