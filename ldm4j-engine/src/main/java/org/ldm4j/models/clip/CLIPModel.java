package org.ldm4j.models.clip;

import com.fasterxml.jackson.databind.JsonNode;
import org.bytedeco.pytorch.Device;
import org.bytedeco.pytorch.Scalar;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch.ScalarType;
import org.ldm4j.nn.Block;
import org.ldm4j.nn.Linear;
import org.ldm4j.nn.Param;
import org.ldm4j.weights.DiffusersFolder;
import org.ldm4j.weights.WeightLoader;
import org.ldm4j.weights.WeightSource;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * transformers {@code CLIPModel} (Radford et al. 2021): a text tower and a vision tower, each projected without bias
 * into one embedding space where the cosine of an image and a text says how well they match. Used to rank samples
 * (Blended Latent Diffusion's official code ranks with ViT-B/16). Weight names are transformers' keys
 * ({@code text_model.}, {@code vision_model.}, {@code text_projection}, {@code visual_projection}, {@code logit_scale}).
 */
public final class CLIPModel extends Block {
    /** The parsed {@code config.json}: both towers and the shared embedding size. */
    public record Config(CLIPTextConfig text, CLIPVisionConfig vision, int projectionDim) {
        public Config {
            if (projectionDim < 1) throw new IllegalArgumentException("CLIPConfig: projection_dim must be >= 1, got " + projectionDim);
        }

        /** transformers' {@code CLIPConfig} JSON: {@code text_config}, {@code vision_config}, {@code projection_dim} (default 512). */
        public static Config parse(String json) {
            JsonNode root = org.ldm4j.models.DiffusersConfigJson.object(json, "CLIPConfig", "CLIPModel");
            if (!root.has("vision_config")) {
                throw new IllegalArgumentException("CLIPConfig: no vision_config (a CLIP model with both towers is needed, e.g. openai/clip-vit-base-patch16)");
            }
            JsonNode text = root.path("text_config"), vision = root.get("vision_config");
            return new Config(CLIPTextConfig.parse(text.isObject() ? text.toString() : "{}"), CLIPVisionConfig.parse(vision.toString()),
                    root.path("projection_dim").asInt(512));
        }
    }

    private final Config config;
    public final CLIPTextTransformer textModel;
    public final CLIPVisionTransformer visionModel;
    public final Linear visualProjection;
    public final Linear textProjection;
    public final Param logitScale;

    public CLIPModel(Config config) {
        this.config = config;
        textModel = child("text_model", new CLIPTextTransformer(config.text()));
        visionModel = child("vision_model", new CLIPVisionTransformer(config.vision()));
        visualProjection = child("visual_projection", new Linear(config.vision().hiddenSize(), config.projectionDim(), false));
        textProjection = child("text_projection", new Linear(config.text().hiddenSize(), config.projectionDim(), false));
        logitScale = constant("logit_scale", 2.6592);   // log(1 / 0.07), transformers' initial value
    }

    public Config config() { return config; }

    /** CLIP-normalised pixels (B, 3, S, S) -> image embeddings (B, projection_dim), not normalised. */
    public Tensor imageEmbeds(Tensor pixels) {
        return visualProjection.forward(visionModel.forward(pixels).pooledOutput());
    }

    /** Token ids (B, T) -> text embeddings (B, projection_dim), not normalised (pooled at each end token). */
    public Tensor textEmbeds(Tensor ids) {
        return textProjection.forward(textModel.forward(ids, null).pooledOutput());
    }

    /** Cosine similarity of each image with each text: (B_image, B_text). */
    public static Tensor cosine(Tensor imageEmbeds, Tensor textEmbeds) {
        Tensor i = imageEmbeds.div(imageEmbeds.norm(new org.bytedeco.pytorch.ScalarOptional(new Scalar(2.0)), new long[]{-1}, true));
        Tensor t = textEmbeds.div(textEmbeds.norm(new org.bytedeco.pytorch.ScalarOptional(new Scalar(2.0)), new long[]{-1}, true));
        return i.matmul(t.t());
    }

    /**
     * A transformers CLIP folder ({@code config.json} and {@code model.safetensors}, or {@code pytorch_model.bin}
     * read weights-only), every weight checked by name and shape; the {@code position_ids} buffers of older saves
     * are skipped.
     */
    public static CLIPModel load(Path folder, Device device, ScalarType dtype) throws IOException {
        Path configFile = folder.resolve("config.json");
        if (!Files.isRegularFile(configFile)) throw new IOException(folder + " is not a CLIP folder: it has no config.json");
        Config config;
        try {
            config = Config.parse(Files.readString(configFile));
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException(configFile + ": " + e.getMessage(), e);
        }
        CLIPModel model = Block.withoutInit(() -> new CLIPModel(config));
        model.to(device, dtype);
        try (WeightSource weights = DiffusersFolder.findWeights(folder, null)) {
            WeightLoader.load(model, weights, "clip", name -> name.endsWith("position_ids"));
        }
        return model;
    }
}
