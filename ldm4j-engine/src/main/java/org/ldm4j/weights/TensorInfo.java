package org.ldm4j.weights;

import java.util.Arrays;

/**
 * What a weight source knows about one tensor without reading it: its dtype, spelled as in safetensors headers
 * ("F32", "F16", "BF16", "I64", ...), and its shape.
 */
public record TensorInfo(String dtype, long[] shape) {
    public TensorInfo {
        shape = shape.clone();
    }

    @Override public long[] shape() { return shape.clone(); }

    public int rank() { return shape.length; }

    public long dim(int i) { return shape[i < 0 ? shape.length + i : i]; }

    /** Number of elements; throws {@link ArithmeticException} on overflow. */
    public long numel() {
        long n = 1;
        for (long d : shape) n = Math.multiplyExact(n, d);
        return n;
    }

    /** Bytes the tensor occupies; throws {@link ArithmeticException} on overflow. */
    public long byteSize() {
        return Math.multiplyExact(numel(), SafetensorsDtype.of(dtype).size());
    }

    public TensorInfo withShape(long... newShape) { return new TensorInfo(dtype, newShape); }

    @Override public boolean equals(Object o) {
        return o instanceof TensorInfo t && t.dtype.equals(dtype) && Arrays.equals(t.shape, shape);
    }

    @Override public int hashCode() { return dtype.hashCode() * 31 + Arrays.hashCode(shape); }

    @Override public String toString() { return dtype + Arrays.toString(shape); }
}
