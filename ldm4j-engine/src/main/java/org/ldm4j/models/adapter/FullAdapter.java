package org.ldm4j.models.adapter;

import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch;
import org.ldm4j.nn.Block;
import org.ldm4j.nn.Conv2d;
import org.ldm4j.nn.Seq;

import java.util.ArrayList;
import java.util.List;

/**
 * diffusers {@code FullAdapter}: PixelUnshuffle(f) → conv_in 3x3 → one {@link AdapterBlock} per level (the first
 * keeps the size, the others halve it); each level's output is a feature. With f = 1 and a 4-channel input this is
 * FG-DM's plain latent {@code Adapter} (same blocks: sk=True, ksize=1, average-pool downsampling).
 */
public final class FullAdapter extends Block {
    public final int downscaleFactor;
    public final Conv2d convIn;
    public final Seq<AdapterBlock> body;

    public FullAdapter(int inChannels, List<Integer> channels, int numResBlocks, int downscaleFactor) {
        this.downscaleFactor = downscaleFactor;
        convIn = child("conv_in", new Conv2d(inChannels * downscaleFactor * downscaleFactor, channels.get(0), 3, 1, 1));
        body = child("body", new Seq<>());
        body.add(new AdapterBlock(channels.get(0), channels.get(0), numResBlocks, false));
        for (int i = 1; i < channels.size(); i++) body.add(new AdapterBlock(channels.get(i - 1), channels.get(i), numResBlocks, true));
    }

    public List<Tensor> forward(Tensor x) {
        if (downscaleFactor > 1) x = torch.pixel_unshuffle(x, downscaleFactor);
        x = convIn.forward(x);
        List<Tensor> features = new ArrayList<>();
        for (AdapterBlock b : body.items()) {
            x = b.forward(x);
            features.add(x);
        }
        return features;
    }
}
