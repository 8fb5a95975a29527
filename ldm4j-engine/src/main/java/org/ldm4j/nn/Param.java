package org.ldm4j.nn;

import org.bytedeco.pytorch.Tensor;

/**
 * A named, replaceable parameter of a {@link Block}. Layers read {@link #t()} on every forward, so loading
 * weights or casting a model swaps the tensor here without touching the layers.
 */
public final class Param {
    private final long[] shape;
    private Tensor value;

    Param(Tensor value) {
        this.shape = value.sizes().vec().get();
        set(value);
    }

    public Tensor t() { return value; }

    /** The shape this parameter was declared with; loading checks against it. */
    public long[] shape() { return shape.clone(); }

    /**
     * Replaces the tensor. Parameters outlive every per-step {@link PointerScope}, so the tensor is detached from
     * whatever scope is open on this thread (otherwise closing that scope would free the model's weights).
     */
    public void set(Tensor v) {
        this.value = Scopes.keep(v);
    }
}
