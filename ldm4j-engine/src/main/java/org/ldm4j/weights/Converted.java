package org.ldm4j.weights;

import org.bytedeco.pytorch.Tensor;

import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Set;
import java.util.function.UnaryOperator;

/**
 * A view whose tensors are computed from one source tensor each: renamed, and possibly reshaped or sliced
 * (the VAE's conv-shaped attention weights squeezed to linear, OpenCLIP's fused q/k/v split in three). The
 * declared {@link TensorInfo} is checked against what the transform returns when a tensor is read.
 */
public final class Converted implements WeightSource {
    /** One output tensor: which source tensor it comes from, what it will look like, how to compute it. */
    public record Entry(String source, TensorInfo info, UnaryOperator<Tensor> transform) {
        public static Entry same(String source, TensorInfo info) { return new Entry(source, info, null); }
    }

    private final WeightSource source;
    private final Map<String, Entry> entries;

    public Converted(WeightSource source, Map<String, Entry> entries) {
        this.source = source;
        this.entries = Collections.unmodifiableMap(new LinkedHashMap<>(entries));
    }

    /** Drops trailing size-1 dimensions down to 2-D: a 1×1 conv weight [O, I, 1, 1] (or 1-D conv [O, I, 1]) as linear [O, I]. */
    public static Entry squeezedToLinear(String source, TensorInfo info) {
        if (info.rank() <= 2) return Entry.same(source, info);
        for (int i = 2; i < info.rank(); i++) {
            if (info.dim(i) != 1) {
                throw new WeightFormatException("tensor '" + source + "' " + info + " is not a 1x1 conv weight; cannot use it as linear");
            }
        }
        long o = info.dim(0), in = info.dim(1);
        return new Entry(source, info.withShape(o, in), t -> t.reshape(o, in));
    }

    /** Part {@code index} of {@code parts} equal slices along dim 0 (a fused in_proj split into q, k, v). */
    public static Entry chunk(String source, TensorInfo info, int index, int parts) {
        long rows = info.dim(0);
        if (rows % parts != 0) {
            throw new WeightFormatException("tensor '" + source + "' " + info + ": dim 0 is not divisible by " + parts);
        }
        long[] shape = info.shape();
        shape[0] = rows / parts;
        long start = index * shape[0], len = shape[0];
        return new Entry(source, info.withShape(shape), t -> t.narrow(0, start, len).clone());
    }

    @Override public Set<String> names() { return entries.keySet(); }

    @Override public TensorInfo info(String name) { return entry(name).info; }

    @Override public Tensor read(String name) {
        Entry e = entry(name);
        Tensor raw = source.read(e.source);
        if (e.transform == null) return raw;
        Tensor out = e.transform.apply(raw);
        if (out != raw) raw.close();   // the result keeps its storage alive through libtorch's refcount
        long[] shape = out.sizes().vec().get();
        if (!java.util.Arrays.equals(shape, e.info.shape())) {
            throw new IllegalStateException("conversion of '" + e.source + "' to '" + name + "' gave shape "
                    + java.util.Arrays.toString(shape) + ", expected " + e.info);
        }
        return out;
    }

    private Entry entry(String name) {
        Entry e = entries.get(name);
        if (e == null) throw WeightSource.unknown(toString(), name);
        return e;
    }

    @Override public void close() { source.close(); }

    @Override public String toString() { return "Converted[" + source + "]"; }
}
