package org.ldm4j.models.unet;

import org.bytedeco.pytorch.Scalar;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch;
import org.bytedeco.pytorch.global.torch.ScalarType;
import org.ldm4j.models.attention.Attention;
import org.ldm4j.models.attention.AttentionProcessor;
import org.ldm4j.nn.Block;
import org.ldm4j.nn.Conv2d;
import org.ldm4j.nn.Dtypes;
import org.ldm4j.nn.GroupNorm;
import org.ldm4j.nn.Seq;

import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;

/**
 * diffusers {@code UNet2DConditionModel} (models/unets/unet_2d_condition.py) for SD 1.x/2.x: the noise predictor
 * ε_θ(x_t, t, c) of latent diffusion (Rombach et al. 2022). Parameter names are the diffusers state-dict keys.
 *
 * <p>Immutable after loading and free of per-call state: attention processors and ControlNet/adapter residuals come
 * in {@link UNetExtras}, so one instance can serve concurrent jobs. No inference mode is entered here; callers decide
 * whether gradients are recorded. With bf16/fp16 weights the sample and context are cast to the weights' dtype, the
 * time projection runs in float32 and is cast after (as diffusers does), and attention runs in float32.
 */
public final class UNet2DConditionModel extends Block {
    public final UNet2DConditionConfig config;
    public final Conv2d convIn;
    public final Timesteps timeProj;                   // no weights
    public final TimestepEmbedding timeEmbedding;
    public final Seq<Block> downBlocksModule, upBlocksModule;
    public final List<UNetDownBlock> downBlocks;
    public final List<UNetUpBlock> upBlocks;
    public final UNetMidBlock2DCrossAttn midBlock;
    public final GroupNorm convNormOut;
    public final Conv2d convOut;
    private final int numUpsamplers;

    public UNet2DConditionModel(UNet2DConditionConfig config) {
        this.config = config.validate();
        List<Integer> channels = config.blockOutChannels();
        List<Integer> heads = config.headsPerBlock();
        List<Integer> layers = config.layersPerBlockList();
        List<Integer> crossDims = config.crossAttentionDimPerBlock();
        List<Integer> transformerLayers = config.transformerLayersPerBlockList();
        int n = channels.size();
        int groups = config.normNumGroups();
        double eps = config.normEps();
        boolean linearProj = config.useLinearProjection();
        int c0 = channels.get(0);
        int tembDim = config.timeEmbedDim();

        // input
        convIn = child("conv_in", new Conv2d(config.inChannels(), c0, config.convInKernel(), 1, (config.convInKernel() - 1) / 2));
        // time
        timeProj = new Timesteps(c0, config.flipSinToCos(), config.freqShift());
        timeEmbedding = child("time_embedding", new TimestepEmbedding(c0, tembDim));
        // registration order as in diffusers: down_blocks, up_blocks, mid_block
        downBlocksModule = child("down_blocks", new Seq<>());
        upBlocksModule = child("up_blocks", new Seq<>());

        // down
        List<UNetDownBlock> down = new ArrayList<>();
        int output = c0;
        for (int i = 0; i < n; i++) {
            int input = output;
            output = channels.get(i);
            Block b = downBlock(config, i, input);
            downBlocksModule.add(b);
            down.add((UNetDownBlock) b);
        }
        downBlocks = Collections.unmodifiableList(down);

        // mid
        midBlock = child("mid_block", new UNetMidBlock2DCrossAttn(channels.get(n - 1), tembDim, eps, groups,
                heads.get(n - 1), crossDims.get(n - 1), transformerLayers.get(n - 1), linearProj));

        // up: mirrors the down path, one more resnet per block (it also consumes the downsampler's skip)
        List<UNetUpBlock> up = new ArrayList<>();
        int upsamplers = 0;
        output = channels.get(n - 1);
        for (int i = 0; i < n; i++) {
            int r = n - 1 - i;                     // the down block this one mirrors
            boolean last = i == n - 1;
            int prevOutput = output;
            output = channels.get(r);
            int input = channels.get(Math.max(r - 1, 0));
            if (!last) upsamplers++;
            Block b = config.upBlockTypes().get(i).equals("CrossAttnUpBlock2D")
                    ? new CrossAttnUpBlock2D(input, prevOutput, output, tembDim, layers.get(r) + 1, transformerLayers.get(r),
                            eps, groups, heads.get(r), crossDims.get(r), !last, linearProj)
                    : new UpBlock2D(input, prevOutput, output, tembDim, layers.get(r) + 1, eps, groups, !last);
            upBlocksModule.add(b);
            up.add((UNetUpBlock) b);
        }
        upBlocks = Collections.unmodifiableList(up);
        numUpsamplers = upsamplers;

        // out
        convNormOut = child("conv_norm_out", new GroupNorm(groups, c0, eps));
        convOut = child("conv_out", new Conv2d(c0, config.outChannels(), config.convOutKernel(), 1, (config.convOutKernel() - 1) / 2));

        locateAttentions(this, "");
    }

    /** Tells every {@link Attention} its dotted path, which processors receive in {@code AttentionSite}. */
    private static void locateAttentions(Block block, String prefix) {
        for (Map.Entry<String, Block> e : block.children().entrySet()) {
            String path = prefix + e.getKey();
            if (e.getValue() instanceof Attention) ((Attention) e.getValue()).locate(path);
            locateAttentions(e.getValue(), path + ".");
        }
    }

    /**
     * Down block {@code i} of this configuration, taking {@code input} channels (the previous block's output): the
     * UNet's encoder and the ControlNet's copy of it are built by this one method, so they cannot drift apart.
     */
    public static Block downBlock(UNet2DConditionConfig config, int i, int input) {
        int output = config.blockOutChannels().get(i);
        boolean last = i == config.blockOutChannels().size() - 1;
        int tembDim = config.timeEmbedDim(), groups = config.normNumGroups(), layers = config.layersPerBlockList().get(i);
        double eps = config.normEps();
        return config.downBlockTypes().get(i).equals("CrossAttnDownBlock2D")
                ? new CrossAttnDownBlock2D(input, output, tembDim, layers, config.transformerLayersPerBlockList().get(i), eps,
                        groups, config.headsPerBlock().get(i), config.crossAttentionDimPerBlock().get(i), !last,
                        config.downsamplePadding(), config.useLinearProjection())
                : new DownBlock2D(input, output, tembDim, layers, eps, groups, !last, config.downsamplePadding());
    }

    /**
     * ε̂ = UNet(sample, t, context).
     *
     * @param sample              (B, in_channels, H, W) latents, any float dtype
     * @param timestep            0-d or (B) (or (1)) tensor, float or integer
     * @param encoderHiddenStates (B, M, cross_attention_dim) text embeddings
     * @param extras              ControlNet/adapter residuals and attention processor, or null / {@link UNetExtras#NONE}
     * @return (B, out_channels, H, W) in the dtype of {@code sample}
     */
    public Tensor forward(Tensor sample, Tensor timestep, Tensor encoderHiddenStates, UNetExtras extras) {
        UNetExtras x = extras != null ? extras : UNetExtras.NONE;
        AttentionProcessor attention = x.attention();
        ScalarType inputType = sample.scalar_type();
        ScalarType modelType = convIn.weight.t().scalar_type();
        long batch = sample.size(0);

        // Odd sizes: each upsampler must hit its skip's exact size, not simply x2 (diffusers' forward_upsample_size).
        long factor = 1L << numUpsamplers;
        boolean forwardUpsampleSize = sample.size(2) % factor != 0 || sample.size(3) % factor != 0;

        Tensor h = Dtypes.to(sample, sample.device(), modelType);
        Tensor context = Dtypes.to(encoderHiddenStates, encoderHiddenStates.device(), modelType);
        // 0. center input if necessary
        if (config.centerInputSample()) h = h.mul(new Scalar(2.0)).sub(new Scalar(1.0));

        // 1. time: sinusoidal projection in float32, then cast to the weights' dtype (diffusers get_time_embed)
        Tensor tEmb = timeProj.forward(broadcastTimesteps(timestep, batch, sample));
        Tensor emb = timeEmbedding.forward(Dtypes.to(tEmb, tEmb.device(), modelType));          // (B, 4*c0)

        // 2. pre-process
        h = convIn.forward(h);

        // 3. down
        List<Tensor> adapter = x.downIntrablockAdditionalResiduals() != null
                ? new ArrayList<>(x.downIntrablockAdditionalResiduals()) : new ArrayList<>();
        List<Tensor> skips = new ArrayList<>();
        skips.add(h);
        for (UNetDownBlock block : downBlocks) {
            Tensor residual = adapter.isEmpty() ? null : cast(adapter.remove(0), modelType);
            h = block.forward(h, emb, context, attention, residual, skips);
        }
        if (x.downBlockAdditionalResiduals() != null) {
            List<Tensor> control = x.downBlockAdditionalResiduals();
            if (control.size() != skips.size()) {
                throw new IllegalArgumentException("downBlockAdditionalResiduals has " + control.size()
                        + " tensors but the UNet has " + skips.size() + " skip connections");
            }
            for (int i = 0; i < skips.size(); i++) skips.set(i, skips.get(i).add(cast(control.get(i), modelType)));
        }

        // 4. mid
        h = midBlock.forward(h, emb, context, attention);
        // T2I-Adapter-XL passes one more feature for the mid block; diffusers adds it when the shape matches
        if (!adapter.isEmpty() && java.util.Arrays.equals(adapter.get(0).sizes().vec().get(), h.sizes().vec().get())) {
            h = h.add(cast(adapter.remove(0), modelType));
        }
        if (x.midBlockAdditionalResidual() != null) h = h.add(cast(x.midBlockAdditionalResidual(), modelType));

        // 5. up
        for (int i = 0; i < upBlocks.size(); i++) {
            UNetUpBlock block = upBlocks.get(i);
            int take = block.resnetCount();
            List<Tensor> blockSkips = new ArrayList<>(skips.subList(skips.size() - take, skips.size()));
            skips = new ArrayList<>(skips.subList(0, skips.size() - take));
            long[] upsampleSize = null;
            if (i < upBlocks.size() - 1 && forwardUpsampleSize) {
                Tensor next = skips.get(skips.size() - 1);
                upsampleSize = new long[]{next.size(2), next.size(3)};
            }
            h = block.forward(h, blockSkips, emb, context, attention, upsampleSize);
        }

        // 6. post-process
        h = convOut.forward(torch.silu(convNormOut.forward(h)));
        return Dtypes.to(h, h.device(), inputType);
    }

    /** diffusers: a 0-d timestep becomes (1), then expands to the batch. */
    private static Tensor broadcastTimesteps(Tensor timestep, long batch, Tensor sample) {
        Tensor t = timestep.dim() == 0 ? timestep.unsqueeze(0) : timestep;
        if (t.dim() != 1 || (t.size(0) != 1 && t.size(0) != batch)) {
            throw new IllegalArgumentException("timestep must be 0-d, (1) or (" + batch + "), got shape "
                    + java.util.Arrays.toString(timestep.sizes().vec().get()));
        }
        t = Dtypes.to(t, sample.device(), t.scalar_type());
        return t.expand(batch);
    }

    private static Tensor cast(Tensor t, ScalarType dtype) { return Dtypes.to(t, t.device(), dtype); }

    /** Number of skip connections (= tensors a ControlNet passes in {@code downBlockAdditionalResiduals}). */
    public int skipCount() {
        int n = 1;
        for (UNetDownBlock b : downBlocks) n += b.skipCount();
        return n;
    }
}
