package org.ldm4j.models.adapter;

import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch;
import org.ldm4j.nn.Block;
import org.ldm4j.nn.Seq;

import java.util.ArrayList;
import java.util.List;

/**
 * diffusers {@code LightAdapter} (T2I-Adapter's {@code Adapter_light}, e.g. the colour adapter): PixelUnshuffle, then
 * {@code len(channels) + 1} {@link LightAdapterBlock}s (the last repeats the last width, downsampled), one feature each.
 */
public final class LightAdapter extends Block {
    public final int downscaleFactor;
    public final Seq<LightAdapterBlock> body;

    public LightAdapter(int inChannels, List<Integer> channels, int numResBlocks, int downscaleFactor) {
        this.downscaleFactor = downscaleFactor;
        body = child("body", new Seq<>());
        body.add(new LightAdapterBlock(inChannels * downscaleFactor * downscaleFactor, channels.get(0), numResBlocks, false));
        for (int i = 0; i < channels.size() - 1; i++) body.add(new LightAdapterBlock(channels.get(i), channels.get(i + 1), numResBlocks, true));
        int last = channels.get(channels.size() - 1);
        body.add(new LightAdapterBlock(last, last, numResBlocks, true));
    }

    public List<Tensor> forward(Tensor x) {
        if (downscaleFactor > 1) x = torch.pixel_unshuffle(x, downscaleFactor);
        List<Tensor> features = new ArrayList<>();
        for (LightAdapterBlock b : body.items()) {
            x = b.forward(x);
            features.add(x);
        }
        return features;
    }
}
