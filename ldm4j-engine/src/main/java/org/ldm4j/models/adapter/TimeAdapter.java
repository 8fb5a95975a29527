package org.ldm4j.models.adapter;

import org.bytedeco.pytorch.Tensor;
import org.ldm4j.nn.Block;
import org.ldm4j.nn.Conv2d;
import org.ldm4j.nn.Dtypes;
import org.ldm4j.nn.Seq;

import java.util.ArrayList;
import java.util.List;

/**
 * FG-DM's timestep-conditioned adapter (Sridhar et al. 2024, "Adapting Diffusion Models for Improved Prompt
 * Compliance and Controllable Image Synthesis", sec. 3.3; official {@code ldm/modules/encoders/adapter.py}
 * {@code TimeAdapter}): conv_in 3x3 on a latent (the noisy latent z_t for a root factor, the parent's latent for a
 * child), then per level {@code numResBlocks} {@link TimeAdapterResBlock}s (the first of levels 1.. average-pools and
 * changes the width), each conditioned on the frozen UNet's own time embedding; each level's last output is a feature,
 * added to the UNet like a T2I-Adapter's. Names as in the official checkpoint: {@code conv_in}, {@code body.N.*}
 * (flat over levels). Each block's last conv starts at zero, so at initialisation a block is its skip path.
 */
public final class TimeAdapter extends Block implements FeatureAdapter {
    public final int inChannels, numResBlocks;
    public final List<Integer> channels;
    public final Seq<TimeAdapterResBlock> body;
    public final Conv2d convIn;

    /**
     * @param embChannels width of the UNet time embedding (1280 for SD)
     * @param groups      GroupNorm groups (32 as LDM's {@code normalization})
     */
    public TimeAdapter(int inChannels, List<Integer> channels, int numResBlocks, int embChannels, int groups) {
        this.inChannels = inChannels;
        this.numResBlocks = numResBlocks;
        this.channels = List.copyOf(channels);
        body = child("body", new Seq<>());
        for (int i = 0; i < channels.size(); i++) {
            for (int j = 0; j < numResBlocks; j++) {
                boolean first = i != 0 && j == 0;
                body.add(new TimeAdapterResBlock(first ? channels.get(i - 1) : channels.get(i), channels.get(i), embChannels, groups, first));
            }
        }
        convIn = child("conv_in", new Conv2d(inChannels, channels.get(0), 3, 1, 1));
    }

    @Override
    public List<Tensor> features(Tensor input, Tensor timeEmbedding) {
        if (timeEmbedding == null) throw new IllegalArgumentException("TimeAdapter needs the UNet's time embedding");
        Tensor x = convIn.forward(Dtypes.to(input, device(), dtype()));
        List<Tensor> features = new ArrayList<>();
        for (int i = 0; i < channels.size(); i++) {
            for (int j = 0; j < numResBlocks; j++) x = body.get(i * numResBlocks + j).forward(x, timeEmbedding);
            features.add(x);
        }
        return features;
    }

    @Override public boolean timeConditioned() { return true; }

    @Override public int inChannels() { return inChannels; }

    @Override public List<Integer> featureChannels() { return channels; }

    @Override public int downscaleFactor() { return 1; }
}
