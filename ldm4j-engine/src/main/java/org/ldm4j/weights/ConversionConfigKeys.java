package org.ldm4j.weights;

import com.fasterxml.jackson.databind.JsonNode;

/**
 * The config values the LDM ↔ diffusers name maps depend on ({@code layers_per_block}, the length of
 * {@code block_out_channels}, {@code num_hidden_layers}), read strictly: a missing or mistyped key is a
 * {@link WeightFormatException} naming it, never a default, since a wrong count would rename tensors wrongly.
 */
final class ConversionConfigKeys {
    private ConversionConfigKeys() {}

    static int intKey(JsonNode config, String key) {
        JsonNode v = config.get(key);
        if (v == null || !v.canConvertToInt()) throw new WeightFormatException("config key '" + key + "' missing or not an integer");
        return v.intValue();
    }

    /** The length of the non-empty list under {@code key}. */
    static int listLength(JsonNode config, String key) {
        JsonNode v = config.get(key);
        if (v == null || !v.isArray() || v.isEmpty()) throw new WeightFormatException("config key '" + key + "' missing or not a list");
        return v.size();
    }
}
