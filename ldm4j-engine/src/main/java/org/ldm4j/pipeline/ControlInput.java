package org.ldm4j.pipeline;

import org.bytedeco.pytorch.Tensor;
import org.ldm4j.models.unet.UNet2DConditionModel;

/**
 * What a {@link ControlSource} sees at a step: the UNet's input exactly as the UNet gets it.
 *
 * @param unet     the frozen UNet (FG-DM adapters borrow its time embedding)
 * @param latents  (2B or B, C, h, w) scaled model input, in the UNet's dtype and device; with guidance the
 *                 unconditional half first
 * @param timestep 0-d model timestep
 * @param context  text states matching {@code latents} ([uncond; cond] with guidance)
 * @param guided   whether the batch holds both classifier-free-guidance halves
 */
public record ControlInput(UNet2DConditionModel unet, Tensor latents, Tensor timestep, Tensor context, boolean guided) {
    /** The conditional half of the latents (all of them without guidance). */
    public Tensor condLatents() { return guided ? half(latents) : latents; }

    /** The conditional half of the text states. */
    public Tensor condContext() { return guided ? half(context) : context; }

    private static Tensor half(Tensor t) {
        return org.ldm4j.nn.Tensors.halves(t, 0)[1];
    }
}
