package org.ldm4j.weights;

import org.bytedeco.pytorch.Tensor;

import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Several sources seen as one (the shards of a sharded checkpoint, or the parts of a pipeline). A name present in
 * two parts is an error, reported with both parts.
 */
public final class Merged implements WeightSource {
    private final List<WeightSource> parts;
    private final Map<String, WeightSource> owner;

    public Merged(List<? extends WeightSource> parts) {
        this.parts = List.copyOf(parts);
        Map<String, WeightSource> map = new LinkedHashMap<>();
        for (WeightSource part : this.parts) {
            for (String name : part.names()) {
                WeightSource before = map.putIfAbsent(name, part);
                if (before != null) {
                    throw new WeightFormatException("tensor '" + name + "' appears in both " + before + " and " + part);
                }
            }
        }
        this.owner = Collections.unmodifiableMap(map);
    }

    @Override public Set<String> names() { return owner.keySet(); }

    @Override public TensorInfo info(String name) { return part(name).info(name); }

    @Override public Tensor read(String name) { return part(name).read(name); }

    private WeightSource part(String name) {
        WeightSource p = owner.get(name);
        if (p == null) throw WeightSource.unknown(toString(), name);
        return p;
    }

    /** Closes every part, even when one fails. */
    @Override public void close() {
        RuntimeException first = null;
        for (WeightSource p : parts) {
            try {
                p.close();
            } catch (RuntimeException e) {
                if (first == null) first = e;
            }
        }
        if (first != null) throw first;
    }

    @Override public String toString() {
        List<String> s = new ArrayList<>();
        for (WeightSource p : parts) s.add(p.toString());
        return "Merged" + s;
    }
}
