package org.ldm4j.models.attention;

import org.bytedeco.pytorch.Tensor;
import org.ldm4j.nn.Block;
import org.ldm4j.nn.LayerNorm;

/**
 * diffusers {@code BasicTransformerBlock} (models/attention.py) as configured by SD 1.x/2.x
 * ({@code norm_type="layer_norm"}, pre-norm, {@code activation_fn="geglu"}, no attention bias):
 * <pre>
 *   x = attn1(norm1(x)) + x            self-attention
 *   x = attn2(norm2(x), context) + x   cross-attention to the text
 *   x = ff(norm3(x)) + x               GEGLU feed-forward
 * </pre>
 */
public final class BasicTransformerBlock extends Block {
    public final LayerNorm norm1, norm2, norm3;
    public final Attention attn1, attn2;
    public final FeedForward ff;

    public BasicTransformerBlock(int dim, int heads, int headDim, int crossAttentionDim) {
        norm1 = child("norm1", new LayerNorm(dim, 1e-5));
        attn1 = child("attn1", new Attention(dim, dim, heads, headDim, false));
        norm2 = child("norm2", new LayerNorm(dim, 1e-5));
        attn2 = child("attn2", new Attention(dim, crossAttentionDim, heads, headDim, false));
        norm3 = child("norm3", new LayerNorm(dim, 1e-5));
        ff = child("ff", new FeedForward(dim, dim));
    }

    /**
     * @param x       (B, H*W, dim)
     * @param context (B, M, crossAttentionDim); null makes attn2 a second self-attention, as in diffusers
     */
    public Tensor forward(Tensor x, Tensor context, AttentionProcessor processor, int height, int width) {
        x = attn1.forward(norm1.forward(x), null, processor, height, width).add(x);
        x = attn2.forward(norm2.forward(x), context, processor, height, width).add(x);
        return ff.forward(norm3.forward(x)).add(x);
    }
}
