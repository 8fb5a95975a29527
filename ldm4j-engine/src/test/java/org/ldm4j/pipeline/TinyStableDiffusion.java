package org.ldm4j.pipeline;

import com.fasterxml.jackson.databind.ObjectMapper;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch;
import org.bytedeco.pytorch.global.torch.ScalarType;
import org.ldm4j.models.clip.CLIPTextConfig;
import org.ldm4j.models.clip.CLIPTextModel;
import org.ldm4j.models.clip.CLIPTokenizer;
import org.ldm4j.models.unet.UNet2DConditionConfig;
import org.ldm4j.models.unet.UNet2DConditionModel;
import org.ldm4j.models.vae.AutoencoderKL;
import org.ldm4j.models.vae.AutoencoderKLConfig;
import org.ldm4j.nn.Block;
import org.ldm4j.nn.Dtypes;
import org.ldm4j.weights.DiffusersFolder;
import org.ldm4j.weights.DiffusersToLdm;
import org.ldm4j.weights.SafetensorsWriter;
import org.ldm4j.weights.TorchZipWriter;
import org.ldm4j.weights.WeightSource;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * A tiny random Stable Diffusion written as a diffusers folder with ldm4j's own writer: the fixture every
 * pipeline and CLI test loads through the real loading path (seeded, so the weights are the same every run).
 */
public final class TinyStableDiffusion {
    public static final List<String> WORDS = List.of("a", "red", "blue", "house", "tree", "boat", "lake", "sky", "tall", "small");

    public static final String UNET = """
            {"_class_name": "UNet2DConditionModel", "sample_size": 8, "in_channels": 4, "out_channels": 4,
             "down_block_types": ["CrossAttnDownBlock2D", "DownBlock2D"], "up_block_types": ["UpBlock2D", "CrossAttnUpBlock2D"],
             "block_out_channels": [32, 64], "layers_per_block": 1, "cross_attention_dim": 32, "attention_head_dim": 4,
             "norm_num_groups": 16, "norm_eps": 1e-05, "flip_sin_to_cos": true, "freq_shift": 0}
            """;
    public static final String VAE = """
            {"_class_name": "AutoencoderKL", "in_channels": 3, "out_channels": 3,
             "down_block_types": ["DownEncoderBlock2D", "DownEncoderBlock2D"], "up_block_types": ["UpDecoderBlock2D", "UpDecoderBlock2D"],
             "block_out_channels": [16, 32], "layers_per_block": 1, "latent_channels": 4, "norm_num_groups": 8,
             "sample_size": 16, "scaling_factor": 0.5}
            """;
    public static final String TEXT = """
            {"architectures": ["CLIPTextModel"], "hidden_size": 32, "intermediate_size": 64, "num_hidden_layers": 2,
             "num_attention_heads": 4, "max_position_embeddings": 77, "hidden_act": "quick_gelu", "layer_norm_eps": 1e-05,
             "vocab_size": %d, "bos_token_id": %d, "eos_token_id": %d, "pad_token_id": %d}
            """;
    public static final String SCHEDULER = """
            {"_class_name": "PNDMScheduler", "beta_start": 0.00085, "beta_end": 0.012, "beta_schedule": "scaled_linear",
             "num_train_timesteps": 1000, "set_alpha_to_one": false, "skip_prk_steps": true, "steps_offset": 1, "clip_sample": false}
            """;
    static final String MODEL_INDEX = """
            {"_class_name": "StableDiffusionPipeline", "scheduler": ["diffusers", "PNDMScheduler"],
             "text_encoder": ["transformers", "CLIPTextModel"], "tokenizer": ["transformers", "CLIPTokenizer"],
             "unet": ["diffusers", "UNet2DConditionModel"], "vae": ["diffusers", "AutoencoderKL"],
             "safety_checker": [null, null], "feature_extractor": [null, null]}
            """;

    private TinyStableDiffusion() {}

    /** Writes the tiny model into {@code root} and loads it on the CPU in float32, as most tests want it. */
    public static StableDiffusion load(Path root, long seed) throws IOException {
        return ModelLoader.load(write(root, seed).toString(), Dtypes.device("cpu"), ScalarType.Float);
    }

    /** Copies a model folder (files and sub-folders, replacing what is there) to damage or recombine it in a test. */
    public static void copyTree(Path from, Path to) throws IOException {
        try (var paths = java.nio.file.Files.walk(from)) {
            for (Path p : paths.toList()) {
                Path target = to.resolve(from.relativize(p).toString());
                if (java.nio.file.Files.isDirectory(p)) java.nio.file.Files.createDirectories(target);
                else java.nio.file.Files.copy(p, target, java.nio.file.StandardCopyOption.REPLACE_EXISTING);
            }
        }
    }

    /** Writes the tiny model (16x16 images, 8x8 latents... VAE factor 2) into {@code root}; returns root. */
    public static Path write(Path root, long seed) throws IOException {
        Files.createDirectories(root.resolve("tokenizer"));
        CLIPTokenizer.writeWordLevelVocab(WORDS, root.resolve("tokenizer"));
        CLIPTokenizer tokenizer = CLIPTokenizer.load(root.resolve("tokenizer"));
        String text = TEXT.formatted(tokenizer.vocabSize(), tokenizer.bosId(), tokenizer.eosId(), tokenizer.padId());
        torch.manual_seed(seed);
        write(root, "unet", UNET, new UNet2DConditionModel(UNet2DConditionConfig.parse(UNET, "tiny")), "diffusion_pytorch_model.safetensors");
        write(root, "vae", VAE, new AutoencoderKL(AutoencoderKLConfig.parse(VAE)), "diffusion_pytorch_model.safetensors");
        write(root, "text_encoder", text, new CLIPTextModel(CLIPTextConfig.parse(text)), "model.safetensors");
        Files.createDirectories(root.resolve("scheduler"));
        Files.writeString(root.resolve("scheduler/scheduler_config.json"), SCHEDULER);
        Files.writeString(root.resolve("model_index.json"), MODEL_INDEX);
        return root;
    }

    /**
     * The same tiny model as one original-LDM single file, as users get SD checkpoints: writes the diffusers folder
     * to {@code dir/diffusers}, converts it with {@link DiffusersToLdm} to {@code dir/single/<fileName>}
     * ({@code .safetensors}, or {@code .ckpt} in the torch.save zip format), copies the tokenizer beside it
     * ({@code dir/single/tokenizer/}) and the component configs alone to {@code dir/configs} (for
     * {@code --config-from}). Returns the checkpoint file.
     */
    public static Path writeSingleFile(Path dir, long seed, String fileName) throws IOException {
        Path folder = write(dir.resolve("diffusers"), seed);
        Path single = dir.resolve("single");
        Files.createDirectories(single.resolve("tokenizer"));
        Path file = single.resolve(fileName);
        DiffusersFolder diffusers = DiffusersFolder.open(folder);
        if (fileName.endsWith(".safetensors")) {
            DiffusersToLdm.writeSingleFile(diffusers, file);
        } else {
            try (WeightSource ldm = DiffusersToLdm.checkpoint(diffusers)) {
                Map<String, Tensor> all = new LinkedHashMap<>();
                for (String n : ldm.names()) all.put(n, ldm.read(n));
                TorchZipWriter.write(file, all);
            }
        }
        for (String f : List.of("vocab.json", "merges.txt")) Files.copy(folder.resolve("tokenizer").resolve(f), single.resolve("tokenizer").resolve(f));
        for (String f : List.of("unet/config.json", "vae/config.json", "text_encoder/config.json", "scheduler/scheduler_config.json")) {
            Path to = dir.resolve("configs").resolve(f);
            Files.createDirectories(to.getParent());
            Files.copy(folder.resolve(f), to);
        }
        return file;
    }

    private static void write(Path root, String component, String config, Block model, String file) throws IOException {
        Path dir = root.resolve(component);
        Files.createDirectories(dir);
        Files.writeString(dir.resolve("config.json"), new ObjectMapper().readTree(config).toPrettyString());
        Map<String, Tensor> weights = model.stateDict();
        SafetensorsWriter.write(dir.resolve(file), weights, Map.of("format", "pt"));
    }
}
