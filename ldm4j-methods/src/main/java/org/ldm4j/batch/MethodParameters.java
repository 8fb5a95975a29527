package org.ldm4j.batch;

import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * The parameter names each method accepts in a spec (the CLI's long options, camel-cased) and typed access to an
 * item's values. An unknown name is an error, not ignored: a misspelt {@code "stpes"} would otherwise quietly
 * generate a whole dataset with the default.
 */
final class MethodParameters {
    static final Set<String> COMMON = Set.of("negativePrompt", "steps", "cfg", "width", "height", "scheduler", "eta", "clipSkip");
    static final Map<String, Set<String>> EXTRA = Map.of(
            "txt2img", Set.of(),
            "img2img", Set.of("init", "strength"),
            "stroke2img", Set.of("painting", "variant", "preset", "strength", "iterations", "gradSteps", "lr", "lossScale", "background",
                    "blurKernel", "blurSigma"),
            "edit", Set.of("image", "mask", "preset", "blendStart", "repairSteps", "repair", "pixelBlend"));

    private final Map<String, Object> values;

    MethodParameters(Map<String, Object> values) { this.values = values; }

    static void check(String method, String key) {
        if (COMMON.contains(key) || EXTRA.get(method).contains(key)) return;
        throw new IllegalArgumentException("unknown parameter '" + key + "' for " + method + " (known: "
                + COMMON.stream().sorted().toList() + " and " + EXTRA.get(method).stream().sorted().toList() + ")");
    }

    boolean has(String key) { return values.get(key) != null; }

    Integer integer(String key) {
        Object v = values.get(key);
        if (v == null) return null;
        if (v instanceof Number n && n.doubleValue() == Math.rint(n.doubleValue())) return n.intValue();
        throw new IllegalArgumentException("parameter '" + key + "' must be an integer, got " + v);
    }

    int integer(String key, int fallback) {
        Integer v = integer(key);
        return v == null ? fallback : v;
    }

    Double real(String key) {
        Object v = values.get(key);
        if (v == null) return null;
        if (v instanceof Number n) return n.doubleValue();
        throw new IllegalArgumentException("parameter '" + key + "' must be a number, got " + v);
    }

    double real(String key, double fallback) {
        Double v = real(key);
        return v == null ? fallback : v;
    }

    String string(String key) {
        Object v = values.get(key);
        if (v == null) return null;
        if (v instanceof String s) return s;
        throw new IllegalArgumentException("parameter '" + key + "' must be a string, got " + v);
    }

    String string(String key, String fallback) {
        String v = string(key);
        return v == null ? fallback : v;
    }

    String required(String key, String method) {
        String v = string(key);
        if (v == null || v.isBlank()) throw new IllegalArgumentException(method + " needs parameter '" + key + "'");
        return v;
    }

    Boolean bool(String key) {
        Object v = values.get(key);
        if (v == null) return null;
        if (v instanceof Boolean b) return b;
        throw new IllegalArgumentException("parameter '" + key + "' must be true or false, got " + v);
    }

    static List<String> variants() { return List.of("gradop+", "gradop", "sdedit", "iterative-sdedit"); }
}
