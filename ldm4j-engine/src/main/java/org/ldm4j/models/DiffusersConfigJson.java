package org.ldm4j.models;

import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;

/**
 * The reading steps a hand-parsed diffusers {@code config.json} shares (ControlNet, T2I-Adapter): the file's text,
 * a JSON object whose {@code _class_name} (if present) is the expected class, and integer lists with diffusers'
 * defaults; and, for the configs Jackson reads into records (UNet, VAE), the keys the record does not read. Each
 * problem is an IllegalArgumentException naming the file or source.
 */
public final class DiffusersConfigJson {
    private static final ObjectMapper JSON = new ObjectMapper();

    private DiffusersConfigJson() {}

    /**
     * A mapper for the configs Jackson reads into records: keys the record lacks are left to {@link #unreadKeys}
     * (diffusers and transformers add keys over time), and a fraction given for an integer key ("layers_per_block":
     * 2.5) is an error rather than Jackson's silent rounding down.
     */
    public static ObjectMapper configMapper() {
        return new ObjectMapper()
                .configure(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES, false)
                .configure(DeserializationFeature.ACCEPT_FLOAT_AS_INT, false);
    }

    /**
     * {@code json} read into a {@code type} record by {@code mapper}; a problem (bad syntax, a value of the wrong type,
     * the JSON text "null", which Jackson maps to no object) is one line starting with {@code prefix} (the file).
     */
    public static <T> T readRecord(ObjectMapper mapper, String json, Class<T> type, String prefix) {
        T c;
        try {
            c = mapper.readValue(json, type);
        } catch (IOException e) {
            throw new IllegalArgumentException(prefix + ": " + describe(e, json), e);
        }
        if (c == null) throw new IllegalArgumentException(prefix + ": not a JSON object");
        return c;
    }

    /** The text of {@code file}; {@code what} names the config in the error ("ControlNet config"). */
    public static String read(Path file, String what) {
        try {
            return Files.readString(file);
        } catch (IOException e) {
            throw new IllegalArgumentException("cannot read " + what + " " + file + ": " + e.getMessage(), e);
        }
    }

    /**
     * The config as a JSON object. A config of another class (a UNet given where a ControlNet is expected) is rejected
     * by name; one without {@code _class_name} is taken as {@code className}.
     */
    public static ObjectNode object(String json, String source, String className) {
        JsonNode node;
        try {
            node = JSON.readTree(json);
        } catch (IOException e) {
            throw new IllegalArgumentException(source + ": invalid JSON: " + describe(e, (JsonNode) null), e);
        }
        if (!(node instanceof ObjectNode obj)) throw new IllegalArgumentException(source + ": not a JSON object");
        String cls = obj.path("_class_name").asText(className);
        if (!cls.equals(className)) throw new IllegalArgumentException(source + ": this is a " + cls + " config, not a " + className);
        return obj;
    }

    /**
     * The keys of the JSON object {@code json} that {@code type} does not read through {@code mapper} (its naming
     * strategy applied), in file order; diffusers' bookkeeping keys ({@code _class_name}, {@code _diffusers_version},
     * ...) aside. Empty when the text is not a JSON object (the parse reports that).
     */
    public static List<String> unreadKeys(ObjectMapper mapper, String json, Class<?> type) {
        JsonNode node;
        try {
            node = mapper.readTree(json);
        } catch (IOException e) {
            return List.of();
        }
        if (!(node instanceof ObjectNode obj)) return List.of();
        Set<String> read = new HashSet<>();
        mapper.getDeserializationConfig().introspect(mapper.constructType(type)).findProperties().forEach(p -> read.add(p.getName()));
        List<String> unread = new ArrayList<>();
        obj.fieldNames().forEachRemaining(k -> { if (!k.startsWith("_") && !read.contains(k)) unread.add(k); });
        return unread;
    }

    /**
     * Logs a warning naming the keys {@link #unreadKeys} finds: diffusers, too, loads a config with keys it does not
     * expect and warns that they are ignored, so a config from a newer diffusers still loads, but the user sees that a
     * setting (or a typo) had no effect.
     */
    public static void warnUnreadKeys(ObjectMapper mapper, String json, Class<?> type, String source) {
        List<String> unread = unreadKeys(mapper, json, type);
        if (!unread.isEmpty()) {
            org.slf4j.LoggerFactory.getLogger(type).warn("{}: config keys {} are not read by ldm4j's {} and are ignored", source, unread, type.getSimpleName());
        }
    }

    /**
     * One line saying what Jackson found wrong in a config whose text is {@code json} (null if unknown): for a value
     * of the wrong type, the key, what it should be and what it is ({@code key 'layers_per_block': expected an
     * integer, got "two"}); for a check a config's constructor made, that check's message; for a syntax error,
     * Jackson's own message with the line and column. Never Jackson's multi-line form with {@code at [Source: ...]}.
     */
    public static String describe(IOException e, String json) {
        JsonNode tree = null;
        if (json != null) {
            try {
                tree = JSON.readTree(json);
            } catch (IOException notJson) {
                // a syntax error: e is that error
            }
        }
        return describe(e, tree);
    }

    /** As {@link #describe(IOException, String)}, with the config already parsed to {@code tree} (null if unknown). */
    public static String describe(IOException e, JsonNode tree) {
        for (Throwable t = e.getCause(); t != null; t = t.getCause()) {
            if (t instanceof IllegalArgumentException check && check.getMessage() != null) return firstLine(check.getMessage());
        }
        if (e instanceof com.fasterxml.jackson.databind.JsonMappingException m && !m.getPath().isEmpty()) {
            StringBuilder key = new StringBuilder();
            boolean single = false;   // a single value where a list may stand
            JsonNode node = tree;
            for (com.fasterxml.jackson.databind.JsonMappingException.Reference r : m.getPath()) {
                if (r.getFieldName() != null) {
                    if (!key.isEmpty()) key.append('.');
                    key.append(r.getFieldName());
                    node = node == null ? null : node.get(r.getFieldName());
                } else if (r.getIndex() >= 0 && (node == null || node.isArray())) {
                    key.append('[').append(r.getIndex()).append(']');
                    node = node == null ? null : node.get(r.getIndex());
                } else if (r.getIndex() >= 0) {
                    single = true;   // a single value read as a one-element list: no index in the file
                }
            }
            String what;
            if (m instanceof com.fasterxml.jackson.databind.exc.MismatchedInputException mi && mi.getTargetType() != null) {
                Object value = node != null ? node : mi instanceof com.fasterxml.jackson.databind.exc.InvalidFormatException f ? f.getValue() : null;
                what = "expected " + typeName(mi.getTargetType()) + (single ? " (or a list of them)" : "")
                        + (value != null ? ", got " + valueName(value) : "");
            } else {
                what = firstLine(m.getOriginalMessage());
            }
            return "key '" + key + "': " + what;
        }
        if (e instanceof com.fasterxml.jackson.core.JsonProcessingException p) {
            com.fasterxml.jackson.core.JsonLocation at = p.getLocation();
            return firstLine(p.getOriginalMessage())
                    + (at != null && at.getLineNr() > 0 ? " (line " + at.getLineNr() + ", column " + at.getColumnNr() + ")" : "");
        }
        return firstLine(e.getMessage());
    }

    private static String typeName(Class<?> type) {
        if (type == Integer.class || type == int.class || type == Long.class || type == long.class || type == Short.class
                || type == short.class || type == java.math.BigInteger.class) return "an integer";
        if (type == Double.class || type == double.class || type == Float.class || type == float.class
                || type == java.math.BigDecimal.class || type == Number.class) return "a number";
        if (type == Boolean.class || type == boolean.class) return "true or false";
        if (type == String.class) return "a string";
        if (type.isArray() || java.util.Collection.class.isAssignableFrom(type)) return "a list";
        if (java.util.Map.class.isAssignableFrom(type)) return "an object";
        if (type.isEnum()) return "one of " + java.util.Arrays.toString(type.getEnumConstants());
        return "a " + type.getSimpleName();
    }

    private static String valueName(Object value) {
        if (value instanceof JsonNode n) {
            if (n.isArray()) return "a list";
            if (n.isObject()) return "an object";
            return n.toString();   // "two" with its quotes, 3.5, true, null
        }
        return value instanceof String s ? '"' + s + '"' : String.valueOf(value);
    }

    private static String firstLine(String message) {
        return message == null ? "unknown problem" : message.lines().findFirst().orElse("").strip();
    }

    /** The integers listed under {@code key}, or {@code fallback} when the key is absent or null. */
    public static List<Integer> ints(ObjectNode config, String key, List<Integer> fallback) {
        JsonNode list = config.get(key);
        if (list == null || list.isNull()) return fallback;
        List<Integer> values = new ArrayList<>();
        list.forEach(n -> values.add(n.asInt()));
        return values;
    }
}
