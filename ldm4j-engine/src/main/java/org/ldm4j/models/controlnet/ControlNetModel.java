package org.ldm4j.models.controlnet;

import org.bytedeco.pytorch.Scalar;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch;
import org.bytedeco.pytorch.global.torch.ScalarType;
import org.ldm4j.models.attention.AttentionProcessor;
import org.ldm4j.models.unet.TimestepEmbedding;
import org.ldm4j.models.unet.Timesteps;
import org.ldm4j.models.unet.UNet2DConditionConfig;
import org.ldm4j.models.unet.UNet2DConditionModel;
import org.ldm4j.models.unet.UNetDownBlock;
import org.ldm4j.models.unet.UNetExtras;
import org.ldm4j.models.unet.UNetMidBlock2DCrossAttn;
import org.ldm4j.nn.Block;
import org.ldm4j.nn.Conv2d;
import org.ldm4j.nn.Dtypes;
import org.ldm4j.nn.Param;
import org.ldm4j.nn.Seq;

import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;

/**
 * diffusers {@code ControlNetModel} (models/controlnets/controlnet.py; Zhang et al. 2023): a trainable copy of the
 * UNet encoder (conv_in, time embedding, down blocks, mid block — the same classes as the UNet, so the same weight
 * names), whose conv_in output also receives the encoded hint, and one zero-initialised 1x1 conv per skip connection
 * ({@code controlnet_down_blocks}, 12 for SD 1.5) and on the mid output ({@code controlnet_mid_block}). Its outputs are
 * the UNet's {@code down_block_additional_residuals} / {@code mid_block_additional_residual}.
 *
 * <p>Scaling (diffusers): every residual times {@code conditioning_scale}; in guess mode residual k of n+1 (the mid
 * last) times {@code logspace(-1, 0, n+1)[k]}, so shallow features count 0.1 and the mid block 1. With
 * {@code global_pool_conditions} the residuals are averaged over space.
 *
 * <p>The hint encoder does not depend on the step: {@link #embedHint} can run once per generation and
 * {@link #forwardEmbedded} reuse it (pipeline-side caching; the result is the same as {@link #forward}).
 */
public final class ControlNetModel extends Block {
    public final ControlNetConfig config;
    public final Conv2d convIn;
    public final Timesteps timeProj;
    public final TimestepEmbedding timeEmbedding;
    public final ControlNetConditioningEmbedding controlnetCondEmbedding;
    public final Seq<Block> downBlocksModule;
    public final List<UNetDownBlock> downBlocks;
    public final Seq<Conv2d> controlnetDownBlocks;
    public final Conv2d controlnetMidBlock;
    public final UNetMidBlock2DCrossAttn midBlock;

    /** The ControlNet outputs, already scaled: one tensor per UNet skip connection, and the mid residual. */
    public record Residuals(List<Tensor> down, Tensor mid) {
        public UNetExtras toExtras() { return UNetExtras.controlNet(down, mid); }
    }

    public ControlNetModel(ControlNetConfig config) {
        this.config = config;
        UNet2DConditionConfig c = config.encoder();
        List<Integer> channels = c.blockOutChannels();
        List<Integer> heads = c.headsPerBlock();
        List<Integer> layers = c.layersPerBlockList();
        List<Integer> crossDims = c.crossAttentionDimPerBlock();
        List<Integer> transformerLayers = c.transformerLayersPerBlockList();
        int n = channels.size(), groups = c.normNumGroups(), c0 = channels.get(0), tembDim = c.timeEmbedDim();
        double eps = c.normEps();
        boolean linearProj = c.useLinearProjection();
        if (c.convInKernel() != 3) throw new IllegalArgumentException("ControlNet: conv_in_kernel must be 3, got " + c.convInKernel());

        // registration order of diffusers' state dict
        convIn = child("conv_in", new Conv2d(c.inChannels(), c0, 3, 1, 1));
        timeProj = new Timesteps(c0, c.flipSinToCos(), c.freqShift());
        timeEmbedding = child("time_embedding", new TimestepEmbedding(c0, tembDim));
        controlnetCondEmbedding = child("controlnet_cond_embedding",
                new ControlNetConditioningEmbedding(c0, config.conditioningChannels(), config.conditioningEmbeddingOutChannels()));
        downBlocksModule = child("down_blocks", new Seq<>());
        controlnetDownBlocks = child("controlnet_down_blocks", new Seq<>());
        controlnetDownBlocks.add(zeroConv(c0));
        List<UNetDownBlock> down = new ArrayList<>();
        int output = c0;
        for (int i = 0; i < n; i++) {
            int input = output;
            output = channels.get(i);
            boolean last = i == n - 1;
            Block b = UNet2DConditionModel.downBlock(c, i, input);
            downBlocksModule.add(b);
            down.add((UNetDownBlock) b);
            for (int l = 0; l < layers.get(i); l++) controlnetDownBlocks.add(zeroConv(output));
            if (!last) controlnetDownBlocks.add(zeroConv(output));
        }
        downBlocks = Collections.unmodifiableList(down);
        int mid = channels.get(n - 1);
        controlnetMidBlock = child("controlnet_mid_block", zeroConv(mid));
        midBlock = child("mid_block", new UNetMidBlock2DCrossAttn(mid, tembDim, eps, groups, heads.get(n - 1),
                crossDims.get(n - 1), transformerLayers.get(n - 1), linearProj));
    }

    private static Conv2d zeroConv(int channels) {
        Conv2d conv = new Conv2d(channels, channels, 1, 1, 0);
        if (initialising()) zero(conv);
        return conv;
    }

    /** diffusers' {@code zero_module}: every parameter set to 0. */
    static void zero(Block block) {
        for (Param p : block.namedParameters().values()) p.set(torch.zeros_like(p.t()));
    }

    /**
     * diffusers {@code ControlNetModel.from_unet(unet, load_weights_from_unet=True)}: the UNet's config and copies of
     * its conv_in, time embedding, down blocks and mid block; a fresh hint encoder and zero convs (zero conv_out too).
     */
    public static ControlNetModel fromUnet(UNet2DConditionModel unet, List<Integer> conditioningEmbeddingOutChannels,
                                           int conditioningChannels) {
        ControlNetModel net = new ControlNetModel(ControlNetConfig.fromUnet(unet.config, conditioningEmbeddingOutChannels,
                conditioningChannels));
        net.to(unet.device(), unet.dtype());
        Map<String, Param> source = unet.namedParameters();
        for (Map.Entry<String, Param> e : net.namedParameters().entrySet()) {
            String name = e.getKey();
            boolean copied = name.startsWith("conv_in.") || name.startsWith("time_embedding.")
                    || name.startsWith("down_blocks.") || name.startsWith("mid_block.");
            if (copied) e.getValue().set(source.get(name).t().detach().clone());
        }
        return net;
    }

    /** Pixels of the hint per latent cell (8 for SD). */
    public int hintDownscale() { return config.hintDownscale(); }

    /** The hint encoder on a (B, conditioning_channels, H, W) image in [0, 1], in the weights' dtype. */
    public Tensor embedHint(Tensor controlnetCond) {
        Tensor cond = Dtypes.to(controlnetCond, convIn.weight.t().device(), convIn.weight.t().scalar_type());
        if (config.channelOrder().equals("bgr")) cond = torch.flip(cond, 1);
        return controlnetCondEmbedding.forward(cond);
    }

    /** diffusers {@code ControlNetModel.forward}; {@code controlnetCond} is the hint image in [0, 1]. */
    public Residuals forward(Tensor sample, Tensor timestep, Tensor encoderHiddenStates, Tensor controlnetCond,
                             double conditioningScale, boolean guessMode) {
        return forwardEmbedded(sample, timestep, encoderHiddenStates, embedHint(controlnetCond), conditioningScale, guessMode, null);
    }

    /**
     * The forward with the hint already encoded ({@link #embedHint}); a batch-1 embedding is broadcast over the batch.
     *
     * @param attention attention processor for the encoder's layers, or null for SDPA
     */
    public Residuals forwardEmbedded(Tensor sample, Tensor timestep, Tensor encoderHiddenStates, Tensor hintEmbedding,
                                     double conditioningScale, boolean guessMode, AttentionProcessor attention) {
        ScalarType modelType = convIn.weight.t().scalar_type();
        long batch = sample.size(0);
        Tensor h = Dtypes.to(sample, sample.device(), modelType);
        Tensor context = Dtypes.to(encoderHiddenStates, encoderHiddenStates.device(), modelType);
        Tensor t = timestep.dim() == 0 ? timestep.unsqueeze(0) : timestep;
        t = Dtypes.to(t, sample.device(), t.scalar_type()).expand(batch);
        Tensor tEmb = timeProj.forward(t);
        Tensor emb = timeEmbedding.forward(Dtypes.to(tEmb, tEmb.device(), modelType));

        h = convIn.forward(h).add(Dtypes.to(hintEmbedding, h.device(), modelType));
        List<Tensor> skips = new ArrayList<>();
        skips.add(h);
        for (UNetDownBlock block : downBlocks) h = block.forward(h, emb, context, attention, null, skips);
        h = midBlock.forward(h, emb, context, attention);

        List<Tensor> down = new ArrayList<>(skips.size());
        for (int i = 0; i < skips.size(); i++) down.add(controlnetDownBlocks.get(i).forward(skips.get(i)));
        Tensor mid = controlnetMidBlock.forward(h);

        if (guessMode && !config.globalPoolConditions()) {
            float[] scales = guessModeScales(down.size() + 1, conditioningScale);
            for (int i = 0; i < down.size(); i++) down.set(i, down.get(i).mul(new Scalar(scales[i])));
            mid = mid.mul(new Scalar(scales[scales.length - 1]));
        } else {
            for (int i = 0; i < down.size(); i++) down.set(i, down.get(i).mul(new Scalar(conditioningScale)));
            mid = mid.mul(new Scalar(conditioningScale));
        }
        if (config.globalPoolConditions()) {
            for (int i = 0; i < down.size(); i++) down.set(i, down.get(i).mean(new long[]{2, 3}, true, new org.bytedeco.pytorch.ScalarTypeOptional()));
            mid = mid.mean(new long[]{2, 3}, true, new org.bytedeco.pytorch.ScalarTypeOptional());
        }
        return new Residuals(down, mid);
    }

    /**
     * Guess-mode scales as diffusers computes them: {@code torch.logspace(-1, 0, n) * conditioning_scale} in float32,
     * 0.1 for the conv_in residual rising to 1 × scale for the mid block.
     */
    public static float[] guessModeScales(int n, double conditioningScale) {
        Tensor s = torch.logspace(new Scalar(-1.0), new Scalar(0.0), n).to(ScalarType.Float).mul(new Scalar(conditioningScale));
        float[] out = new float[n];
        s.contiguous().data_ptr_float().get(out);
        return out;
    }

    /** Number of residuals (= the UNet's skip connections). */
    public int residualCount() { return controlnetDownBlocks.size(); }
}
