package org.ldm4j.nn;

import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch;

/** {@code nn.Embedding(num, dim)}: rows of a table, initialised N(0, 1) like PyTorch. */
public final class Embedding extends Block {
    public final int num, dim;
    public final Param weight;   // (num, dim)

    public Embedding(int num, int dim) {
        this.num = num;
        this.dim = dim;
        this.weight = param("weight", 1.0, num, dim);
        if (initialising() && weight.t().numel() > 0) weight.t().normal_(0.0, 1.0, new org.bytedeco.pytorch.GeneratorOptional());
    }

    /** ids: integer tensor of any shape -> (..., dim). */
    public Tensor forward(Tensor ids) {
        return torch.embedding(weight.t(), ids);
    }
}
