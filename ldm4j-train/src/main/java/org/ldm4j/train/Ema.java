package org.ldm4j.train;

import org.bytedeco.pytorch.NoGradGuard;
import org.bytedeco.pytorch.Tensor;
import org.ldm4j.nn.Param;
import org.ldm4j.nn.Scopes;

import java.util.LinkedHashMap;
import java.util.Map;

/** Exponential moving average of weights, θ_ema ← d·θ_ema + (1 − d)·θ, the weights that get shipped. */
public final class Ema {
    private final Map<String, Param> params;
    private final Map<String, Tensor> shadow = new LinkedHashMap<>();
    private final double decay;

    public Ema(Map<String, Param> params, double decay) {
        this.params = params;
        this.decay = decay;
        params.forEach((k, p) -> shadow.put(k, Scopes.keep(p.t().detach().clone())));
    }

    /** Warm-up as in diffusers' EMAModel: d_t = min(decay, (1 + t) / (10 + t)), so early averages are not stale. */
    public void update(long step) {
        double d = Math.min(decay, (1.0 + step) / (10.0 + step));
        try (NoGradGuard noGrad = new NoGradGuard()) {
            params.forEach((k, p) -> shadow.get(k).lerp_(p.t().detach(), new org.bytedeco.pytorch.Scalar(1 - d)));
        }
    }

    public Map<String, Tensor> weights() { return shadow; }

    public void load(Map<String, Tensor> state) {
        try (NoGradGuard noGrad = new NoGradGuard()) {
            shadow.forEach((k, t) -> {
                Tensor s = state.get(k);
                if (s == null) throw new IllegalArgumentException("EMA state lacks " + k);
                t.copy_(s);
            });
        }
    }
}
