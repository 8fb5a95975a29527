package org.ldm4j.models;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * The reading steps a hand-parsed diffusers {@code config.json} shares (ControlNet, T2I-Adapter): the file's text,
 * a JSON object whose {@code _class_name} (if present) is the expected class, and integer lists with diffusers'
 * defaults. Each problem is an IllegalArgumentException naming the file or source.
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

    /** The integers listed under {@code key}, or {@code fallback} when the key is absent or null. */
    public static List<Integer> ints(ObjectNode config, String key, List<Integer> fallback) {
        JsonNode list = config.get(key);
        if (list == null || list.isNull()) return fallback;
        List<Integer> values = new ArrayList<>();
        list.forEach(n -> values.add(n.asInt()));
        return values;
    }
}
