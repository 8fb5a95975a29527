package org.ldm4j.models.attention;

import org.ldm4j.nn.Sdpa;
import org.bytedeco.pytorch.DoubleOptional;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.TensorOptional;
import org.bytedeco.pytorch.global.torch;

/**
 * The default processor: libtorch's fused {@code scaled_dot_product_attention} (diffusers {@code AttnProcessor2_0}),
 * which never materialises the (N x M) score matrix.
 *
 * <p>It always runs in float32: on this CPU build bf16 SDPA is ~20x slower than fp32 (8 vs 181 GFLOP/s,
 * shared/design/cpu-performance.md "Attention"), so q, k, v are cast up and the result is cast back to the weights'
 * dtype by {@link Attention#output}. This also covers diffusers' {@code upcast_attention} (SD 2.1) for free.
 */
public final class SdpaProcessor implements AttentionProcessor {
    public static final SdpaProcessor INSTANCE = new SdpaProcessor();

    private SdpaProcessor() {}

    @Override
    public Tensor apply(Attention attn, Tensor hidden, Tensor context, AttentionSite site) {
        Tensor kv = context != null ? context : hidden;
        return attn.output(attend(attn.query(hidden), attn.key(kv), attn.value(kv), attn.scale));
    }

    /**
     * softmax(q kᵀ · scale) v in float32.
     *
     * @param q (B, heads, N, d)
     * @param k (B, heads, M, d)
     * @param v (B, heads, M, d)
     * @return (B, heads, N, d) float32
     */
    public static Tensor attend(Tensor q, Tensor k, Tensor v, double scale) {
        return Sdpa.attend(q, k, v, null, false, scale);
    }
}
