package org.ldm4j.nn;

import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.Tensor;

/**
 * A native-memory scope around one piece of a forward pass (a resnet/transformer pair): its temporaries are freed
 * when it closes, and the tensors passed to {@link #keep} move to the scope that was open before (the caller's
 * per-step scope), or to the garbage collector if there was none. Without it every temporary of a UNet call lives
 * until the step's scope closes: several GB at 512 px, batch 2 (cpu-performance.md, recommendation 7).
 * Autograd is unaffected: the graph holds its own references to saved tensors.
 */
public final class ScopedForward implements AutoCloseable {
    private final PointerScope outer;
    private final PointerScope inner;

    private ScopedForward() {
        outer = PointerScope.getInnerScope();
        inner = new PointerScope();
    }

    public static ScopedForward open() { return new ScopedForward(); }

    /** An owning handle of {@code t} (same storage) that outlives this scope. */
    public Tensor keep(Tensor t) {
        Tensor own = new Tensor(t);        // attached to the inner scope, which holds one reference
        own.retainReference();
        inner.detach(own);                 // drops the inner scope's reference; ours remains
        if (outer != null) {
            outer.attach(own);
            own.releaseReference();        // now owned by the outer scope alone
        }
        return own;
    }

    @Override
    public void close() { inner.close(); }
}
