package org.ldm4j.models.controlnet;

import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.PropertyNamingStrategies;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import org.ldm4j.models.DiffusersConfigJson;
import org.ldm4j.models.unet.UNet2DConditionConfig;

import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * diffusers {@code ControlNetModel} config ({@code config.json}). The encoder keys (block types and channels, heads,
 * cross-attention width, ...) mean what they mean for the UNet, so they are read into a {@link UNet2DConditionConfig}
 * (with the up path mirrored, which the ControlNet has not, so that the UNet validation applies); the keys only a
 * ControlNet has are components here.
 *
 * @param encoder                           the UNet encoder part (down blocks, mid block, time embedding)
 * @param conditioningChannels              channels of the control image (3)
 * @param channelOrder                      "rgb" or "bgr" (bgr flips the hint's channels first)
 * @param conditioningEmbeddingOutChannels  hint encoder widths, (16, 32, 96, 256) for SD; one stride-2 conv per step
 * @param globalPoolConditions              residuals averaged over space (shuffle ControlNets); implies guess mode
 */
public record ControlNetConfig(UNet2DConditionConfig encoder, int conditioningChannels, String channelOrder,
                               List<Integer> conditioningEmbeddingOutChannels, boolean globalPoolConditions) {
    public static final String CLASS_NAME = "ControlNetModel";
    static final ObjectMapper JSON = org.ldm4j.models.DiffusersConfigJson.configMapper()
            .setPropertyNamingStrategy(PropertyNamingStrategies.SNAKE_CASE)
            .configure(DeserializationFeature.ACCEPT_SINGLE_VALUE_AS_ARRAY, true);

    public ControlNetConfig {
        if (conditioningEmbeddingOutChannels == null || conditioningEmbeddingOutChannels.isEmpty()) {
            throw new IllegalArgumentException("conditioning_embedding_out_channels must list at least one width");
        }
        if (!channelOrder.equals("rgb") && !channelOrder.equals("bgr")) {
            throw new IllegalArgumentException("unknown controlnet_conditioning_channel_order '" + channelOrder + "' (rgb or bgr)");
        }
        if (conditioningChannels < 1) throw new IllegalArgumentException("conditioning_channels must be >= 1");
        conditioningEmbeddingOutChannels = List.copyOf(conditioningEmbeddingOutChannels);
    }

    /** Pixels of the hint per latent cell: 2^(number of stride-2 convs of the hint encoder), 8 for SD. */
    public int hintDownscale() { return 1 << (conditioningEmbeddingOutChannels.size() - 1); }

    public static ControlNetConfig read(Path file) {
        return parse(DiffusersConfigJson.read(file, "ControlNet config"), file.toString());
    }

    /** Parses {@code config.json}; a config of another class (a UNet, a T2I-Adapter) is rejected by name. */
    public static ControlNetConfig parse(String json, String source) {
        ObjectNode obj = DiffusersConfigJson.object(json, source, CLASS_NAME);
        ObjectNode encoder = obj.deepCopy();
        ArrayNode up = encoder.arrayNode();
        List<String> down = new ArrayList<>();
        JsonNode downTypes = obj.get("down_block_types");
        if (downTypes != null) downTypes.forEach(n -> down.add(n.asText()));
        else down.addAll(List.of("CrossAttnDownBlock2D", "CrossAttnDownBlock2D", "CrossAttnDownBlock2D", "DownBlock2D"));
        for (int i = down.size() - 1; i >= 0; i--) up.add(down.get(i).equals("CrossAttnDownBlock2D") ? "CrossAttnUpBlock2D" : "UpBlock2D");
        encoder.set("up_block_types", up);
        encoder.put("_class_name", "UNet2DConditionModel");
        if (!encoder.hasNonNull("norm_num_groups")) encoder.put("norm_num_groups", 32);   // diffusers' ControlNet default
        UNet2DConditionConfig unet = UNet2DConditionConfig.parse(encoder.toString(), source);
        List<Integer> hint = DiffusersConfigJson.ints(obj, "conditioning_embedding_out_channels", List.of(16, 32, 96, 256));
        boolean pool = obj.path("global_pool_conditions").asBoolean(false);
        return new ControlNetConfig(unet, obj.path("conditioning_channels").asInt(3),
                obj.path("controlnet_conditioning_channel_order").asText("rgb"), hint, pool);
    }

    /** diffusers {@code ControlNetModel.from_unet}: the UNet's encoder keys plus the given hint encoder. */
    public static ControlNetConfig fromUnet(UNet2DConditionConfig unet, List<Integer> conditioningEmbeddingOutChannels,
                                            int conditioningChannels) {
        return new ControlNetConfig(unet, conditioningChannels, "rgb", conditioningEmbeddingOutChannels, false);
    }

    /** The same config with another hint encoder. */
    public ControlNetConfig withHint(List<Integer> widths) {
        return new ControlNetConfig(encoder, conditioningChannels, channelOrder, widths, globalPoolConditions);
    }

    /**
     * The arguments of diffusers' {@code ControlNetModel.__init__}: the UNet keys it does not take (the up path,
     * {@code dropout}, {@code conv_in_kernel}, ...) are left out of {@link #toJson}, as diffusers writes them.
     */
    static final List<String> DIFFUSERS_KEYS = List.of("in_channels", "conditioning_channels", "flip_sin_to_cos",
            "freq_shift", "down_block_types", "mid_block_type", "only_cross_attention", "block_out_channels",
            "layers_per_block", "downsample_padding", "mid_block_scale_factor", "act_fn", "norm_num_groups", "norm_eps",
            "cross_attention_dim", "transformer_layers_per_block", "encoder_hid_dim", "encoder_hid_dim_type",
            "attention_head_dim", "num_attention_heads", "use_linear_projection", "class_embed_type",
            "addition_embed_type", "addition_time_embed_dim", "num_class_embeds", "upcast_attention",
            "resnet_time_scale_shift", "projection_class_embeddings_input_dim", "controlnet_conditioning_channel_order",
            "conditioning_embedding_out_channels", "global_pool_conditions", "addition_embed_type_num_heads");

    /** Per-block keys diffusers takes as one value for all blocks or as a list as long as {@code down_block_types}. */
    private static final List<String> PER_BLOCK_KEYS = List.of("only_cross_attention", "layers_per_block",
            "cross_attention_dim", "transformer_layers_per_block", "attention_head_dim", "num_attention_heads");

    /**
     * The config as diffusers writes it ({@code _class_name} ControlNetModel, no up path), loadable by diffusers'
     * {@code ControlNetModel.from_pretrained}: only its keys, and a one-element per-block list as a single value
     * (diffusers rejects a list shorter than the down blocks, which our reader takes as "the same for all").
     */
    public String toJson() {
        ObjectNode n = JSON.valueToTree(encoder);
        List<String> foreign = new ArrayList<>();
        n.fieldNames().forEachRemaining(k -> { if (!DIFFUSERS_KEYS.contains(k)) foreign.add(k); });
        n.remove(foreign);
        for (String k : PER_BLOCK_KEYS) {
            if (n.get(k) instanceof ArrayNode list && list.size() == 1) n.set(k, list.get(0));
        }
        n.put("_class_name", CLASS_NAME);
        n.put("conditioning_channels", conditioningChannels);
        n.put("controlnet_conditioning_channel_order", channelOrder);
        ArrayNode hint = n.putArray("conditioning_embedding_out_channels");
        conditioningEmbeddingOutChannels.forEach(hint::add);
        n.put("global_pool_conditions", globalPoolConditions);
        try {
            return JSON.writerWithDefaultPrettyPrinter().writeValueAsString(withoutNulls(n));
        } catch (IOException e) {
            throw new IllegalStateException(e);
        }
    }

    private static ObjectNode withoutNulls(ObjectNode n) {
        List<String> nulls = new ArrayList<>();
        n.fields().forEachRemaining(e -> { if (e.getValue().isNull()) nulls.add(e.getKey()); });
        n.remove(nulls);
        return n;
    }
}
