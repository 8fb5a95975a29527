package org.ldm4j.models.adapter;

import org.bytedeco.pytorch.Tensor;

import java.util.List;

/**
 * A network whose outputs are added inside the UNet's down blocks, one feature map per level, as T2I-Adapter
 * (Mou et al. 2023) does: diffusers' {@code down_intrablock_additional_residuals}. Implemented by the diffusers
 * {@link T2IAdapter} (image-space input, also FG-DM's plain latent {@code Adapter}) and FG-DM's {@link TimeAdapter}.
 */
public interface FeatureAdapter {
    /**
     * @param input         (B, inChannels, H, W): a control image, or a latent for FG-DM adapters
     * @param timeEmbedding (B, D) the UNet's time embedding; ignored unless {@link #timeConditioned()}
     * @return one feature map per UNet down block, widest resolution first
     */
    List<Tensor> features(Tensor input, Tensor timeEmbedding);

    /** True when the features depend on the timestep (then they are recomputed every step). */
    boolean timeConditioned();

    int inChannels();

    /** Channels of each feature map, in order: must equal the UNet's block_out_channels. */
    List<Integer> featureChannels();

    /** Input pixels per pixel of the first feature map (the UNet's latent): 8 for SD T2I-Adapters, 1 for FG-DM. */
    int downscaleFactor();
}
