package org.ldm4j.models.clip;

import com.fasterxml.jackson.annotation.JsonIgnoreProperties;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.PropertyNamingStrategies;
import com.fasterxml.jackson.databind.annotation.JsonNaming;


/**
 * transformers {@code CLIPVisionConfig}, the {@code vision_config} of a CLIP {@code config.json}. Missing keys take
 * transformers' defaults (ViT-B/32's tower), unknown keys are ignored, an unsupported value fails naming its key.
 */
@JsonNaming(PropertyNamingStrategies.SnakeCaseStrategy.class)
@JsonIgnoreProperties(ignoreUnknown = true)
public record CLIPVisionConfig(
        Integer hiddenSize,
        Integer intermediateSize,
        Integer numHiddenLayers,
        Integer numAttentionHeads,
        Integer numChannels,
        Integer imageSize,
        Integer patchSize,
        String hiddenAct,
        Double layerNormEps) implements CLIPEncoderSpec {

    public CLIPVisionConfig {
        hiddenSize = hiddenSize != null ? hiddenSize : 768;
        intermediateSize = intermediateSize != null ? intermediateSize : 3072;
        numHiddenLayers = numHiddenLayers != null ? numHiddenLayers : 12;
        numAttentionHeads = numAttentionHeads != null ? numAttentionHeads : 12;
        numChannels = numChannels != null ? numChannels : 3;
        imageSize = imageSize != null ? imageSize : 224;
        patchSize = patchSize != null ? patchSize : 32;
        hiddenAct = hiddenAct != null ? hiddenAct : "quick_gelu";
        layerNormEps = layerNormEps != null ? layerNormEps : 1e-5;

        if (!hiddenAct.equals("quick_gelu") && !hiddenAct.equals("gelu")) {
            throw bad("hidden_act", "'" + hiddenAct + "' is not supported (quick_gelu or gelu)");
        }
        if (hiddenSize < 1 || numAttentionHeads < 1 || hiddenSize % numAttentionHeads != 0) {
            throw bad("num_attention_heads", numAttentionHeads + " does not divide hidden_size " + hiddenSize);
        }
        if (intermediateSize < 1) throw bad("intermediate_size", "must be >= 1, got " + intermediateSize);
        if (numHiddenLayers < 1) throw bad("num_hidden_layers", "must be >= 1, got " + numHiddenLayers);
        if (numChannels < 1) throw bad("num_channels", "must be >= 1, got " + numChannels);
        if (patchSize < 1 || imageSize < patchSize || imageSize % patchSize != 0) {
            throw bad("patch_size", patchSize + " must divide image_size " + imageSize);
        }
    }

    private static IllegalArgumentException bad(String key, String why) {
        return new IllegalArgumentException("CLIPVisionConfig: " + key + " " + why);
    }

    /** The vision tower attends to every patch. */
    @Override public boolean causal() { return false; }

    /** Patches per side: image_size / patch_size. */
    public int gridSize() { return imageSize / patchSize; }

    private static final ObjectMapper JSON = org.ldm4j.models.DiffusersConfigJson.configMapper();

    public static CLIPVisionConfig parse(String json) {
        return org.ldm4j.models.DiffusersConfigJson.readRecord(JSON, json, CLIPVisionConfig.class, "CLIPVisionConfig");
    }
}
