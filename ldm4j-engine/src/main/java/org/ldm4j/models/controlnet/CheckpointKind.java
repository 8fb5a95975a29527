package org.ldm4j.models.controlnet;

import java.util.Set;

/**
 * What a set of tensor names is, judged by a few keys each layout always has: lets the ControlNet and adapter loaders
 * convert an original layout, and say what they found when given the wrong kind of checkpoint (a UNet as ControlNet).
 */
public enum CheckpointKind {
    CONTROLNET_DIFFUSERS("a diffusers ControlNetModel"),
    CONTROLNET_ORIGINAL("an original (lllyasviel cldm) ControlNet"),
    T2I_ADAPTER_DIFFUSERS("a diffusers T2IAdapter"),
    T2I_ADAPTER_ORIGINAL("an original (TencentARC) T2I-Adapter"),
    T2I_LIGHT_ADAPTER_ORIGINAL("an original (TencentARC) light T2I-Adapter"),
    TIME_ADAPTER_ORIGINAL("an FG-DM TimeAdapter"),
    FGDM_CHECKPOINT("an FG-DM checkpoint (UNet with model.diffusion_model.adapter.*)"),
    SD_CHECKPOINT("a Stable Diffusion single-file checkpoint (model.diffusion_model.*)"),
    UNET_DIFFUSERS("a diffusers UNet2DConditionModel"),
    VAE("a VAE (encoder.*/decoder.*)"),
    TEXT_ENCODER("a CLIP text encoder"),
    UNKNOWN("an unrecognised set of tensors");

    public final String description;

    CheckpointKind(String description) { this.description = description; }

    public static CheckpointKind detect(Set<String> names) {
        if (names.contains("controlnet_cond_embedding.conv_in.weight")) return CONTROLNET_DIFFUSERS;
        if (hasWithOptionalPrefix(names, "input_hint_block.0.weight", "control_model.")
                && hasWithOptionalPrefix(names, "zero_convs.0.0.weight", "control_model.")) return CONTROLNET_ORIGINAL;
        if (names.contains("adapter.conv_in.weight") && names.contains("adapter.body.0.resnets.0.block1.weight")) return T2I_ADAPTER_DIFFUSERS;
        if (names.contains("adapter.body.0.in_conv.weight") && names.contains("adapter.body.0.resnets.0.block1.weight")) return T2I_ADAPTER_DIFFUSERS;
        if (names.contains("model.diffusion_model.adapter.conv_in.weight")) return FGDM_CHECKPOINT;
        if (hasWithOptionalPrefix(names, "body.0.in_layers.0.weight", "adapter.")) return TIME_ADAPTER_ORIGINAL;
        if (hasWithOptionalPrefix(names, "body.0.body.0.block1.weight", "adapter.")) return T2I_LIGHT_ADAPTER_ORIGINAL;
        if (hasWithOptionalPrefix(names, "conv_in.weight", "adapter.") && hasWithOptionalPrefix(names, "body.0.block1.weight", "adapter.")) {
            return T2I_ADAPTER_ORIGINAL;
        }
        if (names.contains("model.diffusion_model.input_blocks.0.0.weight")) return SD_CHECKPOINT;
        if (names.contains("time_embedding.linear_1.weight") && names.contains("up_blocks.0.resnets.0.conv1.weight")) return UNET_DIFFUSERS;
        if (names.contains("encoder.conv_in.weight") && names.contains("decoder.conv_in.weight")) return VAE;
        if (names.contains("text_model.embeddings.token_embedding.weight")) return TEXT_ENCODER;
        return UNKNOWN;
    }

    private static boolean hasWithOptionalPrefix(Set<String> names, String name, String prefix) {
        return names.contains(name) || names.contains(prefix + name);
    }
}
