package org.ldm4j.weights;

import org.bytedeco.pytorch.Tensor;

import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.Function;

/**
 * A view of another source under new names. The function maps each source name to its new name, or to null to
 * leave the tensor out, which also makes this the filter and prefix helper ({@link #stripPrefix}, {@link #only}).
 * Two source names mapping to the same new name is an error, reported with both names.
 */
public final class Renamed implements WeightSource {
    private final WeightSource source;
    private final Map<String, String> toSource;   // new name -> source name, in source order
    private final List<String> dropped;

    public Renamed(WeightSource source, Function<String, String> rename) {
        this.source = source;
        Map<String, String> map = new LinkedHashMap<>();
        List<String> left = new java.util.ArrayList<>();
        for (String name : source.names()) {
            String target = rename.apply(name);
            if (target == null) {
                left.add(name);
                continue;
            }
            String before = map.putIfAbsent(target, name);
            if (before != null) {
                throw new WeightFormatException("renaming " + source + ": both '" + before + "' and '" + name
                        + "' map to '" + target + "'");
            }
        }
        this.toSource = Collections.unmodifiableMap(map);
        this.dropped = Collections.unmodifiableList(left);
    }

    /** The tensors under {@code prefix}, with the prefix removed. */
    public static Renamed stripPrefix(WeightSource source, String prefix) {
        return new Renamed(source, n -> n.startsWith(prefix) ? n.substring(prefix.length()) : null);
    }

    /** The tensors with {@code prefix} put in front of every name. */
    public static Renamed addPrefix(WeightSource source, String prefix) {
        return new Renamed(source, n -> prefix + n);
    }

    /** The tensors whose names pass the filter, names unchanged. */
    public static Renamed only(WeightSource source, java.util.function.Predicate<String> keep) {
        return new Renamed(source, n -> keep.test(n) ? n : null);
    }

    /** The source name behind a new name. */
    public String sourceName(String name) {
        String s = toSource.get(name);
        if (s == null) throw WeightSource.unknown(toString(), name);
        return s;
    }

    /** Source names the function left out (useful to report unconverted tensors). */
    public List<String> dropped() { return dropped; }

    @Override public Set<String> names() { return toSource.keySet(); }

    @Override public TensorInfo info(String name) { return source.info(sourceName(name)); }

    @Override public Tensor read(String name) { return source.read(sourceName(name)); }

    @Override public void close() { source.close(); }

    @Override public String toString() { return "Renamed[" + source + "]"; }
}
