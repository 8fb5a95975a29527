package org.ldm4j.nn;

import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.TensorOptional;
import org.bytedeco.pytorch.global.torch;

/**
 * {@code nn.Linear}: y = x Wᵀ + b, weight (out, in).
 *
 * <p>On the CPU in float32 the product runs as a 1x1 convolution over a channels-last view: this libtorch build
 * sends fp32 {@code at::linear} to OpenBLAS (AVX2 kernels, thread-pool contention, an 8 ms stall on small inputs)
 * while oneDNN convolutions reach 2-4x the speed (shared/design/cpu-performance.md, "Linear, batch 2"). The result is
 * the same to ~1e-7 relative. bf16/fp16 and GPU tensors use {@code at::linear}, which goes to oneDNN/cuBLAS.
 */
public final class Linear extends Block {
    public final int inFeatures, outFeatures;
    public final Param weight;   // (out, in)
    public final Param bias;     // (out) or null

    public Linear(int inFeatures, int outFeatures, boolean bias) {
        this.inFeatures = inFeatures;
        this.outFeatures = outFeatures;
        double bound = 1.0 / Math.sqrt(inFeatures);
        this.weight = param("weight", bound, outFeatures, inFeatures);
        this.bias = bias ? param("bias", bound, outFeatures) : null;
    }

    public Linear(int inFeatures, int outFeatures) { this(inFeatures, outFeatures, true); }

    public Tensor forward(Tensor x) {
        Tensor w = weight.t();
        TensorOptional b = bias == null ? new TensorOptional() : new TensorOptional(bias.t());
        if (Dtypes.isFloat32(x) && x.is_cpu()) {
            return asPointwiseConv(x, w, b);
        }
        return torch.linear(x, w, b);
    }

    private Tensor asPointwiseConv(Tensor x, Tensor w, TensorOptional b) {
        long[] shape = x.sizes().vec().get();
        long k = shape[shape.length - 1];
        long m = x.numel() / k;
        // (M, K) seen as a 1xM image with K channels in channels-last order: no copy.
        Tensor x4 = x.reshape(1, 1, m, k).permute(0, 3, 1, 2);
        Tensor w4 = w.view(outFeatures, k, 1, 1);
        Tensor y = torch.conv2d(x4, w4, b, new long[]{1, 1}, new long[]{0, 0}, new long[]{1, 1}, 1);
        shape[shape.length - 1] = outFeatures;
        return y.permute(0, 2, 3, 1).reshape(shape);
    }
}
