package org.ldm4j.nn;

import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.Tensor;

/**
 * Native-memory scoping (shared/design/cpu-performance.md, recommendation 7): every step of a long loop runs in a
 * {@link PointerScope} that frees its temporaries; what must outlive the step goes through {@link #keep}.
 */
public final class Scopes {
    private Scopes() {}

    /**
     * An owning handle of {@code t} that survives the innermost open scope .
     * Shares storage with {@code t}; freed by the garbage collector or {@code close()} when no longer used.
     */
    public static Tensor keep(Tensor t) {
        // A fresh C++ handle: the caller's wrapper may be a non-owning reference returned by an in-place op.
        Tensor own = new Tensor(t);
        PointerScope scope = PointerScope.getInnerScope();
        // A new pointer is attached to the innermost scope only. detach() drops that scope's reference, so take
        // one of our own first or the handle is freed at once.
        if (scope != null) {
            own.retainReference();
            scope.detach(own);
        }
        return own;
    }
}
