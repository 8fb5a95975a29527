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

    /** All values of a tensor as float32, in row-major order. */
    public static float[] toFloats(Tensor t) {
        Tensor c = t.detach().to(ScalarType.Float).cpu().contiguous();
        float[] out = new float[(int) c.numel()];
        c.data_ptr_float().get(out);
        return out;
    }
}
