package org.ldm4j.methods.gradop;

import org.bytedeco.pytorch.NoGradGuard;
import org.bytedeco.pytorch.Scalar;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch;
import org.ldm4j.nn.Scopes;

/**
 * Adam (Kingma &amp; Ba) on one tensor, the arithmetic of {@code torch.optim.Adam} in torch 1.12 (single-tensor path,
 * no weight decay, no amsgrad), which GradOP+ runs on the latent with a fresh state per call:
 * <pre>
 *   m ← β1·m + (1 − β1)·g                 v ← β2·v + (1 − β2)·g²
 *   z ← z − (lr / (1 − β1ᵏ)) · m / (√v / √(1 − β2ᵏ) + ε)
 * </pre>
 * (ε is added after the bias correction of √v: PyTorch's placement, not the paper's.) The methods module may not
 * depend on the trainer's AdamW, hence this small copy for a single latent tensor.
 */
public final class LatentAdam implements AutoCloseable {
    private final double lr, beta1, beta2, eps;
    private final Tensor m, v;   // first and second moments, like the parameter
    private long step;

    /** torch's defaults β = (0.9, 0.999), ε = 1e-8. */
    public LatentAdam(Tensor like, double lr) { this(like, lr, 0.9, 0.999, 1e-8); }

    public LatentAdam(Tensor like, double lr, double beta1, double beta2, double eps) {
        if (!(lr > 0)) throw new IllegalArgumentException("learning rate must be > 0, got " + lr);
        this.lr = lr;
        this.beta1 = beta1;
        this.beta2 = beta2;
        this.eps = eps;
        try (NoGradGuard noGrad = new NoGradGuard()) {
            this.m = Scopes.keep(torch.zeros_like(like.detach()));
            this.v = Scopes.keep(torch.zeros_like(like.detach()));
        }
    }

    public long stepCount() { return step; }

    /** Frees the moment tensors. */
    @Override public void close() {
        m.close();
        v.close();
    }

    /** One update of {@code param} in place with gradient {@code grad}. */
    public void step(Tensor param, Tensor grad) {
        step++;
        double bc1 = 1 - Math.pow(beta1, step);
        double bc2Sqrt = Math.sqrt(1 - Math.pow(beta2, step));
        try (NoGradGuard noGrad = new NoGradGuard()) {
            m.mul_(new Scalar(beta1)).add_(grad, new Scalar(1 - beta1));
            v.mul_(new Scalar(beta2)).addcmul_(grad, grad, new Scalar(1 - beta2));
            Tensor denom = v.sqrt().div_(new Scalar(bc2Sqrt)).add_(new Scalar(eps));
            param.addcdiv_(m, denom, new Scalar(-lr / bc1));
        }
    }
}
