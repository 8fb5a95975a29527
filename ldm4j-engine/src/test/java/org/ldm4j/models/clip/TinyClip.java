package org.ldm4j.models.clip;

import org.bytedeco.pytorch.Scalar;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch;
import org.ldm4j.weights.SafetensorsWriter;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/** A tiny random CLIP (both towers) written as a transformers folder, with a word-level CLIP tokenizer beside it. */
public final class TinyClip {
    public static final List<String> WORDS = List.of("a", "red", "blue", "house", "tree", "boat", "lake", "car");

    /** config.json as transformers writes a CLIPModel's; %d: vocab size, eos id. */
    public static final String JSON = """
            {"architectures": ["CLIPModel"], "model_type": "clip", "projection_dim": 16, "logit_scale_init_value": 2.6592,
             "text_config": {"vocab_size": %d, "hidden_size": 32, "intermediate_size": 64, "num_hidden_layers": 2,
                             "num_attention_heads": 4, "max_position_embeddings": 77, "eos_token_id": %d, "hidden_act": "quick_gelu"},
             "vision_config": {"hidden_size": 24, "intermediate_size": 48, "num_hidden_layers": 2, "num_attention_heads": 4,
                               "image_size": 32, "patch_size": 8, "hidden_act": "quick_gelu", "dropout": 0.0}}
            """;

    private TinyClip() {}

    /** Writes the folder (with the position_ids buffers of older saves) and returns the model it holds. */
    public static CLIPModel write(Path folder) throws Exception {
        Files.createDirectories(folder);
        CLIPTokenizer.writeWordLevelVocab(WORDS, folder);
        CLIPTokenizer tokenizer = CLIPTokenizer.load(folder);
        String json = JSON.formatted(tokenizer.vocabSize(), tokenizer.eosId());
        Files.writeString(folder.resolve("config.json"), json);
        CLIPModel model = new CLIPModel(CLIPModel.Config.parse(json));
        Map<String, Tensor> weights = new LinkedHashMap<>(model.stateDict());
        weights.put("text_model.embeddings.position_ids", torch.arange(new Scalar(77)).view(1, 77));
        weights.put("vision_model.embeddings.position_ids", torch.arange(new Scalar(17)).view(1, 17));
        SafetensorsWriter.write(folder.resolve("model.safetensors"), weights, Map.of("format", "pt"));
        return model;
    }
}
