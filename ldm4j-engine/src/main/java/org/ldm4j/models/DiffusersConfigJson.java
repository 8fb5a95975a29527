package org.ldm4j.models;

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
            throw new IllegalArgumentException(source + ": invalid JSON: " + e.getMessage(), e);
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

    /** The integers listed under {@code key}, or {@code fallback} when the key is absent or null. */
    public static List<Integer> ints(ObjectNode config, String key, List<Integer> fallback) {
        JsonNode list = config.get(key);
        if (list == null || list.isNull()) return fallback;
        List<Integer> values = new ArrayList<>();
        list.forEach(n -> values.add(n.asInt()));
        return values;
    }
}
