package org.ldm4j.models.vae;

import org.ldm4j.nn.Sdpa;
import org.bytedeco.pytorch.DoubleOptional;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.TensorOptional;
import org.bytedeco.pytorch.global.torch;
import org.bytedeco.pytorch.global.torch.ScalarType;
import org.ldm4j.nn.Block;
import org.ldm4j.nn.Dtypes;
import org.ldm4j.nn.GroupNorm;
import org.ldm4j.nn.Linear;
import org.ldm4j.nn.Seq;

/**
 * The VAE's single-head spatial self-attention: diffusers {@code Attention(..., heads=1, dim_head=C,
 * residual_connection=True, _from_deprecated_attn_block=True)} in the mid block, formerly diffusers' own
 * {@code AttentionBlock} (whence the legacy weight names {@code query/key/value/proj_attn}, see
 * {@link AutoencoderKL#renameLegacyKey}) and {@code AttnBlock} in the original LDM code.
 *
 * <p>out = x + to_out(softmax(Q Kᵀ / √C) V) with Q, K, V = to_q/k/v(group_norm(x)) over the h·w pixels as tokens.
 * SDPA never materialises the (hw)² score matrix; half-precision inputs run it in fp32 on the CPU, where bf16 SDPA is
 * 20x slower (shared/design/cpu-performance.md, "Attention").
 */
public final class AttentionBlock extends Block {
    public final int channels;
    public final GroupNorm groupNorm;
    public final Linear toQ, toK, toV;
    public final Seq<Linear> toOut;   // to_out.0 (to_out.1 is dropout, no weights)

    public AttentionBlock(int channels, int groups, double eps) {
        this.channels = channels;
        groupNorm = child("group_norm", new GroupNorm(groups, channels, eps));
        toQ = child("to_q", new Linear(channels, channels));
        toK = child("to_k", new Linear(channels, channels));
        toV = child("to_v", new Linear(channels, channels));
        toOut = child("to_out", new Seq<>());
        toOut.add(new Linear(channels, channels));
    }

    /** x: (B, C, H, W) -> (B, C, H, W). */
    public Tensor forward(Tensor x) {
        long b = x.size(0), c = x.size(1), h = x.size(2), w = x.size(3);
        Tensor tokens = groupNorm.forward(x).view(b, c, h * w).transpose(1, 2);   // (B, HW, C)
        Tensor q = toQ.forward(tokens).unsqueeze(1);                                // (B, 1, HW, C): one head
        Tensor k = toK.forward(tokens).unsqueeze(1);
        Tensor v = toV.forward(tokens).unsqueeze(1);
        Tensor attended = sdpa(q, k, v).squeeze(1);                                 // (B, HW, C)
        Tensor out = toOut.get(0).forward(attended);
        return out.transpose(1, 2).reshape(b, c, h, w).add(x);
    }

    /** softmax(q kᵀ / √d) v, in fp32 when the inputs are half precision on the CPU. */
    static Tensor sdpa(Tensor q, Tensor k, Tensor v) {
        return Sdpa.attend(q, k, v, null, false, Double.NaN).to(q.scalar_type());
    }
}
