package org.ldm4j.methods.gradop;

import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.AutoGradMode;
import org.bytedeco.pytorch.InferenceMode;
import org.bytedeco.pytorch.Scalar;
import org.bytedeco.pytorch.Tensor;
import org.ldm4j.nn.Scopes;

/**
 * Gradient descent on a latent (the official {@code gradop_plus_optim}): a copy of z becomes the only tensor with a
 * gradient, and {@code steps} Adam steps with a fresh optimiser state minimise
 * <pre>
 *   L(z) + λ · mean((z − z_anchor)²)
 * </pre>
 * with L GradOP's L(f(D(z)), y) or any other {@link LatentObjective}.
 * GradOP+ runs it with λ = 0 (the official code has no proximity term); GradOP uses the anchor z_τ of its text-only
 * sample (design note in {@link GradOp}).
 *
 * <p>Gradient mode is switched on locally, inference mode off, so it works inside a caller's {@code InferenceMode}
 * (the latent is cloned into a normal tensor first). Each step runs in its own native-memory scope: the decoder's
 * activations of one step are freed before the next.
 */
public final class LatentOptimizer {
    private LatentOptimizer() {}

    /**
     * @param z the optimised latent (detached, float32 like the input); {@code losses[k]} is the objective before step k
     */
    public record Result(Tensor z, double[] losses) {
        public double first() { return losses.length == 0 ? Double.NaN : losses[0]; }
        public double last() { return losses.length == 0 ? Double.NaN : losses[losses.length - 1]; }
    }

    /** GradOP+'s optimisation: faithfulness only. */
    public static Result optimise(LatentObjective loss, Tensor zInit, int steps, double lr) {
        return optimise(loss, zInit, steps, lr, null, 0);
    }

    /**
     * @param anchor z_τ for the proximity term, or null
     * @param lambda proximity weight λ (ignored without an anchor)
     */
    public static Result optimise(LatentObjective loss, Tensor zInit, int steps, double lr, Tensor anchor, double lambda) {
        if (steps < 0) throw new IllegalArgumentException("gradient steps must be >= 0, got " + steps);
        double[] losses = new double[steps];
        try (InferenceMode notInference = new InferenceMode(false); AutoGradMode grad = new AutoGradMode(true)) {
            Tensor z = Scopes.keep(zInit.detach().clone().requires_grad_(true));
            Tensor a = anchor == null ? null : Scopes.keep(anchor.detach().clone());
            try (LatentAdam adam = new LatentAdam(z, lr)) {
            for (int k = 0; k < steps; k++) {
                try (PointerScope scope = new PointerScope()) {
                    Tensor objective = loss.value(z);
                    if (a != null && lambda != 0) objective = objective.add(z.sub(a).pow(new Scalar(2.0)).mean().mul(new Scalar(lambda)));
                    objective.backward();
                    losses[k] = objective.item_double();
                    adam.step(z, z.grad());
                    z.mutable_grad().reset();   // zero_grad(set_to_none=True)
                }
            }
            }
            Tensor out = Scopes.keep(z.detach());
            z.close();          // the handles only: out shares z's storage
            if (a != null) a.close();
            return new Result(out, losses);
        }
    }
}
