package org.ldm4j.models.clip;

import com.fasterxml.jackson.annotation.JsonIgnoreProperties;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.PropertyNamingStrategies;
import com.fasterxml.jackson.databind.annotation.JsonNaming;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * transformers {@code CLIPTextConfig}, the {@code text_encoder/config.json} of a diffusers folder. Missing keys take
 * transformers' defaults, unknown keys (architectures, dropout, projection_dim, ...) are ignored, an unsupported value
 * fails naming its key.
 *
 * @param hiddenAct {@code quick_gelu} (OpenAI CLIP, SD 1.x) or {@code gelu} (exact erf GELU, OpenCLIP)
 * @param eosTokenId 2 in configs written before transformers fixed it; {@link CLIPTextModel} then pools at the
 *                   largest token id, as transformers does for backward compatibility
 */
@JsonNaming(PropertyNamingStrategies.SnakeCaseStrategy.class)
@JsonIgnoreProperties(ignoreUnknown = true)
public record CLIPTextConfig(
        Integer vocabSize,
        Integer hiddenSize,
        Integer intermediateSize,
        Integer numHiddenLayers,
        Integer numAttentionHeads,
        Integer maxPositionEmbeddings,
        String hiddenAct,
        Double layerNormEps,
        Integer bosTokenId,
        Integer eosTokenId,
        Integer padTokenId) implements CLIPEncoderSpec {

    /** Fills transformers' defaults and rejects what the engine does not implement, naming the key. */
    public CLIPTextConfig {
        vocabSize = vocabSize != null ? vocabSize : 49408;
        hiddenSize = hiddenSize != null ? hiddenSize : 512;
        intermediateSize = intermediateSize != null ? intermediateSize : 2048;
        numHiddenLayers = numHiddenLayers != null ? numHiddenLayers : 12;
        numAttentionHeads = numAttentionHeads != null ? numAttentionHeads : 8;
        maxPositionEmbeddings = maxPositionEmbeddings != null ? maxPositionEmbeddings : 77;
        hiddenAct = hiddenAct != null ? hiddenAct : "quick_gelu";
        layerNormEps = layerNormEps != null ? layerNormEps : 1e-5;
        bosTokenId = bosTokenId != null ? bosTokenId : 49406;
        eosTokenId = eosTokenId != null ? eosTokenId : 49407;
        padTokenId = padTokenId != null ? padTokenId : 1;

        if (!hiddenAct.equals("quick_gelu") && !hiddenAct.equals("gelu")) {
            throw bad("hidden_act", "'" + hiddenAct + "' is not supported (quick_gelu or gelu)");
        }
        if (hiddenSize < 1 || numAttentionHeads < 1 || hiddenSize % numAttentionHeads != 0) {
            throw bad("num_attention_heads", numAttentionHeads + " does not divide hidden_size " + hiddenSize);
        }
        if (vocabSize < 1) throw bad("vocab_size", "must be >= 1, got " + vocabSize);
        if (intermediateSize < 1) throw bad("intermediate_size", "must be >= 1, got " + intermediateSize);
        if (numHiddenLayers < 1) throw bad("num_hidden_layers", "must be >= 1, got " + numHiddenLayers);
        if (maxPositionEmbeddings < 1) throw bad("max_position_embeddings", "must be >= 1, got " + maxPositionEmbeddings);
    }

    private static IllegalArgumentException bad(String key, String why) {
        return new IllegalArgumentException("CLIPTextConfig: " + key + " " + why);
    }

    /** The SD 1.x text encoder (OpenAI CLIP ViT-L/14), as in its text_encoder/config.json. */
    public static CLIPTextConfig sd1() {
        return new CLIPTextConfig(49408, 768, 3072, 12, 12, 77, "quick_gelu", 1e-5, 0, 2, 1);
    }

    @Override public int headDim() { return hiddenSize / numAttentionHeads; }

    /** The text tower is causal: padding after the end token never changes the states before it. */
    @Override public boolean causal() { return true; }

    /** Shared: building a mapper and its deserializers costs far more than a parse (thread-safe once set up). */
    private static final ObjectMapper JSON = org.ldm4j.models.DiffusersConfigJson.configMapper();

    public static CLIPTextConfig parse(String json) { return parse(json, "CLIPTextConfig"); }

    /** Parses a config; {@code source} (its file) names it in the one-line error. */
    public static CLIPTextConfig parse(String json, String source) {
        return org.ldm4j.models.DiffusersConfigJson.readRecord(JSON, json, CLIPTextConfig.class, source);
    }

    public static CLIPTextConfig load(Path file) {
        String json;
        try {
            json = Files.readString(file);
        } catch (IOException e) {
            throw new UncheckedIOException(file + ": cannot read CLIP text config: " + e.getMessage(), e);
        }
        return parse(json, file.toString());
    }
}
