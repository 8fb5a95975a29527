package org.ldm4j.nn;

import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.TensorOptional;
import org.bytedeco.pytorch.global.torch;

/** {@code nn.LayerNorm(dim, eps)} over the last dimension. */
public final class LayerNorm extends Block {
    public final int dim;
    public final double eps;
    public final Param weight, bias;

    public LayerNorm(int dim, double eps) {
        this.dim = dim;
        this.eps = eps;
        this.weight = constant("weight", 1.0, dim);
        this.bias = constant("bias", 0.0, dim);
    }

    public Tensor forward(Tensor x) {
        return torch.layer_norm(x, new long[]{dim}, new TensorOptional(weight.t()), new TensorOptional(bias.t()), eps, false);
    }
}
