package org.ldm4j.models.attention;

import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch.ScalarType;
import org.ldm4j.models.attention.AttentionSite.Kind;
import org.ldm4j.models.attention.AttentionSite.Stage;
import org.ldm4j.nn.Block;
import org.ldm4j.nn.Dtypes;
import org.ldm4j.nn.Group;
import org.ldm4j.nn.Linear;

/**
 * diffusers {@code Attention} (models/attention_processor.py) as used by SD's transformer blocks: the weights
 * {@code to_q}, {@code to_k}, {@code to_v} (no bias in the UNet) and {@code to_out.0} (with bias), {@code heads}
 * heads of {@code dimHead} channels, scale 1/sqrt(dimHead). The computation is delegated to an
 * {@link AttentionProcessor}, chosen per call.
 *
 * <p>The module knows its own dotted path once the owning model has called {@link #locate}; processors receive it in
 * the {@link AttentionSite} together with the feature-map size.
 */
public final class Attention extends Block {
    public final int queryDim, crossAttentionDim, heads, dimHead;
    public final double scale;
    public final Linear toQ;    // (heads*dimHead, queryDim)
    public final Linear toK;    // (heads*dimHead, crossAttentionDim)
    public final Linear toV;    // (heads*dimHead, crossAttentionDim)
    public final Linear toOut;  // to_out.0: (queryDim, heads*dimHead); to_out.1 is a weightless Dropout

    private volatile String path = "";
    private volatile Stage stage = Stage.OTHER;
    private volatile int block = -1;

    /**
     * @param crossAttentionDim width of the context (keys/values); equal to {@code queryDim} for self-attention
     * @param bias              bias on to_q/to_k/to_v ({@code attention_bias}, false in SD's UNet)
     */
    public Attention(int queryDim, int crossAttentionDim, int heads, int dimHead, boolean bias) {
        this.queryDim = queryDim;
        this.crossAttentionDim = crossAttentionDim;
        this.heads = heads;
        this.dimHead = dimHead;
        this.scale = 1.0 / Math.sqrt(dimHead);
        int inner = heads * dimHead;
        toQ = child("to_q", new Linear(queryDim, inner, bias));
        toK = child("to_k", new Linear(crossAttentionDim, inner, bias));
        toV = child("to_v", new Linear(crossAttentionDim, inner, bias));
        toOut = child("to_out", new Group()).add("0", new Linear(inner, queryDim, true));
    }

    /**
     * Records where this module sits in its model: called once by the owning model after it is built.
     * The stage and block index are read from the diffusers path ({@code up_blocks.2.attentions.1...}).
     */
    public void locate(String dottedPath) {
        this.path = dottedPath;
        String[] parts = dottedPath.split("\\.");
        if (parts.length >= 2 && parts[0].equals("down_blocks")) {
            stage = Stage.DOWN;
            block = Integer.parseInt(parts[1]);
        } else if (parts.length >= 2 && parts[0].equals("up_blocks")) {
            stage = Stage.UP;
            block = Integer.parseInt(parts[1]);
        } else if (parts[0].equals("mid_block")) {
            stage = Stage.MID;
            block = 0;
        } else {
            stage = Stage.OTHER;
            block = -1;
        }
    }

    public String path() { return path; }

    /**
     * Runs the layer through {@code processor} (null = {@link SdpaProcessor}).
     *
     * @param hidden  (B, N, queryDim), N = height * width
     * @param context (B, M, crossAttentionDim) or null for self-attention
     */
    public Tensor forward(Tensor hidden, Tensor context, AttentionProcessor processor, int height, int width) {
        AttentionProcessor p = processor != null ? processor : SdpaProcessor.INSTANCE;
        AttentionSite site = new AttentionSite(path, context == null ? Kind.SELF : Kind.CROSS, height, width,
                stage, block, heads, dimHead);
        return p.apply(this, hidden, context, site);
    }

    /** (B, N, queryDim) → queries (B, heads, N, dimHead), in the model dtype. */
    public Tensor query(Tensor hidden) { return splitHeads(toQ.forward(hidden)); }

    /** (B, M, crossAttentionDim) → keys (B, heads, M, dimHead). Pass the hidden states for self-attention. */
    public Tensor key(Tensor context) { return splitHeads(toK.forward(context)); }

    /** (B, M, crossAttentionDim) → values (B, heads, M, dimHead). */
    public Tensor value(Tensor context) { return splitHeads(toV.forward(context)); }

    /**
     * Merges heads and applies {@code to_out.0}: (B, heads, N, dimHead) → (B, N, queryDim). The input is cast to the
     * weights' dtype first, so a processor may hand back its float32 result.
     */
    public Tensor output(Tensor attended) {
        long b = attended.size(0), n = attended.size(2);
        Tensor merged = attended.transpose(1, 2).reshape(b, n, (long) heads * dimHead);
        Tensor w = toOut.weight.t();
        return toOut.forward(Dtypes.to(merged, w.device(), w.scalar_type()));
    }

    /** {@code t} in float32 (itself if it already is): attention math runs in fp32 even for bf16/fp16 models. */
    public static Tensor float32(Tensor t) {
        return org.ldm4j.nn.Sdpa.float32(t);
    }

    private Tensor splitHeads(Tensor x) {
        long b = x.size(0), n = x.size(1);
        // A view: SDPA and matmul accept the transposed strides (≤3% slower than contiguous, cpu-performance.md).
        return x.reshape(b, n, heads, dimHead).transpose(1, 2);
    }
}
