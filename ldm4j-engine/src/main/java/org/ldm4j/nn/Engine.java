package org.ldm4j.nn;

import org.bytedeco.pytorch.global.torch;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** Process-wide libtorch settings: thread counts (see shared/design/cpu-performance.md, recommendations 1 and 6). */
public final class Engine {
    private static final Logger LOG = LoggerFactory.getLogger(Engine.class);
    private static volatile boolean initialised;

    private Engine() {}

    /**
     * Sets libtorch's intra-op threads and pins OpenBLAS to one thread: OpenBLAS's own pthread pool fights libgomp
     * for the cores and adds 8-15 ms stalls to every small GEMM that follows it.
     */
    public static synchronized void threads(int n) {
        if (n < 1) throw new IllegalArgumentException("threads must be >= 1, got " + n);
        try {
            org.bytedeco.openblas.global.openblas.blas_set_num_threads(1);
        } catch (Throwable t) {
            LOG.debug("OpenBLAS thread setting unavailable: {}", t.toString());
        }
        torch.set_num_threads(n);
        initialised = true;
    }

    /** Applies the default (1 thread, right for the tiny models) unless threads were already chosen. */
    public static void ensureInitialised() {
        if (!initialised) threads(Integer.getInteger("ldm4j.threads", 1));
    }
}
