package org.ldm4j.nn;

import org.bytedeco.javacpp.FloatPointer;
import org.bytedeco.javacpp.LongPointer;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.TensorOptions;
import org.bytedeco.pytorch.global.torch;
import org.bytedeco.pytorch.global.torch.ScalarType;

/** Java arrays to and from CPU tensors (copies, so the tensor owns its memory). */
public final class Tensors {
    private Tensors() {}

    public static Tensor ofLongs(long[] data, long... shape) {
        try (LongPointer p = new LongPointer(data)) {
            return torch.from_blob(p, shape, new TensorOptions().dtype(Dtypes.optional(ScalarType.Long))).clone();
        }
    }

    public static Tensor ofFloats(float[] data, long... shape) {
        try (FloatPointer p = new FloatPointer(data)) {
            return torch.from_blob(p, shape, new TensorOptions().dtype(Dtypes.optional(ScalarType.Float))).clone();
        }
    }

    /**
     * The two halves of {@code t} along {@code dim} (its size there must be even), each a view that owns a reference
     * to the storage. Not {@code t.chunk(2, dim).get(i)}: the vector's {@code get} returns a reference into the
     * std::vector, which dangles once the vector is freed (by the garbage collector outside a PointerScope, e.g.
     * between the {@code get} and the use: a crash in a test that had no scope).
     */
    public static Tensor[] halves(Tensor t, long dim) {
        long n = t.size(dim);
        if (n % 2 != 0) throw new IllegalArgumentException("cannot halve size " + n + " along dimension " + dim);
        return new Tensor[]{t.narrow(dim, 0, n / 2), t.narrow(dim, n / 2, n / 2)};
    }

    /** All values of a tensor as float32, in row-major order. */
    public static float[] toFloats(Tensor t) {
        Tensor c = t.detach().to(ScalarType.Float).cpu().contiguous();
        float[] out = new float[(int) c.numel()];
        c.data_ptr_float().get(out);
        return out;
    }

    /**
     * {@code count} copies of a batch-1 tensor of any rank along the batch (the tensor itself when count is 1): one
     * prompt's text states or one start latent shared by a batch of runs.
     *
     * @param what names the value in the error when it does not have batch 1
     */
    public static Tensor repeatBatch(Tensor t, int count, String what) {
        if (count < 1) throw new IllegalArgumentException("a batch needs at least one element, got " + count);
        if (t.size(0) != 1) throw new IllegalArgumentException(what + " given to a batch of " + count + " must have batch 1, got " + t.size(0));
        if (count == 1) return t;
        long[] reps = new long[(int) t.dim()];
        java.util.Arrays.fill(reps, 1);
        reps[0] = count;
        return t.repeat(reps);
    }
}
