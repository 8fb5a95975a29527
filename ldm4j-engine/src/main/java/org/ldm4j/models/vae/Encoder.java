package org.ldm4j.models.vae;

import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch;
import org.ldm4j.nn.Block;
import org.ldm4j.nn.Conv2d;
import org.ldm4j.nn.GroupNorm;
import org.ldm4j.nn.Seq;

import java.util.List;

/**
 * diffusers {@code Encoder} (models/autoencoders/vae.py) with {@code double_z=True}: conv_in, one
 * {@link DownEncoderBlock2D} per entry of {@code block_out_channels} (all but the last halve the resolution), the
 * {@link UNetMidBlock2D}, GroupNorm, SiLU, conv_out to 2·latent channels (mean and log-variance).
 */
public final class Encoder extends Block {
    /** diffusers hard-codes eps=1e-6 for every norm of the VAE. */
    static final double EPS = 1e-6;

    public final Conv2d convIn;
    public final Seq<DownEncoderBlock2D> downBlocks;
    public final UNetMidBlock2D midBlock;
    public final GroupNorm convNormOut;
    public final Conv2d convOut;

    public Encoder(AutoencoderKLConfig config) {
        List<Integer> channels = config.blockOutChannels();
        int groups = config.normNumGroups();
        int n = channels.size();
        convIn = child("conv_in", new Conv2d(config.inChannels(), channels.get(0), 3, 1, 1));
        downBlocks = child("down_blocks", new Seq<>());
        int in = channels.get(0);
        for (int i = 0; i < n; i++) {
            int out = channels.get(i);
            downBlocks.add(new DownEncoderBlock2D(in, out, config.layersPerBlock(), i < n - 1, groups, EPS));
            in = out;
        }
        int top = channels.get(n - 1);
        midBlock = child("mid_block", new UNetMidBlock2D(top, groups, EPS, config.midBlockAddAttention()));
        convNormOut = child("conv_norm_out", new GroupNorm(groups, top, EPS));
        convOut = child("conv_out", new Conv2d(top, 2 * config.latentChannels(), 3, 1, 1));
    }

    /** x: (B, in, H, W) -> (B, 2·latent, H/f, W/f). */
    public Tensor forward(Tensor x) {
        Tensor h = convIn.forward(x);
        for (DownEncoderBlock2D block : downBlocks.items()) h = block.forward(h);
        h = midBlock.forward(h);
        return convOut.forward(torch.silu(convNormOut.forward(h)));
    }
}
