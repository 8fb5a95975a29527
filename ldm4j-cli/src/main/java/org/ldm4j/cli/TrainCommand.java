package org.ldm4j.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import org.bytedeco.pytorch.NoGradGuard;
import org.bytedeco.pytorch.Scalar;
import org.bytedeco.pytorch.Tensor;
import org.ldm4j.nn.Block;
import org.ldm4j.weights.DiffusersFolder;
import org.ldm4j.weights.WeightLoader;
import org.ldm4j.weights.WeightSource;
import org.ldm4j.models.vae.AutoencoderKL;
import org.ldm4j.models.vae.AutoencoderKLConfig;
import org.ldm4j.nn.Param;
import org.ldm4j.train.Trainer;
import org.ldm4j.toyworld.Scene;
import org.ldm4j.train.toyworld.ObjectWeighting;
import org.ldm4j.train.toyworld.SceneBatches;
import java.util.List;
import org.ldm4j.train.toyworld.ToyWorldVae;
import org.ldm4j.weights.SafetensorsWriter;
import org.ldm4j.image.AtomicFiles;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.Callable;

@Command(name = "train", mixinStandardHelpOptions = true, description = "Train the ToyWorld models (resumable).",
        subcommands = {TrainCommand.Vae.class, TrainLdmCommand.class, TrainFgdmCommand.class, EvalCommand.TrainSegmenter.class})
final class TrainCommand {

    @Command(name = "vae", mixinStandardHelpOptions = true,
            description = "Train the ToyWorld AutoencoderKL; resumes from the run folder's last checkpoint.",
            footer = {"", "Example:", "  ldm4j train vae --config configs/train/toyworld-vae.json --run runs/toyworld-vae",
                    "  ldm4j train vae --config configs/train/toyworld-vae.json --run runs/toyworld-vae --export models/toyworld-vae"})
    static final class Vae implements Callable<Integer> {
        @Mixin TrainRun train;
        @Option(names = "--export", description = "Write the EMA weights (fp16) as a diffusers vae/ folder here and exit.") Path export;

        /** The keys of a {@code train vae} config besides the trainer's. */
        static final java.util.Set<String> CONFIG_KEYS = java.util.Set.of("vae", "init", "train", "data", "size", "map_size",
                "batch_size", "kl_weight", "first_seed", "object_loss_weight", "object_reference_cells", "adversarial_weight",
                "adversarial_start", "discriminator_width");

        @Override
        public Integer call() throws Exception {
            JsonNode c = train.start(CONFIG_KEYS);
            Path init = c.hasNonNull("init") ? Path.of(c.get("init").asText()) : null;
            String part = c.path("train").asText("all");
            if (!part.equals("all") && !part.equals("decoder")) {
                throw new Ldm4j.UsageError(train.config + ": 'train' must be \"all\" or \"decoder\", got \"" + part + "\"");
            }
            boolean decoderOnly = part.equals("decoder");
            ToyWorldVae.Data data;
            try {
                data = ToyWorldVae.Data.parse(c.path("data").asText("images"));
            } catch (IllegalArgumentException e) {
                throw new Ldm4j.UsageError(train.config + ": " + e.getMessage());
            }
            if (data == ToyWorldVae.Data.MAPS && !decoderOnly) {
                throw new Ldm4j.UsageError(train.config + ": \"data\": \"maps\" trains a map decoder: it needs \"train\": \"decoder\" and 'init'");
            }
            int mapSize = c.path("map_size").asInt(c.path("size").asInt(64) / 2);
            if (decoderOnly && init == null) {
                throw new Ldm4j.UsageError(train.config + ": \"train\": \"decoder\" fine-tunes a trained VAE: give its folder as 'init'");
            }
            if (init != null && !Files.isRegularFile(init.resolve("config.json"))) {
                throw new Ldm4j.UsageError(train.config + ": 'init' " + init + " is not a VAE folder (no config.json)");
            }
            if (init == null && !c.path("vae").isObject()) throw new Ldm4j.UsageError(train.config + ": missing object 'vae'");
            // A fine-tune takes the trained VAE's own config, so its architecture and scaling_factor cannot drift.
            JsonNode vaeJson = init != null ? new ObjectMapper().readTree(Files.readString(init.resolve("config.json"))) : c.get("vae");
            AutoencoderKLConfig vaeConfig = AutoencoderKLConfig.parse(vaeJson.toString());
            org.bytedeco.pytorch.global.torch.manual_seed(c.path("seed").asLong(0));
            AutoencoderKL vae = new AutoencoderKL(vaeConfig);
            if (init != null) {
                try (WeightSource w = DiffusersFolder.findWeights(init, null)) {
                    WeightLoader.load(vae, w, "vae");
                }
            }
            // "adversarial_weight" > 0: a patch discriminator trained alongside the decoder (SD's GAN term, ToyWorldVae.Adversarial)
            double adversarialWeight = c.path("adversarial_weight").asDouble(0);
            if (adversarialWeight != 0 && !decoderOnly) {
                throw new Ldm4j.UsageError(train.config + ": \"adversarial_weight\" applies to a decoder-only fine-tune (\"train\": \"decoder\")");
            }
            org.ldm4j.train.toyworld.PatchDiscriminator discriminator = adversarialWeight != 0
                    ? new org.ldm4j.train.toyworld.PatchDiscriminator(vaeConfig.outChannels(), c.path("discriminator_width").asInt(64)) : null;
            Block trained = decoderOnly ? new ToyWorldVae.DecoderHalf(vae, discriminator) : vae;
            Trainer trainer = new Trainer(trained, train.options(c));
            if (export != null) {
                exportVae(vae, trainer, vaeJson, export, c.path("size").asInt(64), decoderOnly, data, mapSize);
                if (data == ToyWorldVae.Data.MAPS) nameInManifest(export);
                return 0;
            }
            SceneBatches batches = new SceneBatches(c.get("batch_size").asInt(), c.path("size").asInt(64), c.path("first_seed").asLong(0));
            ToyWorldVae objective;
            try {
                objective = new ToyWorldVae(vae, batches, c.path("kl_weight").asDouble(1e-6), decoderOnly, data, mapSize,
                        new ObjectWeighting(c.path("object_loss_weight").asDouble(0), c.path("object_reference_cells").asDouble(256)));
                if (discriminator != null) {
                    objective.withAdversarial(new ToyWorldVae.Adversarial(discriminator, adversarialWeight, c.path("adversarial_start").asLong(0)));
                }
            } catch (IllegalArgumentException e) {
                throw new Ldm4j.UsageError(train.config + ": " + e.getMessage());
            }
            double loss = trainer.run(objective, train.lastStep(c));
            System.out.println(TrainRun.closingLine(trainer.step(), loss));
            return 0;
        }


        /**
         * A map decoder exported into an FG-DM folder (its parent has fgdm.json) is named there as "map_vae", so the
         * folder's condition maps are read back with it from then on.
         */
        private static void nameInManifest(Path export) throws Exception {
            Path folder = export.toAbsolutePath().normalize().getParent();
            Path manifest = folder == null ? null : folder.resolve(org.ldm4j.methods.fgdm.FgdmFolder.MANIFEST);
            if (manifest == null || !Files.isRegularFile(manifest)) {
                System.out.println("no " + org.ldm4j.methods.fgdm.FgdmFolder.MANIFEST + " beside " + export
                        + ": name this map decoder in an FG-DM folder's manifest as \"map_vae\"");
                return;
            }
            var m = org.ldm4j.methods.fgdm.FgdmManifest.parse(Files.readString(manifest), manifest.toString());
            org.ldm4j.methods.fgdm.FgdmFolder.write(folder, m.withMapVae(export.toAbsolutePath().normalize().getFileName().toString()));
            System.out.println(manifest + ": \"map_vae\" = \"" + export.getFileName() + "\"");
        }

        /**
         * EMA weights -> fp16 safetensors + config.json with scaling_factor = 1 / std of validation latents (as SD did);
         * a decoder fine-tune keeps the trained VAE's scaling_factor (same encoder, same latents).
         */
        private static void exportVae(AutoencoderKL vae, Trainer trainer, JsonNode configJson, Path out, int size, boolean keepScaling,
                                      ToyWorldVae.Data data, int mapSize) throws Exception {
            Map<String, Param> params = vae.namedParameters();
            try (NoGradGuard g = new NoGradGuard()) {
                // no EMA: the weights as trained; an adversarial fine-tune's discriminator is not part of the VAE
                if (trainer.ema() != null) trainer.ema().weights().forEach((k, t) -> {
                    if (!k.startsWith(ToyWorldVae.DecoderHalf.DISCRIMINATOR + ".")) params.get(k).t().copy_(t);
                });
                List<Scene> validation = new SceneBatches(64, size).scenesFrom(SceneBatches.TRAIN_SEEDS);
                Tensor x = SceneBatches.images(validation);
                Tensor z = vae.encode(x).mode();
                double std = z.std().item_double();
                // a map decoder is validated on maps (segmentation and depth), an image decoder on images
                double psnr = data == ToyWorldVae.Data.IMAGES ? ToyWorldVae.psnr(vae, x)
                        : (ToyWorldVae.psnr(vae, data.batch(validation, mapSize, 0)) + ToyWorldVae.psnr(vae, data.batch(validation, mapSize, 1))) / 2;
                Files.createDirectories(out);
                ObjectNode cfg = (ObjectNode) configJson.deepCopy();
                if (!keepScaling) cfg.put("scaling_factor", 1.0 / std);
                AtomicFiles.write(out.resolve("config.json"),
                        new ObjectMapper().writerWithDefaultPrettyPrinter().writeValueAsString(cfg).getBytes(StandardCharsets.UTF_8));
                Map<String, Tensor> half = new LinkedHashMap<>();
                params.forEach((k, p) -> half.put(k, p.t().to(org.bytedeco.pytorch.global.torch.ScalarType.Half)));
                SafetensorsWriter.write(out.resolve("diffusion_pytorch_model.safetensors"), half,
                        Map.of("step", Long.toString(trainer.step()), "format", "pt"));
                System.out.printf("exported step %d to %s: latent std %.4f (scaling_factor %.5f), validation PSNR %.2f dB (64 scenes%s)%n",
                        trainer.step(), out, std, cfg.get("scaling_factor").asDouble(), psnr, data == ToyWorldVae.Data.MAPS ? "' segmentation and depth maps" : "");
            }
        }
    }
}
