package org.ldm4j.pipeline;

import com.fasterxml.jackson.databind.JsonNode;
import org.bytedeco.pytorch.Device;
import org.bytedeco.pytorch.global.torch.ScalarType;
import org.ldm4j.models.clip.CLIPTextConfig;
import org.ldm4j.models.clip.CLIPTextModel;
import org.ldm4j.models.clip.CLIPTokenizer;
import org.ldm4j.models.unet.UNet2DConditionConfig;
import org.ldm4j.models.unet.UNet2DConditionModel;
import org.ldm4j.models.vae.AutoencoderKL;
import org.ldm4j.models.vae.AutoencoderKLConfig;
import org.ldm4j.nn.Block;
import org.ldm4j.schedulers.Schedulers;
import org.ldm4j.weights.DiffusersFolder;
import org.ldm4j.weights.HfHub;
import org.ldm4j.weights.SingleFileCheckpoint;
import org.ldm4j.weights.WeightLoader;
import org.ldm4j.weights.WeightSource;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Pattern;

/**
 * Resolves a model spec to a loaded {@link StableDiffusion}: a diffusers folder, a single-file original-LDM
 * checkpoint ({@code .safetensors}, or {@code .ckpt/.pt/.pth/.bin} read weights-only by {@code TorchCheckpoint}) with
 * the bundled SD configs or those of {@link Options#configFrom}, or a Hugging Face id {@code org/name[@revision]}
 * (standard cache layout, downloading what is missing unless {@code HF_HUB_OFFLINE=1}). All end in the same strict
 * {@link WeightLoader}, the same way the embedded ToyWorld model (a diffusers folder) is loaded.
 */
public final class ModelLoader {
    private static final Logger LOG = LoggerFactory.getLogger(ModelLoader.class);
    private static final Pattern HF_ID = Pattern.compile("[A-Za-z0-9][\\w.-]*/[\\w.-]+(@[\\w./-]+)?");
    /** Tensors some saves carry that are buffers, not weights. */
    private static final Pattern IGNORED = Pattern.compile(".*position_ids$");

    private ModelLoader() {}

    /**
     * The embedded ToyWorld model: {@code $LDM4J_HOME/models/toyworld-ldm8} (the launcher sets the home), the LDM on the
     * 8-channel autoencoder; {@code models/toyworld-ldm} (4 channels) is the earlier default, kept because the
     * committed FG-DM graphs and the outside references (diffusers, the official GradOP and Blended scripts) stand on it.
     */
    public static String defaultModel() {
        String home = System.getProperty("ldm4j.home", System.getenv().getOrDefault("LDM4J_HOME", "."));
        return Path.of(home, "models", "toyworld-ldm8").toString();
    }

    /**
     * How to resolve a spec beyond the spec itself; every field may be null.
     *
     * @param hub        the Hub client for {@code org/name} specs (null: {@link HfHub#fromEnvironment()})
     * @param configFrom for a single file: a folder in diffusers layout whose {@code unet/}, {@code vae/},
     *                   {@code text_encoder/} (and {@code scheduler/}) configs replace the bundled SD ones, and whose
     *                   {@code tokenizer/} is used when none lies beside the file (CLI {@code --config-from DIR})
     * @param tokenizer  for a single file: the tokenizer folder (else the first of {@code -Dldm4j.tokenizer},
     *                   {@code tokenizer/} beside the file, {@code configFrom/tokenizer} that holds one)
     */
    public record Options(HfHub hub, Path configFrom, Path tokenizer) {
        public static Options defaults() { return new Options(null, null, null); }

        public Options withHub(HfHub h) { return new Options(h, configFrom, tokenizer); }

        public Options withConfigFrom(Path dir) { return new Options(hub, dir, tokenizer); }

        public Options withTokenizer(Path dir) { return new Options(hub, configFrom, dir); }
    }

    public static StableDiffusion load(String spec, Device device, ScalarType dtype) throws IOException {
        return load(spec, Options.defaults(), device, dtype);
    }

    public static StableDiffusion load(String spec, Options options, Device device, ScalarType dtype) throws IOException {
        Path path = Path.of(spec);
        if (Files.isRegularFile(path)) return loadSingleFile(path, options, device, dtype);
        if (options.configFrom() != null) {
            throw new IllegalArgumentException("a config folder (--config-from) applies to single-file checkpoints, not to " + spec);
        }
        if (Files.isDirectory(path)) return loadFolder(path, device, dtype);
        if (isHubId(spec)) {
            String[] parts = spec.split("@", 2);
            HfHub hub = options.hub() != null ? options.hub() : HfHub.fromEnvironment();
            Path snapshot = hub.pipeline(parts[0], parts.length > 1 ? parts[1] : "main", null);
            return loadFolder(snapshot, device, dtype);
        }
        throw new IOException("no such model folder or file, and not a Hugging Face id (org/name): " + spec);
    }

    /** Whether {@code spec} (not an existing path) reads as a Hugging Face id, {@code org/name[@revision]}. */
    public static boolean isHubId(String spec) {
        return HF_ID.matcher(spec).matches() && !spec.startsWith(".") && !spec.startsWith("/");
    }

    public static StableDiffusion loadFolder(Path root, Device device, ScalarType dtype) throws IOException {
        DiffusersFolder folder = DiffusersFolder.open(root);
        LOG.info("loading diffusers folder {}", root);
        JsonNode unetJson = folder.config("unet"), vaeJson = folder.config("vae"), textJson = folder.config("text_encoder");
        JsonNode schedulerJson = folder.config("scheduler");
        String schedulerSource = folder.configFile("scheduler").toString();
        Schedulers.check(schedulerJson, schedulerSource);   // a bad value is named now, not after the weights load
        UNet2DConditionModel unet = Block.withoutInit(() -> new UNet2DConditionModel(unetConfig(unetJson, folder.configFile("unet"))));
        AutoencoderKL vae = Block.withoutInit(() -> new AutoencoderKL(AutoencoderKLConfig.parse(vaeJson.toString(), folder.configFile("vae").toString())));
        CLIPTextModel text = Block.withoutInit(() -> new CLIPTextModel(CLIPTextConfig.parse(textJson.toString(),
                folder.configFile("text_encoder").toString())));
        try (WeightSource u = folder.weights("unet"); WeightSource v = folder.weights("vae");
             WeightSource t = folder.weights("text_encoder")) {
            loadInto(unet, u, "unet", device, dtype);
            loadInto(vae, v, "vae", device, dtype);
            loadInto(text, t, "text_encoder", device, dtype);
        } catch (Exception e) {
            if (e instanceof IOException io) throw io;
            if (e instanceof RuntimeException re) throw re;
            throw new IOException(e);
        }
        CLIPTokenizer tokenizer = CLIPTokenizer.load(folder.componentDir("tokenizer"));
        return new StableDiffusion(root.getFileName().toString(), tokenizer, text, unet, vae, schedulerJson, schedulerSource);
    }

    public static StableDiffusion loadSingleFile(Path file, Device device, ScalarType dtype) throws IOException {
        return loadSingleFile(file, Options.defaults(), device, dtype);
    }

    public static StableDiffusion loadSingleFile(Path file, Options options, Device device, ScalarType dtype) throws IOException {
        Path configs = options.configFrom();
        try (SingleFileCheckpoint ckpt = configs != null ? SingleFileCheckpoint.open(file, configs) : SingleFileCheckpoint.open(file)) {
            LOG.info("loading single-file checkpoint {} ({}, configs {})", file, ckpt.modelType(), configs != null ? configs : "bundled");
            Path tokenizerDir = ckpt.tokenizerFolder(tokenizerFor(file, options));
            // errors name the config files of --config-from, or the checkpoint the bundled configs were chosen for
            java.util.function.Function<String, String> source = f -> configs != null && Files.isRegularFile(configs.resolve(f))
                    ? configs.resolve(f).toString() : file + " (bundled " + f + ")";
            JsonNode schedulerJson = ckpt.schedulerConfig();
            String schedulerSource = source.apply("scheduler/scheduler_config.json");
            Schedulers.check(schedulerJson, schedulerSource);
            UNet2DConditionModel unet = Block.withoutInit(() -> new UNet2DConditionModel(
                    UNet2DConditionConfig.parse(ckpt.unetConfig().toString(), source.apply("unet/config.json"))));
            AutoencoderKL vae = Block.withoutInit(() -> new AutoencoderKL(AutoencoderKLConfig.parse(ckpt.vaeConfig().toString(),
                    source.apply("vae/config.json"))));
            CLIPTextModel text = Block.withoutInit(() -> new CLIPTextModel(CLIPTextConfig.parse(ckpt.textEncoderConfig().toString(),
                    source.apply("text_encoder/config.json"))));
            loadInto(unet, ckpt.unet(), "unet", device, dtype);
            loadInto(vae, ckpt.vae(), "vae", device, dtype);
            loadInto(text, ckpt.textEncoder(), "text_encoder", device, dtype);
            String name = file.getFileName().toString().replaceFirst("\\.[^.]+$", "");
            return new StableDiffusion(name, CLIPTokenizer.load(tokenizerDir), text, unet, vae, schedulerJson, schedulerSource);
        }
    }

    /** The first tokenizer folder (vocab.json and merges.txt, or tokenizer.json), in the order {@link Options#tokenizer} documents. */
    private static Path tokenizerFor(Path file, Options options) {
        if (options.tokenizer() != null) return options.tokenizer();   // explicit: used or reported, never skipped
        List<Path> candidates = new ArrayList<>();
        String property = System.getProperty("ldm4j.tokenizer");
        if (property != null) candidates.add(Path.of(property));
        Path parent = file.toAbsolutePath().getParent();
        if (parent != null) candidates.add(parent.resolve("tokenizer"));
        if (options.configFrom() != null) candidates.add(options.configFrom().resolve("tokenizer"));
        for (Path c : candidates) {
            if (CLIPTokenizer.isTokenizerFolder(c)) return c;
        }
        return candidates.isEmpty() ? null : candidates.get(0);
    }

    private static UNet2DConditionConfig unetConfig(JsonNode json, Path source) {   // source: the config file
        return UNet2DConditionConfig.parse(json.toString(), source.toString());
    }

    /**
     * {@code sd} with the autoencoder of a VAE folder ({@link StableDiffusion#withVae}), named for the PNG parameters
     * as "model/vae" when the folder is a model's {@code vae/}, else by the folder's name (never the full path).
     */
    public static StableDiffusion withVaeFolder(StableDiffusion sd, Path folder) throws IOException {
        Path p = folder.toAbsolutePath().normalize();
        String name = p.getFileName() == null ? p.toString() : p.getFileName().toString();
        if (name.equals("vae") && p.getParent() != null && p.getParent().getFileName() != null) name = p.getParent().getFileName() + "/vae";
        return sd.withVae(loadVae(folder, sd.device(), sd.dtype()), name);
    }

    /** A standalone AutoencoderKL folder (config.json + diffusion_pytorch_model.safetensors), e.g. a fine-tuned decoder. */
    public static AutoencoderKL loadVae(Path folder, Device device, ScalarType dtype) throws IOException {
        return loadComponent(folder, "VAE", "vae", json -> new AutoencoderKL(AutoencoderKLConfig.parse(json, folder.resolve("config.json").toString())),
                device, dtype);
    }

    /** A diffusers {@code UNet2DConditionModel} folder (config.json + weights) on its own, e.g. an FG-DM factor's UNet. */
    public static UNet2DConditionModel loadUnet(Path folder, Device device, ScalarType dtype) throws IOException {
        return loadComponent(folder, "UNet", "unet",
                json -> new UNet2DConditionModel(UNet2DConditionConfig.parse(json, folder.resolve("config.json").toString())), device, dtype);
    }

    private static <B extends Block> B loadComponent(Path folder, String kind, String component, java.util.function.Function<String, B> build,
                                                     Device device, ScalarType dtype) throws IOException {
        Path config = folder.resolve("config.json");
        if (!Files.isRegularFile(config)) throw new IOException(folder + " is not a " + kind + " folder: it has no config.json");
        String json = Files.readString(config);
        B block = Block.withoutInit(() -> build.apply(json));
        try (WeightSource w = org.ldm4j.weights.DiffusersFolder.findWeights(folder, null)) {
            loadInto(block, w, component, device, dtype);
        } catch (Exception e) {
            if (e instanceof IOException io) throw io;
            if (e instanceof RuntimeException re) throw re;
            throw new IOException(e);
        }
        return block;
    }

    private static void loadInto(Block block, WeightSource source, String component, Device device, ScalarType dtype) {
        block.to(device, dtype);
        WeightLoader.load(block, source, component, n -> IGNORED.matcher(n).matches());
    }
}
