package org.ldm4j.models.clip;

import org.bytedeco.pytorch.Tensor;
import org.ldm4j.nn.Block;
import org.ldm4j.nn.LayerNorm;

/**
 * transformers {@code CLIPVisionTransformer} (the {@code vision_model} of a CLIP model): patch embeddings, a layer norm
 * before the encoder ({@code pre_layrnorm}, transformers' spelling), the stack of {@link CLIPEncoderLayer}s attending
 * to every patch, and the class token's state after {@code post_layernorm} as the pooled output.
 */
public final class CLIPVisionTransformer extends Block {
    /** @param lastHiddenState (B, 1 + grid², C) before the post layer norm; @param pooledOutput (B, C) */
    public record Output(Tensor lastHiddenState, Tensor pooledOutput) {}

    private final CLIPVisionConfig config;
    public final CLIPVisionEmbeddings embeddings;
    public final LayerNorm preLayrnorm;
    public final CLIPTextTransformer.CLIPEncoder encoder;
    public final LayerNorm postLayernorm;

    public CLIPVisionTransformer(CLIPVisionConfig config) {
        this.config = config;
        embeddings = child("embeddings", new CLIPVisionEmbeddings(config));
        preLayrnorm = child("pre_layrnorm", new LayerNorm(config.hiddenSize(), config.layerNormEps()));
        encoder = child("encoder", new CLIPTextTransformer.CLIPEncoder());
        for (int i = 0; i < config.numHiddenLayers(); i++) encoder.layers.add(new CLIPEncoderLayer(config));
        postLayernorm = child("post_layernorm", new LayerNorm(config.hiddenSize(), config.layerNormEps()));
    }

    public CLIPVisionConfig config() { return config; }

    /** pixels (B, channels, image_size, image_size), CLIP-normalised. */
    public Output forward(Tensor pixels) {
        Tensor h = preLayrnorm.forward(embeddings.forward(pixels));
        for (CLIPEncoderLayer layer : encoder.layers.items()) h = layer.forward(h, null);
        Tensor pooled = postLayernorm.forward(h.select(1, 0));
        return new Output(h, pooled);
    }
}
