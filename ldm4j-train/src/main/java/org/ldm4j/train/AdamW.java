package org.ldm4j.train;

import org.bytedeco.pytorch.NoGradGuard;
import org.bytedeco.pytorch.Scalar;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch;
import org.ldm4j.nn.Param;
import org.ldm4j.nn.Scopes;

import java.util.LinkedHashMap;
import java.util.Map;

/**
 * AdamW (Loshchilov &amp; Hutter), the arithmetic of {@code torch.optim.AdamW} (non-amsgrad, non-fused):
 * θ ← θ(1 − lr·λ); m ← β1 m + (1 − β1) g; v ← β2 v + (1 − β2) g²;
 * θ ← θ − (lr / (1 − β1ᵗ)) · m / (√v / √(1 − β2ᵗ) + ε).
 *
 * <p>Written over libtorch ops rather than wrapping libtorch's C++ optimiser so that its whole state (m, v, step)
 * is plain named tensors: checkpoints save it as safetensors and resume bit-exactly.
 */
public final class AdamW {
    private final Map<String, Param> params;
    private final Map<String, Tensor> m = new LinkedHashMap<>();
    private final Map<String, Tensor> v = new LinkedHashMap<>();
    private final double beta1, beta2, eps, weightDecay;
    private long step;

    public AdamW(Map<String, Param> params, double beta1, double beta2, double eps, double weightDecay) {
        this.params = params;
        this.beta1 = beta1;
        this.beta2 = beta2;
        this.eps = eps;
        this.weightDecay = weightDecay;
        for (Map.Entry<String, Param> e : params.entrySet()) {
            m.put(e.getKey(), Scopes.keep(torch.zeros_like(e.getValue().t())));
            v.put(e.getKey(), Scopes.keep(torch.zeros_like(e.getValue().t())));
        }
    }

    /** torch's defaults: β = (0.9, 0.999), ε = 1e-8, weight decay 0.01. */
    public AdamW(Map<String, Param> params) { this(params, 0.9, 0.999, 1e-8, 0.01); }

    public long stepCount() { return step; }

    /** Applies one update with learning rate {@code lr} to every parameter that has a gradient. */
    public void step(double lr) {
        step++;
        double bc1 = 1 - Math.pow(beta1, step);
        double bc2Sqrt = Math.sqrt(1 - Math.pow(beta2, step));
        try (NoGradGuard noGrad = new NoGradGuard()) {
            for (Map.Entry<String, Param> e : params.entrySet()) {
                Tensor p = e.getValue().t();
                Tensor g = p.grad();
                if (g == null || g.isNull() || !g.defined()) continue;
                Tensor mi = m.get(e.getKey()), vi = v.get(e.getKey());
                if (weightDecay != 0) p.mul_(new Scalar(1 - lr * weightDecay));
                mi.mul_(new Scalar(beta1)).add_(g, new Scalar(1 - beta1));
                vi.mul_(new Scalar(beta2)).addcmul_(g, g, new Scalar(1 - beta2));
                Tensor denom = vi.sqrt().div_(new Scalar(bc2Sqrt)).add_(new Scalar(eps));
                p.addcdiv_(mi, denom, new Scalar(-lr / bc1));
            }
        }
    }

    /** Clears the gradients of all parameters (set to undefined, as {@code zero_grad(set_to_none=True)}). */
    public void zeroGrad() {
        for (Param p : params.values()) {
            Tensor g = p.t().grad();
            if (g != null && !g.isNull() && g.defined()) p.t().mutable_grad().reset();
        }
    }

    /** State as named tensors ({@code m.<name>}, {@code v.<name>}) for checkpoints. */
    public Map<String, Tensor> state() {
        Map<String, Tensor> out = new LinkedHashMap<>();
        m.forEach((k, t) -> out.put("m." + k, t));
        v.forEach((k, t) -> out.put("v." + k, t));
        return out;
    }

    /** Restores {@link #state()} and the step count. */
    public void load(Map<String, Tensor> state, long stepCount) {
        try (NoGradGuard noGrad = new NoGradGuard()) {
            for (String k : m.keySet()) {
                Tensor ms = state.get("m." + k), vs = state.get("v." + k);
                if (ms == null || vs == null) throw new IllegalArgumentException("optimizer state lacks " + k);
                m.get(k).copy_(ms);
                v.get(k).copy_(vs);
            }
        }
        this.step = stepCount;
    }
}
