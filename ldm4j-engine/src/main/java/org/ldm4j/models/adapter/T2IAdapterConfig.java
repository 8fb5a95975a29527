package org.ldm4j.models.adapter;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import org.ldm4j.models.DiffusersConfigJson;

import java.nio.file.Path;
import java.util.List;

/**
 * diffusers {@code T2IAdapter} config ({@code config.json}): {@code in_channels} (3, or 1 for sketch), {@code channels}
 * per level, {@code num_res_blocks} per level, {@code downscale_factor} of the PixelUnshuffle, {@code adapter_type}
 * ({@code full_adapter} or {@code light_adapter}; the SDXL {@code full_adapter_xl} is not implemented).
 */
public record T2IAdapterConfig(int inChannels, List<Integer> channels, int numResBlocks, int downscaleFactor, String adapterType) {
    public static final String CLASS_NAME = "T2IAdapter";
    public static final String FULL = "full_adapter", LIGHT = "light_adapter";
    private static final ObjectMapper JSON = new ObjectMapper();

    public T2IAdapterConfig {
        channels = List.copyOf(channels);
        if (!adapterType.equals(FULL) && !adapterType.equals(LIGHT)) {
            throw new IllegalArgumentException("unsupported adapter_type '" + adapterType + "' (ldm4j implements "
                    + FULL + " and " + LIGHT + " for SD 1.x/2.x)");
        }
        if (channels.isEmpty() || numResBlocks < 1 || downscaleFactor < 1 || inChannels < 1) {
            throw new IllegalArgumentException("invalid T2IAdapter config: in_channels " + inChannels + ", channels " + channels
                    + ", num_res_blocks " + numResBlocks + ", downscale_factor " + downscaleFactor);
        }
    }

    /** diffusers' defaults: the SD 1.5 full adapter. */
    public static T2IAdapterConfig sd15(int inChannels) {
        return new T2IAdapterConfig(inChannels, List.of(320, 640, 1280, 1280), 2, 8, FULL);
    }

    public static T2IAdapterConfig read(Path file) {
        return parse(DiffusersConfigJson.read(file, "T2IAdapter config"), file.toString());
    }

    public static T2IAdapterConfig parse(String json, String source) {
        ObjectNode n = DiffusersConfigJson.object(json, source, CLASS_NAME);
        List<Integer> channels = DiffusersConfigJson.ints(n, "channels", List.of(320, 640, 1280, 1280));
        try {
            return new T2IAdapterConfig(n.path("in_channels").asInt(3), channels, n.path("num_res_blocks").asInt(2),
                    n.path("downscale_factor").asInt(8), n.path("adapter_type").asText(FULL));
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException(source + ": " + e.getMessage(), e);
        }
    }

    public String toJson() {
        ObjectNode n = JSON.createObjectNode();
        n.put("_class_name", CLASS_NAME);
        n.put("in_channels", inChannels);
        ArrayNode c = n.putArray("channels");
        channels.forEach(c::add);
        n.put("num_res_blocks", numResBlocks);
        n.put("downscale_factor", downscaleFactor);
        n.put("adapter_type", adapterType);
        return n.toPrettyString();
    }
}
