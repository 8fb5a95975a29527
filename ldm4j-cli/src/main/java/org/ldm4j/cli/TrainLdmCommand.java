package org.ldm4j.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import org.bytedeco.pytorch.NoGradGuard;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch;
import org.ldm4j.image.AtomicFiles;
import org.ldm4j.models.clip.CLIPTextConfig;
import org.ldm4j.models.clip.CLIPTextModel;
import org.ldm4j.models.clip.CLIPTokenizer;
import org.ldm4j.models.unet.UNet2DConditionConfig;
import org.ldm4j.models.unet.UNet2DConditionModel;
import org.ldm4j.models.vae.AutoencoderKL;
import org.ldm4j.models.vae.AutoencoderKLConfig;
import org.ldm4j.nn.Block;
import org.ldm4j.nn.Dtypes;
import org.ldm4j.nn.Param;
import org.ldm4j.schedulers.Schedulers;
import org.ldm4j.toyworld.Vocabulary;
import org.ldm4j.train.Trainer;
import org.ldm4j.train.toyworld.ObjectWeighting;
import org.ldm4j.train.toyworld.SceneBatches;
import org.ldm4j.train.toyworld.ToyWorldLdm;
import org.ldm4j.weights.DiffusersFolder;
import org.ldm4j.weights.SafetensorsWriter;
import org.ldm4j.weights.WeightLoader;
import org.ldm4j.weights.WeightSource;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.Callable;

@Command(name = "ldm", mixinStandardHelpOptions = true,
        description = "Train the ToyWorld latent diffusion model (UNet + text encoder) on a trained ToyWorld VAE; resumable.",
        footer = {"", "Example:",
                "  ldm4j train ldm --config configs/train/toyworld-ldm.json --run runs/toyworld-ldm --vae models/toyworld-vae",
                "  ldm4j train ldm --config configs/train/toyworld-ldm.json --run runs/toyworld-ldm --vae models/toyworld-vae --export models/toyworld-ldm"})
final class TrainLdmCommand implements Callable<Integer> {
    @Mixin TrainRun train;
    @Option(names = "--vae", required = true, description = "The trained ToyWorld vae/ folder (config.json + weights).") Path vaeDir;
    @Option(names = "--export", description = "Write the EMA weights (fp16) as a complete diffusers model folder here and exit.") Path export;

    /** The keys of a {@code train ldm} config besides the trainer's. */
    static final java.util.Set<String> CONFIG_KEYS = java.util.Set.of("unet", "text_encoder", "scheduler", "tokenizer_max_length",
            "size", "batch_size", "caption_dropout", "first_seed", "init", "object_loss_weight", "object_reference_cells");

    @Override
    public Integer call() throws Exception {
        JsonNode c = train.start(CONFIG_KEYS, "scheduler");
        Path init = c.hasNonNull("init") ? Path.of(c.get("init").asText()) : null;
        if (init != null) {
            // A fine-tune takes the trained model's own configs (and prompt length), so its architecture cannot drift
            // from the weights.
            for (String part : new String[]{"unet", "text_encoder"}) {
                if (!Files.isRegularFile(init.resolve(part).resolve("config.json"))) {
                    throw new Ldm4j.UsageError(train.config + ": 'init' " + init + " is not a ToyWorld model folder (no " + part + "/config.json)");
                }
            }
            ObjectNode withInit = ((ObjectNode) c.deepCopy());
            ObjectMapper json = new ObjectMapper();
            withInit.set("unet", json.readTree(readConfig(init.resolve("unet"))));
            withInit.set("text_encoder", json.readTree(readConfig(init.resolve("text_encoder"))));   // its token ids are re-set below
            Path tokenizerConfig = init.resolve("tokenizer").resolve("tokenizer_config.json");
            if (!withInit.has("tokenizer_max_length") && Files.isRegularFile(tokenizerConfig)) {
                withInit.put("tokenizer_max_length", json.readTree(Files.readString(tokenizerConfig)).path("model_max_length").asInt(77));
            }
            c = withInit;
        } else {
            for (String key : new String[]{"unet", "text_encoder"}) {
                if (!c.path(key).isObject()) throw new Ldm4j.UsageError(train.config + ": missing object '" + key + "'");
            }
        }
        if (!Files.isRegularFile(vaeDir.resolve("config.json"))) throw new Ldm4j.UsageError("no trained VAE at " + vaeDir + " (config.json missing)");
        Path tokenizerDir = train.run.resolve("tokenizer");
        writeTokenizer(tokenizerDir, c.path("tokenizer_max_length").asInt(77));
        CLIPTokenizer tokenizer = CLIPTokenizer.load(tokenizerDir);
        ObjectNode textJson = ((ObjectNode) c.get("text_encoder").deepCopy())
                .put("vocab_size", tokenizer.vocabSize()).put("bos_token_id", tokenizer.bosId())
                .put("eos_token_id", tokenizer.eosId()).put("pad_token_id", tokenizer.padId());

        String vaeConfig = readConfig(vaeDir);
        AutoencoderKL vae = Block.withoutInit(() -> new AutoencoderKL(AutoencoderKLConfig.parse(vaeConfig)));
        try (WeightSource w = DiffusersFolder.findWeights(vaeDir, null)) {
            vae.to(Dtypes.device("cpu"), torch.ScalarType.Float);
            WeightLoader.load(vae, w, "vae");
        }
        torch.manual_seed(c.path("seed").asLong(0));
        ToyWorldLdm.Denoiser model = new ToyWorldLdm.Denoiser(
                new UNet2DConditionModel(UNet2DConditionConfig.parse(c.get("unet").toString(), train.config.toString())),
                new CLIPTextModel(CLIPTextConfig.parse(textJson.toString())));
        if (init != null) {
            try (WeightSource u = DiffusersFolder.findWeights(init.resolve("unet"), null);
                 WeightSource t = DiffusersFolder.findWeights(init.resolve("text_encoder"), null)) {
                WeightLoader.load(model.unet, u, "unet");
                WeightLoader.load(model.textEncoder, t, "text_encoder");
            }
        }
        Trainer trainer = new Trainer(model, train.options(c));
        if (export != null) {
            exportModel(model, trainer, c, textJson, tokenizerDir, vaeDir, export);
            return 0;
        }
        ToyWorldLdm objective = new ToyWorldLdm(model, vae, tokenizer,
                Schedulers.fromClassName(c.get("scheduler").get("_class_name").asText()).read(c.get("scheduler").toString()).noiseSchedule(),
                new SceneBatches(c.get("batch_size").asInt(), c.path("size").asInt(64), c.path("first_seed").asLong(0)),
                c.path("caption_dropout").asDouble(0.1),
                objectWeighting(c));
        System.out.printf("UNet %.2f M parameters, text encoder %.2f M%n",
                model.unet.parameterCount() / 1e6, model.textEncoder.parameterCount() / 1e6);
        double loss = trainer.run(objective, train.lastStep(c));
        System.out.println(TrainRun.closingLine(trainer.step(), loss));
        return 0;
    }

    private ObjectWeighting objectWeighting(JsonNode c) {
        try {
            return new ObjectWeighting(c.path("object_loss_weight").asDouble(0), c.path("object_reference_cells").asDouble(16));
        } catch (IllegalArgumentException e) {
            throw new Ldm4j.UsageError(train.config + ": " + e.getMessage());
        }
    }

    private static String readConfig(Path dir) throws java.io.IOException {
        return Files.readString(dir.resolve("config.json"));
    }

    /** ToyWorld's word vocabulary as a CLIP vocab.json/merges.txt, so the same tokenizer code runs as for SD. */
    static void writeTokenizer(Path dir, int maxLength) throws java.io.IOException {
        Files.createDirectories(dir);
        CLIPTokenizer.writeWordLevelVocab(Vocabulary.words(), dir);
        String cfg = "{\"model_max_length\": " + maxLength + ", \"bos_token\": \"<|startoftext|>\", \"eos_token\": \"<|endoftext|>\","
                + " \"pad_token\": \"<|endoftext|>\", \"unk_token\": \"<|endoftext|>\", \"tokenizer_class\": \"CLIPTokenizer\"}";
        AtomicFiles.write(dir.resolve("tokenizer_config.json"), cfg.getBytes(StandardCharsets.UTF_8));
    }

    /** EMA weights in fp16 plus every config: a diffusers folder that loads like any SD model. */
    private static void exportModel(ToyWorldLdm.Denoiser model, Trainer trainer, JsonNode c, JsonNode textJson,
                                    Path tokenizerDir, Path vaeDir, Path out) throws Exception {
        ObjectMapper json = new ObjectMapper();
        Map<String, Param> params = model.namedParameters();
        Map<String, Tensor> unet = new LinkedHashMap<>(), text = new LinkedHashMap<>();
        try (NoGradGuard g = new NoGradGuard()) {
            trainer.ema().weights().forEach((k, t) -> {
                Tensor half = t.to(torch.ScalarType.Half);
                if (k.startsWith("unet.")) unet.put(k.substring(5), half);
                else text.put(k.substring("text_encoder.".length()), half);
            });
        }
        Map<String, String> meta = Map.of("format", "pt", "step", Long.toString(trainer.step()));
        writeComponent(out.resolve("unet"), c.get("unet"), "diffusion_pytorch_model.safetensors", unet, meta);
        writeComponent(out.resolve("text_encoder"), textJson, "model.safetensors", text, meta);
        Path tok = out.resolve("tokenizer");
        Files.createDirectories(tok);
        for (String f : new String[]{"vocab.json", "merges.txt", "tokenizer_config.json"}) {
            AtomicFiles.write(tok.resolve(f), Files.readAllBytes(tokenizerDir.resolve(f)));
        }
        Path sched = out.resolve("scheduler");
        Files.createDirectories(sched);
        AtomicFiles.write(sched.resolve("scheduler_config.json"), json.writerWithDefaultPrettyPrinter().writeValueAsBytes(c.get("scheduler")));
        if (!vaeDir.toAbsolutePath().normalize().equals(out.resolve("vae").toAbsolutePath().normalize())) {
            Path v = out.resolve("vae");
            Files.createDirectories(v);
            for (String f : new String[]{"config.json", "diffusion_pytorch_model.safetensors"}) {
                AtomicFiles.write(v.resolve(f), Files.readAllBytes(vaeDir.resolve(f)));
            }
        }
        String index = """
                {"_class_name": "StableDiffusionPipeline", "_ldm4j": "ToyWorld LDM, trained by ldm4j (see README)",
                 "scheduler": ["diffusers", "%s"], "text_encoder": ["transformers", "CLIPTextModel"],
                 "tokenizer": ["transformers", "CLIPTokenizer"], "unet": ["diffusers", "UNet2DConditionModel"],
                 "vae": ["diffusers", "AutoencoderKL"], "safety_checker": [null, null], "feature_extractor": [null, null]}
                """.formatted(c.get("scheduler").get("_class_name").asText());
        AtomicFiles.write(out.resolve("model_index.json"), json.readTree(index).toPrettyString().getBytes(StandardCharsets.UTF_8));
        System.out.printf("exported step %d to %s (%d UNet + %d text-encoder tensors, fp16)%n",
                trainer.step(), out, unet.size(), text.size());
    }

    private static void writeComponent(Path dir, JsonNode config, String file, Map<String, Tensor> weights,
                                       Map<String, String> meta) throws Exception {
        Files.createDirectories(dir);
        AtomicFiles.write(dir.resolve("config.json"), new ObjectMapper().writerWithDefaultPrettyPrinter().writeValueAsBytes(config));
        SafetensorsWriter.write(dir.resolve(file), weights, meta);
    }
}
