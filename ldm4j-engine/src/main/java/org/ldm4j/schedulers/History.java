package org.ldm4j.schedulers;

import org.bytedeco.pytorch.Tensor;

/**
 * Native lifetime of the tensors a multistep scheduler remembers between steps. Callers run each step in its
 * own {@code PointerScope}; the history keeps its own handle (a C++ copy of the {@code at::Tensor}, sharing the
 * storage) with an extra JavaCPP reference, so that closing the step's scope does not free it, and frees only
 * that handle when the tensor leaves the history: the caller's handle is never touched.
 */
final class History {
    private History() {}

    static Tensor hold(Tensor t) {
        if (t == null) return null;
        Tensor own = new Tensor(t);
        own.retainReference();
        return own;
    }

    static void release(Tensor t) {
        if (t != null) t.releaseReference();
    }
}
