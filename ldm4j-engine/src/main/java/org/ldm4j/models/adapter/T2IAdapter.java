package org.ldm4j.models.adapter;

import org.bytedeco.pytorch.Tensor;
import org.ldm4j.nn.Block;
import org.ldm4j.nn.Dtypes;

import java.util.List;

/**
 * diffusers {@code T2IAdapter} (models/adapter.py; Mou et al. 2023, "T2I-Adapter: Learning Adapters to Dig out More
 * Controllable Ability for Text-to-Image Diffusion Models"): a small convolutional network on the control image whose
 * per-level features the UNet adds inside its down blocks ({@code down_intrablock_additional_residuals}). Weights
 * live under {@code adapter.*} as in diffusers. The features do not depend on the step: compute them once per image.
 */
public final class T2IAdapter extends Block implements FeatureAdapter {
    public final T2IAdapterConfig config;
    private final FullAdapter full;
    private final LightAdapter light;

    public T2IAdapter(T2IAdapterConfig config) {
        this.config = config;
        if (config.adapterType().equals(T2IAdapterConfig.FULL)) {
            full = child("adapter", new FullAdapter(config.inChannels(), config.channels(), config.numResBlocks(), config.downscaleFactor()));
            light = null;
        } else {
            light = child("adapter", new LightAdapter(config.inChannels(), config.channels(), config.numResBlocks(), config.downscaleFactor()));
            full = null;
        }
    }

    /** FG-DM's plain {@code Adapter}: a full adapter without PixelUnshuffle on a latent of {@code latentChannels}. */
    public static T2IAdapter fgdmLatentAdapter(int latentChannels, List<Integer> channels, int numResBlocks) {
        return new T2IAdapter(new T2IAdapterConfig(latentChannels, channels, numResBlocks, 1, T2IAdapterConfig.FULL));
    }

    /** (B, in_channels, H, W) → one feature per level, in the weights' dtype. */
    public List<Tensor> forward(Tensor x) {
        int side = config.downscaleFactor();
        if (x.size(1) != config.inChannels() || x.size(2) % side != 0 || x.size(3) % side != 0) {
            throw new IllegalArgumentException("T2IAdapter input must be (B, " + config.inChannels() + ", H, W) with H, W multiples of "
                    + side + ", got " + java.util.Arrays.toString(x.sizes().vec().get()));
        }
        Tensor in = Dtypes.to(x, device(), dtype());
        return full != null ? full.forward(in) : light.forward(in);
    }

    @Override public List<Tensor> features(Tensor input, Tensor timeEmbedding) { return forward(input); }

    @Override public boolean timeConditioned() { return false; }

    @Override public int inChannels() { return config.inChannels(); }

    @Override public List<Integer> featureChannels() {
        if (full != null) return config.channels();
        List<Integer> out = new java.util.ArrayList<>(config.channels());
        out.add(config.channels().get(config.channels().size() - 1));
        return out;
    }

    @Override public int downscaleFactor() { return config.downscaleFactor(); }

    /** diffusers' {@code total_downscale_factor}: input pixels per pixel of the last feature. */
    public int totalDownscaleFactor() {
        int levels = config.channels().size();
        return config.downscaleFactor() * (1 << (full != null ? levels - 1 : levels));
    }
}
