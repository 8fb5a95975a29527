package org.ldm4j.models.unet;

import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.PropertyNamingStrategies;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Collections;
import java.util.List;

/**
 * diffusers {@code UNet2DConditionModel} config ({@code unet/config.json}): components are the JSON keys in camelCase,
 * read with snake_case naming; unknown keys are ignored, missing keys take diffusers' defaults. Keys that may be a
 * number or a per-block list ({@code attention_head_dim}, {@code layers_per_block}, ...) are lists here, a single
 * number becoming a one-element list; the {@code ...PerBlock} accessors expand them.
 *
 * <p>{@link #validate()} rejects anything this port does not implement (SDXL additions, class embeddings, other block
 * types, scale-shift time conditioning, ...), naming the key and value. Historical quirk kept from diffusers:
 * without {@code num_attention_heads}, {@code attention_head_dim} is the number of heads (SD 1.x: 8 heads).
 */
public record UNet2DConditionConfig(
        List<Integer> sampleSize, Integer inChannels, Integer outChannels, Boolean centerInputSample,
        Boolean flipSinToCos, Double freqShift, List<String> downBlockTypes, String midBlockType,
        List<String> upBlockTypes, List<Boolean> onlyCrossAttention, List<Integer> blockOutChannels,
        List<Integer> layersPerBlock, Integer downsamplePadding, Double midBlockScaleFactor, Double dropout,
        String actFn, Integer normNumGroups, Double normEps, List<Integer> crossAttentionDim,
        List<Integer> transformerLayersPerBlock, Object reverseTransformerLayersPerBlock, Integer encoderHidDim,
        String encoderHidDimType, List<Integer> attentionHeadDim, List<Integer> numAttentionHeads,
        Boolean dualCrossAttention, Boolean useLinearProjection, String classEmbedType, String additionEmbedType,
        Integer numClassEmbeds, Boolean upcastAttention, String resnetTimeScaleShift, Boolean resnetSkipTimeAct,
        Double resnetOutScaleFactor, String timeEmbeddingType, Integer timeEmbeddingDim, String timeEmbeddingActFn,
        String timestepPostAct, Integer timeCondProjDim, Integer convInKernel, Integer convOutKernel,
        String attentionType, Boolean classEmbeddingsConcat, Boolean midBlockOnlyCrossAttention,
        String crossAttentionNorm) {

    private static final ObjectMapper JSON = org.ldm4j.models.DiffusersConfigJson.configMapper()
            .setPropertyNamingStrategy(PropertyNamingStrategies.SNAKE_CASE)
            .configure(DeserializationFeature.ACCEPT_SINGLE_VALUE_AS_ARRAY, true);

    /** SD 1.5's published {@code unet/config.json} (runwayml / stable-diffusion-v1-5). */
    public static final String SD15_JSON = "{\"_class_name\": \"UNet2DConditionModel\", \"act_fn\": \"silu\","
            + " \"attention_head_dim\": 8, \"block_out_channels\": [320, 640, 1280, 1280], \"center_input_sample\": false,"
            + " \"cross_attention_dim\": 768, \"down_block_types\": [\"CrossAttnDownBlock2D\", \"CrossAttnDownBlock2D\","
            + " \"CrossAttnDownBlock2D\", \"DownBlock2D\"], \"downsample_padding\": 1, \"flip_sin_to_cos\": true,"
            + " \"freq_shift\": 0, \"in_channels\": 4, \"layers_per_block\": 2, \"mid_block_scale_factor\": 1,"
            + " \"norm_eps\": 1e-05, \"norm_num_groups\": 32, \"out_channels\": 4, \"sample_size\": 64,"
            + " \"up_block_types\": [\"UpBlock2D\", \"CrossAttnUpBlock2D\", \"CrossAttnUpBlock2D\", \"CrossAttnUpBlock2D\"]}";

    /** diffusers' defaults for absent keys (its {@code __init__} signature). */
    public UNet2DConditionConfig {
        inChannels = or(inChannels, 4);
        outChannels = or(outChannels, 4);
        centerInputSample = or(centerInputSample, false);
        flipSinToCos = or(flipSinToCos, true);
        freqShift = or(freqShift, 0.0);
        downBlockTypes = or(downBlockTypes, List.of("CrossAttnDownBlock2D", "CrossAttnDownBlock2D", "CrossAttnDownBlock2D", "DownBlock2D"));
        upBlockTypes = or(upBlockTypes, List.of("UpBlock2D", "CrossAttnUpBlock2D", "CrossAttnUpBlock2D", "CrossAttnUpBlock2D"));
        onlyCrossAttention = or(onlyCrossAttention, List.of(false));
        blockOutChannels = or(blockOutChannels, List.of(320, 640, 1280, 1280));
        layersPerBlock = or(layersPerBlock, List.of(2));
        downsamplePadding = or(downsamplePadding, 1);
        midBlockScaleFactor = or(midBlockScaleFactor, 1.0);
        dropout = or(dropout, 0.0);
        actFn = or(actFn, "silu");
        normEps = or(normEps, 1e-5);
        crossAttentionDim = or(crossAttentionDim, List.of(1280));
        transformerLayersPerBlock = or(transformerLayersPerBlock, List.of(1));
        attentionHeadDim = or(attentionHeadDim, List.of(8));
        dualCrossAttention = or(dualCrossAttention, false);
        useLinearProjection = or(useLinearProjection, false);
        upcastAttention = or(upcastAttention, false);
        resnetTimeScaleShift = or(resnetTimeScaleShift, "default");
        resnetSkipTimeAct = or(resnetSkipTimeAct, false);
        resnetOutScaleFactor = or(resnetOutScaleFactor, 1.0);
        timeEmbeddingType = or(timeEmbeddingType, "positional");
        convInKernel = or(convInKernel, 3);
        convOutKernel = or(convOutKernel, 3);
        attentionType = or(attentionType, "default");
        classEmbeddingsConcat = or(classEmbeddingsConcat, false);
    }

    private static <T> T or(T value, T fallback) { return value != null ? value : fallback; }

    /** Reads and validates {@code unet/config.json}. */
    public static UNet2DConditionConfig read(Path file) {
        try {
            return parse(Files.readString(file), file.toString());
        } catch (IOException e) {
            throw new IllegalArgumentException("cannot read UNet config " + file + ": " + e.getMessage(), e);
        }
    }

    /** Parses and validates a config; {@code source} names it in error messages. */
    public static UNet2DConditionConfig parse(String json, String source) {
        // the JSON text "null" (or an empty document) is no object, found by DiffusersConfigFuzzTest
        UNet2DConditionConfig c = org.ldm4j.models.DiffusersConfigJson.readRecord(JSON, json, UNet2DConditionConfig.class,
                source + ": not a valid UNet2DConditionModel config");
        c.validate(source);
        org.ldm4j.models.DiffusersConfigJson.warnUnreadKeys(JSON, json, UNet2DConditionConfig.class, source);
        return c;
    }

    /** The keys of {@code json} this config does not read (ignored on load, with a warning naming them). */
    public static List<String> unreadKeys(String json) {
        return org.ldm4j.models.DiffusersConfigJson.unreadKeys(JSON, json, UNet2DConditionConfig.class);
    }

    public static UNet2DConditionConfig sd15() { return parse(SD15_JSON, "SD 1.5 preset"); }

    public UNet2DConditionConfig validate() { return validate("UNet config"); }

    /** Throws naming the first key whose value this port does not implement. */
    public UNet2DConditionConfig validate(String source) {
        // a JSON null inside a list reached equals/unboxing as a NullPointerException (found by DiffusersConfigFuzzTest)
        noNulls(source, "down_block_types", downBlockTypes);
        noNulls(source, "up_block_types", upBlockTypes);
        noNulls(source, "block_out_channels", blockOutChannels);
        noNulls(source, "only_cross_attention", onlyCrossAttention);
        if (sampleSize != null) noNulls(source, "sample_size", sampleSize);
        int n = blockOutChannels.size();
        for (String t : downBlockTypes) {
            if (!t.equals("CrossAttnDownBlock2D") && !t.equals("DownBlock2D")) unsupported(source, "down_block_types", t, "CrossAttnDownBlock2D or DownBlock2D");
        }
        for (String t : upBlockTypes) {
            if (!t.equals("CrossAttnUpBlock2D") && !t.equals("UpBlock2D")) unsupported(source, "up_block_types", t, "CrossAttnUpBlock2D or UpBlock2D");
        }
        if (downBlockTypes.size() != n) mismatch(source, "down_block_types", downBlockTypes.size(), n);
        if (upBlockTypes.size() != n) mismatch(source, "up_block_types", upBlockTypes.size(), n);
        // An absent (or null) mid_block_type is read as diffusers' default mid block: SD configs always name it.
        if (midBlockType != null && !midBlockType.equals("UNetMidBlock2DCrossAttn")) unsupported(source, "mid_block_type", midBlockType, "UNetMidBlock2DCrossAttn");
        if (onlyCrossAttention.contains(Boolean.TRUE)) unsupported(source, "only_cross_attention", onlyCrossAttention, "false");
        if (Boolean.TRUE.equals(midBlockOnlyCrossAttention)) unsupported(source, "mid_block_only_cross_attention", true, "false or null");
        if (dualCrossAttention) unsupported(source, "dual_cross_attention", true, "false");
        if (!actFn.equals("silu")) unsupported(source, "act_fn", actFn, "silu");
        if (normNumGroups != null && normNumGroups < 1) unsupported(source, "norm_num_groups", normNumGroups, "a positive group count");
        if (midBlockScaleFactor != 1.0) unsupported(source, "mid_block_scale_factor", midBlockScaleFactor, "1");
        if (dropout != 0.0) unsupported(source, "dropout", dropout, "0 (dropout is not implemented)");
        if (reverseTransformerLayersPerBlock != null) unsupported(source, "reverse_transformer_layers_per_block", reverseTransformerLayersPerBlock, "null");
        if (encoderHidDim != null) unsupported(source, "encoder_hid_dim", encoderHidDim, "null");
        if (encoderHidDimType != null) unsupported(source, "encoder_hid_dim_type", encoderHidDimType, "null");
        if (classEmbedType != null) unsupported(source, "class_embed_type", classEmbedType, "null");
        if (numClassEmbeds != null) unsupported(source, "num_class_embeds", numClassEmbeds, "null");
        if (additionEmbedType != null) unsupported(source, "addition_embed_type", additionEmbedType, "null");
        if (!resnetTimeScaleShift.equals("default")) unsupported(source, "resnet_time_scale_shift", resnetTimeScaleShift, "default");
        if (resnetSkipTimeAct) unsupported(source, "resnet_skip_time_act", true, "false");
        if (resnetOutScaleFactor != 1.0) unsupported(source, "resnet_out_scale_factor", resnetOutScaleFactor, "1");
        if (!timeEmbeddingType.equals("positional")) unsupported(source, "time_embedding_type", timeEmbeddingType, "positional");
        if (timeEmbeddingActFn != null) unsupported(source, "time_embedding_act_fn", timeEmbeddingActFn, "null");
        if (timestepPostAct != null) unsupported(source, "timestep_post_act", timestepPostAct, "null");
        if (timeCondProjDim != null) unsupported(source, "time_cond_proj_dim", timeCondProjDim, "null");
        if (convInKernel % 2 == 0) unsupported(source, "conv_in_kernel", convInKernel, "an odd kernel size");
        if (convOutKernel % 2 == 0) unsupported(source, "conv_out_kernel", convOutKernel, "an odd kernel size");
        if (!attentionType.equals("default")) unsupported(source, "attention_type", attentionType, "default");
        if (classEmbeddingsConcat) unsupported(source, "class_embeddings_concat", true, "false");
        if (crossAttentionNorm != null) unsupported(source, "cross_attention_norm", crossAttentionNorm, "null");
        // upcast_attention needs nothing: every attention here runs in float32 (SdpaProcessor).
        perBlock(source, "layers_per_block", layersPerBlock);
        perBlock(source, "cross_attention_dim", crossAttentionDim);
        perBlock(source, "transformer_layers_per_block", transformerLayersPerBlock);
        List<Integer> heads = perBlock(source, numAttentionHeads != null ? "num_attention_heads" : "attention_head_dim", headsKey());
        if (normNumGroups == null) unsupported(source, "norm_num_groups", null, "a group count (no-norm output is not implemented)");
        for (int i = 0; i < n; i++) {
            int c = blockOutChannels.get(i);
            if (c % normNumGroups != 0) unsupported(source, "block_out_channels", blockOutChannels, "multiples of norm_num_groups " + normNumGroups);
            if (c % heads.get(i) != 0) unsupported(source, "block_out_channels", blockOutChannels, "multiples of the head counts " + heads);
        }
        return this;
    }

    private List<Integer> headsKey() { return numAttentionHeads != null ? numAttentionHeads : attentionHeadDim; }

    private List<Integer> perBlock(String source, String key, List<Integer> values) {
        int n = blockOutChannels.size();
        // every value is checked, the single one too: "num_attention_heads": 0 reached a division by zero (fuzzing)
        for (Integer v : values) {
            if (v == null || v < 1) unsupported(source, key, values, "positive integers");
        }
        if (values.size() == 1) return Collections.nCopies(n, values.get(0));
        if (values.size() != n) mismatch(source, key, values.size(), n);
        return values;
    }

    private static void noNulls(String source, String key, List<?> values) {
        for (Object v : values) {   // not contains(null): List.of refuses to be asked about null
            if (v == null) throw new IllegalArgumentException(source + ": " + key + " = " + values + " holds a null");
        }
    }

    private static void unsupported(String source, String key, Object value, String expected) {
        throw new IllegalArgumentException(source + ": unsupported " + key + " = " + value + " (ldm4j implements SD 1.x/2.x UNets: "
                + expected + ")");
    }

    private static void mismatch(String source, String key, int got, int n) {
        throw new IllegalArgumentException(source + ": " + key + " has " + got + " entries but block_out_channels has " + n);
    }

    // ---- resolved per-block values ----

    public int blockCount() { return blockOutChannels.size(); }

    /** Attention heads per down block (diffusers: {@code num_attention_heads or attention_head_dim}). */
    public List<Integer> headsPerBlock() { return perBlock("UNet config", "attention_head_dim", headsKey()); }

    public List<Integer> layersPerBlockList() { return perBlock("UNet config", "layers_per_block", layersPerBlock); }

    public List<Integer> crossAttentionDimPerBlock() { return perBlock("UNet config", "cross_attention_dim", crossAttentionDim); }

    public List<Integer> transformerLayersPerBlockList() {
        return perBlock("UNet config", "transformer_layers_per_block", transformerLayersPerBlock);
    }

    /** Width of the time embedding: {@code time_embedding_dim} or 4 x block_out_channels[0]. */
    public int timeEmbedDim() { return timeEmbeddingDim != null ? timeEmbeddingDim : blockOutChannels.get(0) * 4; }

    /** A copy with some keys replaced, given as JSON (for tests and presets): {@code with("{\"in_channels\": 9}")}. */
    public UNet2DConditionConfig with(String jsonOverrides) {
        try {
            com.fasterxml.jackson.databind.node.ObjectNode base = JSON.valueToTree(this);
            base.setAll((com.fasterxml.jackson.databind.node.ObjectNode) JSON.readTree(jsonOverrides));
            return parse(JSON.writeValueAsString(base), "config override " + jsonOverrides);
        } catch (IOException e) {
            throw new IllegalArgumentException("bad config override " + jsonOverrides + ": " + e.getMessage(), e);
        }
    }
}
