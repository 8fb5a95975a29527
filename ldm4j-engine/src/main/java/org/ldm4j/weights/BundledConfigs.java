package org.ldm4j.weights;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.json.JsonMapper;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;

/**
 * The diffusers configs shipped as resources under {@code org/ldm4j/configs/<model>/<file>} (see the README there),
 * needed because single-file checkpoints hold no configs.
 */
public final class BundledConfigs {
    public static final String SD15 = "sd15";
    public static final String SD21 = "sd21";
    private static final JsonMapper JSON = new JsonMapper();

    private BundledConfigs() {}

    /** E.g. {@code load("sd15", "unet/config.json")}; returns a fresh mutable tree. */
    public static JsonNode load(String model, String file) {
        String resource = "/org/ldm4j/configs/" + model + "/" + file;
        try (InputStream in = BundledConfigs.class.getResourceAsStream(resource)) {
            if (in == null) throw new IllegalArgumentException("no bundled config " + resource);
            return JSON.readTree(in);
        } catch (IOException e) {
            throw new UncheckedIOException("reading bundled config " + resource, e);
        }
    }
}
