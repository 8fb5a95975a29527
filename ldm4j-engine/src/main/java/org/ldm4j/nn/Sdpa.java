package org.ldm4j.nn;

import org.bytedeco.pytorch.DoubleOptional;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.TensorOptional;
import org.bytedeco.pytorch.global.torch;
import org.bytedeco.pytorch.global.torch.ScalarType;

/**
 * libtorch's fused {@code scaled_dot_product_attention}, which never materialises the (N x M) score matrix, computed
 * in float32: on this CPU build bf16 SDPA runs at ~8 GFLOP/s against 181 in fp32 (shared/design/cpu-performance.md,
 * "Attention"). The result is float32; callers cast back to their weights' dtype. One place for the UNet, VAE and
 * CLIP attentions.
 */
public final class Sdpa {
    private Sdpa() {}

    /**
     * softmax(q kᵀ · scale + mask) v.
     *
     * @param q (B, heads, N, d)
     * @param k (B, heads, M, d)
     * @param v (B, heads, M, d)
     * @param additiveMask broadcastable to (B, heads, N, M), or null
     * @param causal whether position i may only attend to j ≤ i (CLIP's text encoder)
     * @param scale the logit scale, or NaN for 1/√d
     * @return (B, heads, N, d), float32 for half-precision inputs
     */
    public static Tensor attend(Tensor q, Tensor k, Tensor v, Tensor additiveMask, boolean causal, double scale) {
        TensorOptional mask = additiveMask == null ? new TensorOptional()
                : new TensorOptional(Dtypes.to(additiveMask, q.device(), ScalarType.Float));
        DoubleOptional s = Double.isNaN(scale) ? new DoubleOptional() : new DoubleOptional(scale);
        return torch.scaled_dot_product_attention(float32(q), float32(k), float32(v), mask, 0.0, causal, s, false);
    }

    /** Half-precision tensors in float32; float32 and float64 (gradient checks) stay as they are. */
    public static Tensor float32(Tensor t) {
        ScalarType d = t.scalar_type();
        boolean half = Dtypes.same(d, ScalarType.BFloat16) || Dtypes.same(d, ScalarType.Half);
        return half ? Dtypes.to(t, t.device(), ScalarType.Float) : t;
    }
}
