package org.ldm4j.models.attention;

import org.bytedeco.pytorch.Tensor;
import org.ldm4j.nn.Block;
import org.ldm4j.nn.Conv2d;
import org.ldm4j.nn.GroupNorm;
import org.ldm4j.nn.Linear;
import org.ldm4j.nn.Seq;

/**
 * diffusers {@code Transformer2DModel} (models/transformers/transformer_2d.py) for continuous inputs: GroupNorm
 * (eps 1e-6), {@code proj_in}, a stack of {@link BasicTransformerBlock}s over the H*W tokens, {@code proj_out}, plus
 * the input as residual.
 *
 * <p>SD 1.x projects with 1x1 convolutions (weights (C, C, 1, 1)) before flattening; SD 2.x
 * ({@code use_linear_projection}) flattens first and uses Linear layers (weights (C, C)). Same maths, different
 * checkpoint shapes, so both are kept.
 */
public final class Transformer2DModel extends Block {
    public final int channels, innerDim;
    public final boolean useLinearProjection;
    public final GroupNorm norm;
    public final Block projIn;     // Conv2d(C, inner, 1) or Linear(C, inner)
    public final Seq<BasicTransformerBlock> transformerBlocks;
    public final Block projOut;    // Conv2d(inner, C, 1) or Linear(inner, C)

    public Transformer2DModel(int heads, int headDim, int inChannels, int numLayers, int crossAttentionDim,
                              int normGroups, boolean useLinearProjection) {
        this.channels = inChannels;
        this.innerDim = heads * headDim;
        this.useLinearProjection = useLinearProjection;
        norm = child("norm", new GroupNorm(normGroups, inChannels, 1e-6));
        projIn = child("proj_in", useLinearProjection ? new Linear(inChannels, innerDim) : new Conv2d(inChannels, innerDim, 1, 1, 0));
        transformerBlocks = child("transformer_blocks", new Seq<>());
        for (int i = 0; i < numLayers; i++) {
            transformerBlocks.add(new BasicTransformerBlock(innerDim, heads, headDim, crossAttentionDim));
        }
        projOut = child("proj_out", useLinearProjection ? new Linear(innerDim, inChannels) : new Conv2d(innerDim, inChannels, 1, 1, 0));
    }

    /**
     * @param x       (B, C, H, W)
     * @param context (B, M, crossAttentionDim)
     */
    public Tensor forward(Tensor x, Tensor context, AttentionProcessor processor) {
        long b = x.size(0), h = x.size(2), w = x.size(3);
        Tensor hidden = norm.forward(x);
        if (!useLinearProjection) {
            hidden = ((Conv2d) projIn).forward(hidden).permute(0, 2, 3, 1).reshape(b, h * w, innerDim);
        } else {
            hidden = ((Linear) projIn).forward(hidden.permute(0, 2, 3, 1).reshape(b, h * w, channels));
        }
        for (BasicTransformerBlock block : transformerBlocks.items()) {
            hidden = block.forward(hidden, context, processor, (int) h, (int) w);
        }
        if (!useLinearProjection) {
            hidden = ((Conv2d) projOut).forward(hidden.reshape(b, h, w, innerDim).permute(0, 3, 1, 2).contiguous());
        } else {
            hidden = ((Linear) projOut).forward(hidden).reshape(b, h, w, channels).permute(0, 3, 1, 2).contiguous();
        }
        return hidden.add(x);
    }
}
