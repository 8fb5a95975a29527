package org.ldm4j.models.clip;

import org.ldm4j.nn.Sdpa;
import org.bytedeco.pytorch.DoubleOptional;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.TensorOptional;
import org.bytedeco.pytorch.global.torch;
import org.bytedeco.pytorch.global.torch.ScalarType;
import org.ldm4j.nn.Block;
import org.ldm4j.nn.Dtypes;
import org.ldm4j.nn.Linear;

/**
 * transformers {@code CLIPAttention}: multi-head self-attention with biased q/k/v/out projections and scale
 * 1/√head_dim. The text encoder is causal: token i attends to tokens 0..i only, so padding after the end token never
 * changes the states before it; the vision encoder attends to every patch. Runs fused SDPA, in fp32 for half-precision CPU inputs
 * (shared/design/cpu-performance.md: bf16 SDPA is 20x slower there).
 */
public final class CLIPAttention extends Block {
    public final int heads, headDim;
    public final Linear kProj, vProj, qProj, outProj;
    private final boolean causal;

    public CLIPAttention(CLIPEncoderSpec config) {
        int c = config.hiddenSize();
        heads = config.numAttentionHeads();
        headDim = config.headDim();
        causal = config.causal();
        kProj = child("k_proj", new Linear(c, c));
        vProj = child("v_proj", new Linear(c, c));
        qProj = child("q_proj", new Linear(c, c));
        outProj = child("out_proj", new Linear(c, c));
    }

    /**
     * @param x (B, T, C)
     * @param additiveMask null for none (the plain causal mask in the text tower), else (B, 1, T, T) added to the
     *                     scores (causal and padding combined, fp32)
     */
    public Tensor forward(Tensor x, Tensor additiveMask) {
        long b = x.size(0), t = x.size(1);
        Tensor q = split(qProj.forward(x), b, t);   // (B, H, T, D)
        Tensor k = split(kProj.forward(x), b, t);
        Tensor v = split(vProj.forward(x), b, t);
        // a padding mask, when given, already combines causality and padding
        Tensor o = Sdpa.attend(q, k, v, additiveMask, causal && additiveMask == null, Double.NaN).to(q.scalar_type());
        return outProj.forward(o.transpose(1, 2).reshape(b, t, (long) heads * headDim));
    }

    private Tensor split(Tensor x, long b, long t) {
        return x.view(b, t, heads, headDim).transpose(1, 2);
    }
}
