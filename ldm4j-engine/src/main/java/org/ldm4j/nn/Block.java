package org.ldm4j.nn;

import org.bytedeco.pytorch.Device;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch;
import org.bytedeco.pytorch.global.torch.ScalarType;

import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Supplier;

/**
 * A node of a model tree whose dotted parameter names are exactly the diffusers/transformers state-dict keys.
 *
 * <p>Children and parameters are registered under their diffusers names ({@code to_q}, {@code down_blocks},
 * {@code 0}); the tree is plain Java rather than libtorch's {@code Module}, so names may be anything, weights can be
 * swapped in place ({@link Param}) and nothing depends on JNI-side module bookkeeping.
 *
 * <p>New parameters are filled with PyTorch's default initialisation (uniform ±1/sqrt(fan_in), drawn from libtorch's
 * global generator, so {@code torch.manual_seed} makes random models reproducible) unless built inside
 * {@link #withoutInit}, which leaves them uninitialised because weights are about to be loaded.
 */
public abstract class Block {
    private static final ThreadLocal<Boolean> SKIP_INIT = ThreadLocal.withInitial(() -> false);

    private final Map<String, Param> params = new LinkedHashMap<>();
    private final Map<String, Block> children = new LinkedHashMap<>();

    /** Builds a model without spending time on random initialisation (its weights will be loaded). */
    public static <B extends Block> B withoutInit(Supplier<B> build) {
        boolean before = SKIP_INIT.get();
        SKIP_INIT.set(true);
        try {
            return build.get();
        } finally {
            SKIP_INIT.set(before);
        }
    }

    /** False while building inside {@link #withoutInit}. */
    protected static boolean initialising() { return !SKIP_INIT.get(); }

    protected <B extends Block> B child(String name, B block) {
        if (children.containsKey(name) || params.containsKey(name)) {
            throw new IllegalStateException("duplicate child name '" + name + "' in " + getClass().getSimpleName());
        }
        children.put(name, block);
        return block;
    }

    /** A parameter initialised uniformly in ±bound (PyTorch's kaiming-uniform(a=√5) gives bound = 1/√fan_in). */
    protected Param param(String name, double bound, long... shape) {
        Tensor t;
        if (SKIP_INIT.get()) {
            t = torch.empty(shape);
        } else {
            t = torch.empty(shape);
            t.uniform_(-bound, bound, new org.bytedeco.pytorch.GeneratorOptional());
        }
        return register(name, t);
    }

    /** A parameter filled with a constant (norm weights 1, biases 0). */
    protected Param constant(String name, double value, long... shape) {
        return register(name, torch.full(shape, new org.bytedeco.pytorch.Scalar(value)));
    }

    private Param register(String name, Tensor t) {
        if (children.containsKey(name) || params.containsKey(name)) {
            throw new IllegalStateException("duplicate parameter name '" + name + "' in " + getClass().getSimpleName());
        }
        Param p = new Param(t);
        params.put(name, p);
        return p;
    }

    public Map<String, Block> children() { return Collections.unmodifiableMap(children); }

    /** Every parameter under its full dotted name, in registration order. */
    public Map<String, Param> namedParameters() {
        Map<String, Param> out = new LinkedHashMap<>();
        collect("", out);
        return out;
    }

    private void collect(String prefix, Map<String, Param> out) {
        params.forEach((n, p) -> out.put(prefix + n, p));
        children.forEach((n, c) -> c.collect(prefix + n + ".", out));
    }

    public List<Tensor> parameters() {
        List<Tensor> out = new ArrayList<>();
        namedParameters().values().forEach(p -> out.add(p.t()));
        return out;
    }

    public long parameterCount() {
        long n = 0;
        for (Param p : namedParameters().values()) n += p.t().numel();
        return n;
    }

    /** Moves/casts every parameter (in place: layers see the new tensors). Returns this. */
    public Block to(Device device, ScalarType dtype) {
        for (Param p : namedParameters().values()) {
            Tensor moved = Dtypes.to(p.t(), device, dtype);
            if (moved != p.t()) p.set(moved);
        }
        return this;
    }

    /** Turns gradient tracking of every parameter on or off (training and weight optimisation only). */
    public Block requiresGrad(boolean on) {
        for (Param p : namedParameters().values()) p.t().requires_grad_(on);
        return this;
    }

    /** The device of the first parameter (models live on one device). */
    public Device device() {
        return namedParameters().values().iterator().next().t().device();
    }

    public ScalarType dtype() {
        return namedParameters().values().iterator().next().t().scalar_type();
    }

    /** Copies of every parameter under its dotted name (for saving). */
    public Map<String, Tensor> stateDict() {
        Map<String, Tensor> out = new LinkedHashMap<>();
        namedParameters().forEach((n, p) -> out.put(n, p.t().detach()));
        return out;
    }
}
