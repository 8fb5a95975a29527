package org.ldm4j.weights;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import org.bytedeco.pytorch.Tensor;
import org.ldm4j.models.clip.CLIPTokenizer;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Set;

/**
 * An original-LDM single-file checkpoint (one {@code .safetensors}, or a {@code .ckpt} read weights-only by
 * {@link TorchCheckpoint}, holding UNet, VAE and text encoder under
 * {@code model.diffusion_model.}, {@code first_stage_model.}, {@code cond_stage_model.}) seen as three diffusers-named
 * sources, plus the detected model type and its bundled configs.
 *
 * <p>Detection follows diffusers {@code infer_diffusers_model_type}: inpainting when
 * {@code input_blocks.0.0.weight} has 9 input channels; v2 when
 * {@code input_blocks.2.1.transformer_blocks.0.attn2.to_k.weight} has last dim 1024; v1 otherwise.
 */
public final class SingleFileCheckpoint implements AutoCloseable {
    public enum ModelType {
        V1(BundledConfigs.SD15), V2(BundledConfigs.SD21), INPAINTING(BundledConfigs.SD15), INPAINTING_V2(BundledConfigs.SD21);

        private final String configs;

        ModelType(String configs) { this.configs = configs; }

        /** The bundled config set ("sd15", "sd21"). */
        public String configs() { return configs; }
    }

    static final String INPAINT_KEY = LdmToDiffusers.UNET_PREFIX + "input_blocks.0.0.weight";
    static final String V2_KEY = LdmToDiffusers.UNET_PREFIX + "input_blocks.2.1.transformer_blocks.0.attn2.to_k.weight";

    private final Path path;
    private final WeightSource file;
    private final ModelType type;
    private final JsonNode unetConfig, vaeConfig, textEncoderConfig;
    private JsonNode schedulerConfig;   // null: the bundled one of the detected type
    private final WeightSource unet, vae, textEncoder;

    private SingleFileCheckpoint(Path path, WeightSource file, ModelType type, JsonNode unetConfig, JsonNode vaeConfig,
                                 JsonNode textEncoderConfig) {
        this.path = path;
        this.file = file;
        this.type = type;
        this.unetConfig = unetConfig;
        this.vaeConfig = vaeConfig;
        this.textEncoderConfig = textEncoderConfig;
        WeightSource shared = new Borrowed(file);
        this.unet = LdmToDiffusers.unet(shared, ConversionConfigKeys.intKey(unetConfig, "layers_per_block"));
        this.vae = LdmToDiffusers.vae(shared, ConversionConfigKeys.listLength(vaeConfig, "block_out_channels"));
        boolean openClip = file.names().stream().anyMatch(n -> n.startsWith(LdmToDiffusers.OPEN_CLIP_PREFIX));
        this.textEncoder = openClip
                ? LdmToDiffusers.openClipTextModel(shared, ConversionConfigKeys.intKey(textEncoderConfig, "num_hidden_layers"))
                : LdmToDiffusers.clipTextModel(shared);
    }

    /** Opens a checkpoint, detects its type and uses the bundled SD 1.5 / SD 2.1 configs. */
    public static SingleFileCheckpoint open(Path path) throws IOException {
        WeightSource file = openFile(path);
        try {
            ModelType type = detect(file);
            ObjectNode unetConfig = (ObjectNode) BundledConfigs.load(type.configs(), "unet/config.json");
            unetConfig.put("in_channels", file.info(INPAINT_KEY).dim(1));
            return new SingleFileCheckpoint(path, file, type, unetConfig,
                    BundledConfigs.load(type.configs(), "vae/config.json"),
                    BundledConfigs.load(type.configs(), "text_encoder/config.json"));
        } catch (RuntimeException e) {
            file.close();
            throw e;
        }
    }

    /** Opens a checkpoint with the given diffusers configs (tiny test models, fine-tunes with other shapes). */
    public static SingleFileCheckpoint open(Path path, JsonNode unetConfig, JsonNode vaeConfig, JsonNode textEncoderConfig)
            throws IOException {
        WeightSource file = openFile(path);
        try {
            return new SingleFileCheckpoint(path, file, detect(file), unetConfig, vaeConfig, textEncoderConfig);
        } catch (RuntimeException e) {
            file.close();
            throw e;
        }
    }

    /**
     * Opens a checkpoint with the configs of a diffusers-layout folder ({@code unet/config.json},
     * {@code vae/config.json}, {@code text_encoder/config.json}, optionally {@code scheduler/scheduler_config.json}),
     * as diffusers' {@code from_single_file(..., config=...)} does; for fine-tunes of other shapes and tiny models.
     */
    public static SingleFileCheckpoint open(Path path, Path configFolder) throws IOException {
        JsonNode unet = componentConfig(configFolder, "unet/config.json");
        JsonNode vae = componentConfig(configFolder, "vae/config.json");
        JsonNode text = componentConfig(configFolder, "text_encoder/config.json");
        SingleFileCheckpoint ckpt = open(path, unet, vae, text);
        Path scheduler = configFolder.resolve("scheduler/scheduler_config.json");
        if (Files.isRegularFile(scheduler)) ckpt.schedulerConfig = DiffusersFolder.readJson(scheduler);
        return ckpt;
    }

    private static JsonNode componentConfig(Path folder, String file) throws IOException {
        Path p = folder.resolve(file);
        if (!Files.isRegularFile(p)) throw new WeightFormatException(folder + ": config folder has no " + file);
        return DiffusersFolder.readJson(p);
    }

    private static WeightSource openFile(Path path) throws IOException {
        if (!Files.isRegularFile(path)) throw new WeightFormatException(path + ": no such file");
        WeightSource file = WeightSource.open(path);
        if (!file.names().contains(INPAINT_KEY)) {
            file.close();
            throw new WeightFormatException(path + ": not an original-LDM Stable Diffusion checkpoint (no '" + INPAINT_KEY
                    + "'); a diffusers folder loads with DiffusersFolder");
        }
        return file;
    }

    public static ModelType detect(WeightSource checkpoint) {
        boolean v2 = checkpoint.contains(V2_KEY) && checkpoint.info(V2_KEY).dim(-1) == 1024;
        boolean inpaint = checkpoint.contains(INPAINT_KEY) && checkpoint.info(INPAINT_KEY).rank() == 4
                && checkpoint.info(INPAINT_KEY).dim(1) == 9;
        if (inpaint) return v2 ? ModelType.INPAINTING_V2 : ModelType.INPAINTING;
        return v2 ? ModelType.V2 : ModelType.V1;
    }

    public ModelType modelType() { return type; }

    public Path path() { return path; }

    /** UNet2DConditionModel weights in diffusers names. */
    public WeightSource unet() { return unet; }

    /** AutoencoderKL weights in diffusers names. */
    public WeightSource vae() { return vae; }

    /** CLIPTextModel weights in transformers names. */
    public WeightSource textEncoder() { return textEncoder; }

    public JsonNode unetConfig() { return unetConfig; }

    public JsonNode vaeConfig() { return vaeConfig; }

    public JsonNode textEncoderConfig() { return textEncoderConfig; }

    public JsonNode schedulerConfig() {
        return schedulerConfig != null ? schedulerConfig.deepCopy() : BundledConfigs.load(type.configs(), "scheduler/scheduler_config.json");
    }

    /**
     * The tokenizer folder to use with this checkpoint: {@code folder} if it holds CLIP's vocab.json and merges.txt
     * (or a tokenizers {@code tokenizer.json}).
     * The checkpoint itself carries none and ldm4j does not bundle them, so without a folder this fails, saying where
     * to get one.
     */
    public Path tokenizerFolder(Path folder) {
        if (folder != null && CLIPTokenizer.isTokenizerFolder(folder)) {
            return folder;
        }
        String repo = type.configs().equals(BundledConfigs.SD21) ? "stabilityai/stable-diffusion-2-1 (tokenizer/)"
                : "openai/clip-vit-large-patch14, or stable-diffusion-v1-5/stable-diffusion-v1-5 (tokenizer/)";
        throw new WeightFormatException(path() + ": a single-file checkpoint carries no tokenizer, and CLIP's vocab.json"
                + " and merges.txt are not bundled with ldm4j. Give a tokenizer folder holding both"
                + (folder != null ? " (" + folder + " does not)" : "") + ", e.g. from the Hugging Face cache: " + repo);
    }

    @Override public void close() { file.close(); }

    /** A view that leaves closing to the checkpoint, so the three component views share one open file. */
    private static final class Borrowed implements WeightSource {
        private final WeightSource source;

        Borrowed(WeightSource source) { this.source = source; }

        @Override public Set<String> names() { return source.names(); }

        @Override public TensorInfo info(String name) { return source.info(name); }

        @Override public Tensor read(String name) { return source.read(name); }

        @Override public void close() {}

        @Override public String toString() { return source.toString(); }
    }
}
