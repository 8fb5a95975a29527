package org.ldm4j.cli;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.*;

/** {@code ldm4j train vae} end to end on a tiny config: train, resume, export; bad configs are usage errors. */
class TrainCommandTest {
    @TempDir Path dir;

    static final String TINY_VAE = """
            {"vae": {"_class_name": "AutoencoderKL", "in_channels": 3, "out_channels": 3,
                     "down_block_types": ["DownEncoderBlock2D", "DownEncoderBlock2D"],
                     "up_block_types": ["UpDecoderBlock2D", "UpDecoderBlock2D"],
                     "block_out_channels": [8, 16], "layers_per_block": 1, "latent_channels": 4,
                     "norm_num_groups": 4, "sample_size": 16},
             "size": 16, "batch_size": 2, "steps": 4, "lr": 0.001, "checkpoint_every": 2, "log_every": 1, "seed": 0}
            """;

    @Test void trainsResumesAndExportsALoadableVae() throws Exception {
        Path config = Files.writeString(dir.resolve("vae.json"), TINY_VAE);
        Path run = dir.resolve("run");
        assertEquals(0, Ldm4j.run("train", "vae", "--config", config.toString(), "--run", run.toString(), "--until", "2"));
        assertEquals("step-00000002", Files.readString(run.resolve("checkpoints/latest")));
        assertEquals(0, Ldm4j.run("train", "vae", "--config", config.toString(), "--run", run.toString()));
        assertEquals("step-00000004", Files.readString(run.resolve("checkpoints/latest")));
        assertEquals(4, Files.readAllLines(run.resolve("metrics.jsonl")).size(), "one row per step, resumed without repeats");
        Path out = dir.resolve("vae");
        assertEquals(0, Ldm4j.run("train", "vae", "--config", config.toString(), "--run", run.toString(), "--export", out.toString()));
        assertTrue(Files.exists(out.resolve("diffusion_pytorch_model.safetensors")));
        assertTrue(Files.readString(out.resolve("config.json")).contains("scaling_factor"));
    }

    /** A decoder fine-tune changes the decoder only: encoder tensors and scaling_factor stay bit-identical (the LDM's latents). */
    @Test void decoderFineTuneKeepsTheEncoderAndTheScalingFactor() throws Exception {
        Path run = dir.resolve("run"), first = dir.resolve("vae");
        Path config = Files.writeString(dir.resolve("vae.json"), TINY_VAE);
        assertEquals(0, Ldm4j.run("train", "vae", "--config", config.toString(), "--run", run.toString()));
        assertEquals(0, Ldm4j.run("train", "vae", "--config", config.toString(), "--run", run.toString(), "--export", first.toString()));
        Path ft = Files.writeString(dir.resolve("ft.json"), "{\"init\": \"" + first.toString().replace("\\", "/") + "\", \"train\": \"decoder\","
                + " \"size\": 16, \"batch_size\": 2, \"steps\": 3, \"lr\": 0.01, \"ema_decay\": 0.0, \"checkpoint_every\": 3, \"seed\": 1}");
        Path ftRun = dir.resolve("ft-run"), second = dir.resolve("vae-ft");
        assertEquals(0, Ldm4j.run("train", "vae", "--config", ft.toString(), "--run", ftRun.toString()));
        assertEquals(0, Ldm4j.run("train", "vae", "--config", ft.toString(), "--run", ftRun.toString(), "--export", second.toString()));
        com.fasterxml.jackson.databind.ObjectMapper json = new com.fasterxml.jackson.databind.ObjectMapper();
        assertEquals(json.readTree(first.resolve("config.json").toFile()).get("scaling_factor").asDouble(),
                json.readTree(second.resolve("config.json").toFile()).get("scaling_factor").asDouble());
        int decoderChanged = 0;
        try (org.ldm4j.weights.SafetensorsFile a = org.ldm4j.weights.SafetensorsFile.open(first.resolve("diffusion_pytorch_model.safetensors"));
             org.ldm4j.weights.SafetensorsFile b = org.ldm4j.weights.SafetensorsFile.open(second.resolve("diffusion_pytorch_model.safetensors"))) {
            assertEquals(a.names(), b.names());
            for (String name : a.names()) {
                boolean same = a.read(name).equal(b.read(name));
                if (name.startsWith("encoder.") || name.startsWith("quant_conv.")) assertTrue(same, name + " changed");
                else if (!same) decoderChanged++;
            }
        }
        assertTrue(decoderChanged > 0, "the fine-tune changed no decoder tensor");
        Path noInit = Files.writeString(dir.resolve("noinit.json"), "{\"train\": \"decoder\", \"steps\": 3, \"lr\": 0.001}");
        assertEquals(2, Ldm4j.run("train", "vae", "--config", noInit.toString(), "--run", dir.resolve("r2").toString()));
    }

    /** The patch-GAN term: the discriminator trains and resumes with the decoder, and stays out of the exported VAE. */
    @Test void adversarialDecoderFineTuneCheckpointsTheDiscriminatorAndExportsTheVaeAlone() throws Exception {
        Path run = dir.resolve("run"), first = dir.resolve("vae");
        Path config = Files.writeString(dir.resolve("vae.json"), TINY_VAE);
        assertEquals(0, Ldm4j.run("train", "vae", "--config", config.toString(), "--run", run.toString(), "--until", "1"));
        assertEquals(0, Ldm4j.run("train", "vae", "--config", config.toString(), "--run", run.toString(), "--export", first.toString()));
        String common = "\"size\": 16, \"batch_size\": 2, \"steps\": 3, \"lr\": 0.01, \"checkpoint_every\": 1, \"log_every\": 1, \"seed\": 1,"
                + " \"adversarial_weight\": 0.5, \"adversarial_start\": 1, \"discriminator_width\": 8";
        Path gan = Files.writeString(dir.resolve("gan.json"), "{\"init\": \"" + first.toString().replace("\\", "/") + "\", \"train\": \"decoder\", " + common + "}");
        Path ganRun = dir.resolve("gan-run"), exported = dir.resolve("vae-gan");
        assertEquals(0, Ldm4j.run("train", "vae", "--config", gan.toString(), "--run", ganRun.toString(), "--until", "2"));
        assertEquals(0, Ldm4j.run("train", "vae", "--config", gan.toString(), "--run", ganRun.toString()));
        try (org.ldm4j.weights.SafetensorsFile ckpt = org.ldm4j.weights.SafetensorsFile.open(ganRun.resolve("checkpoints/step-00000003/model.safetensors"))) {
            assertTrue(ckpt.names().contains("discriminator.conv0.weight"), "the discriminator resumes with the decoder");
        }
        java.util.List<String> rows = Files.readAllLines(ganRun.resolve("metrics.jsonl"));
        assertEquals(3, rows.size(), "one row per step, resumed without repeats: " + rows);
        com.fasterxml.jackson.databind.ObjectMapper json = new com.fasterxml.jackson.databind.ObjectMapper();
        assertTrue(json.readTree(rows.get(0)).has("discriminator_accuracy"), "the discriminator's figures beside the loss: " + rows);
        assertTrue(json.readTree(rows.get(0)).get("lambda").asDouble() == 0 && json.readTree(rows.get(2)).get("lambda").asDouble() > 0,
                "the generator term starts at adversarial_start: " + rows);
        assertEquals(0, Ldm4j.run("train", "vae", "--config", gan.toString(), "--run", ganRun.toString(), "--export", exported.toString()));
        try (org.ldm4j.weights.SafetensorsFile a = org.ldm4j.weights.SafetensorsFile.open(first.resolve("diffusion_pytorch_model.safetensors"));
             org.ldm4j.weights.SafetensorsFile b = org.ldm4j.weights.SafetensorsFile.open(exported.resolve("diffusion_pytorch_model.safetensors"))) {
            assertEquals(a.names(), b.names(), "the exported VAE has the VAE's tensors only");
        }
        Path fullVae = Files.writeString(dir.resolve("full-gan.json"), TINY_VAE.replace("\"seed\": 0}", "\"seed\": 0, \"adversarial_weight\": 0.5}"));
        assertEquals(2, Ldm4j.run("train", "vae", "--config", fullVae.toString(), "--run", dir.resolve("r3").toString()));
    }

    static final String TINY_LDM_PARTS = """
             "unet": {"_class_name": "UNet2DConditionModel", "sample_size": 8, "in_channels": 4, "out_channels": 4,
                      "down_block_types": ["CrossAttnDownBlock2D", "DownBlock2D"], "up_block_types": ["UpBlock2D", "CrossAttnUpBlock2D"],
                      "block_out_channels": [8, 16], "layers_per_block": 1, "cross_attention_dim": 8, "attention_head_dim": 2,
                      "norm_num_groups": 4},
             "text_encoder": {"hidden_size": 8, "intermediate_size": 16, "num_hidden_layers": 1, "num_attention_heads": 2,
                              "max_position_embeddings": 16, "hidden_act": "quick_gelu"},
             "tokenizer_max_length": 16,
            """;
    static final String SCHEDULER = """
             "scheduler": {"_class_name": "DDIMScheduler", "beta_schedule": "scaled_linear", "beta_start": 0.00085, "beta_end": 0.012,
                           "num_train_timesteps": 1000},
            """;

    /**
     * {@code train ldm} with 'init' starts from a trained model folder (its configs and weights: the export before any
     * step is that model, tensor for tensor) and trains with per-object loss balancing on new scenes.
     */
    @Test void ldmFineTuneStartsFromTheInitModelAndBalancesObjects() throws Exception {
        Path vaeConfig = Files.writeString(dir.resolve("vae.json"), TINY_VAE), vae = dir.resolve("vae");
        assertEquals(0, Ldm4j.run("train", "vae", "--config", vaeConfig.toString(), "--run", dir.resolve("vae-run").toString(), "--until", "1"));
        assertEquals(0, Ldm4j.run("train", "vae", "--config", vaeConfig.toString(), "--run", dir.resolve("vae-run").toString(), "--export", vae.toString()));
        Path base = Files.writeString(dir.resolve("ldm.json"), "{" + TINY_LDM_PARTS + SCHEDULER
                + " \"size\": 16, \"batch_size\": 2, \"steps\": 2, \"lr\": 0.01, \"checkpoint_every\": 2, \"seed\": 0}");
        Path model = dir.resolve("model");
        assertEquals(0, Ldm4j.run("train", "ldm", "--config", base.toString(), "--run", dir.resolve("ldm-run").toString(), "--vae", vae.toString()));
        assertEquals(0, Ldm4j.run("train", "ldm", "--config", base.toString(), "--run", dir.resolve("ldm-run").toString(), "--vae", vae.toString(),
                "--export", model.toString()));

        String fineTune = "{\"init\": \"" + model.toString().replace("\\", "/") + "\", " + SCHEDULER
                + " \"object_loss_weight\": 2.0, \"first_seed\": 1000, \"size\": 16, \"batch_size\": 2, \"steps\": 2, \"lr\": 0.01,"
                + " \"checkpoint_every\": 2, \"seed\": 1}";
        Path ft = Files.writeString(dir.resolve("ft.json"), fineTune), ftRun = dir.resolve("ft-run"), start = dir.resolve("start");
        assertEquals(0, Ldm4j.run("train", "ldm", "--config", ft.toString(), "--run", ftRun.toString(), "--vae", vae.toString(),
                "--export", start.toString()));
        for (String file : new String[]{"unet/diffusion_pytorch_model.safetensors", "text_encoder/model.safetensors"}) {
            try (org.ldm4j.weights.SafetensorsFile a = org.ldm4j.weights.SafetensorsFile.open(model.resolve(file));
                 org.ldm4j.weights.SafetensorsFile b = org.ldm4j.weights.SafetensorsFile.open(start.resolve(file))) {
                assertEquals(a.names(), b.names());
                for (String name : a.names()) assertTrue(a.read(name).equal(b.read(name)), file + ": " + name + " is not the init's");
            }
        }
        assertEquals(0, Ldm4j.run("train", "ldm", "--config", ft.toString(), "--run", ftRun.toString(), "--vae", vae.toString()));
        assertEquals("step-00000002", Files.readString(ftRun.resolve("checkpoints/latest")));

        Path badWeight = Files.writeString(dir.resolve("bad-weight.json"), fineTune.replace("\"object_loss_weight\": 2.0", "\"object_loss_weight\": -1"));
        assertEquals(2, Ldm4j.run("train", "ldm", "--config", badWeight.toString(), "--run", dir.resolve("r3").toString(), "--vae", vae.toString()));
        Path badInit = Files.writeString(dir.resolve("bad-init.json"), fineTune.replace(model.toString().replace("\\", "/"), vae.toString().replace("\\", "/")));
        assertEquals(2, Ldm4j.run("train", "ldm", "--config", badInit.toString(), "--run", dir.resolve("r4").toString(), "--vae", vae.toString()));
    }

    @Test void badConfigsAreOneLineUsageErrors() throws Exception {
        Path run = dir.resolve("run");
        assertEquals(2, Ldm4j.run("train", "vae", "--config", dir.resolve("missing.json").toString(), "--run", run.toString()));
        Path notJson = Files.writeString(dir.resolve("bad.json"), "{ nope");
        assertEquals(2, Ldm4j.run("train", "vae", "--config", notJson.toString(), "--run", run.toString()));
        Path noVae = Files.writeString(dir.resolve("novae.json"), "{\"steps\": 3, \"lr\": 0.001}");
        assertEquals(2, Ldm4j.run("train", "vae", "--config", noVae.toString(), "--run", run.toString()));
        assertEquals(2, Ldm4j.run("train", "ldm", "--config", noVae.toString(), "--run", run.toString(), "--vae", dir.toString()));
        var json = new com.fasterxml.jackson.databind.ObjectMapper();
        String[][] bad = {{"{\"steps\": 3, \"lr\": -1}", "lr must be a finite number > 0"}, {"{\"steps\": 0, \"lr\": 0.1}", "steps must be >= 1"},
                {"{\"steps\": 3, \"lr\": 0.1, \"batch_size\": \"eight\"}", "batch_size must be a whole number >= 1"},
                {"{\"steps\": 3, \"lr\": 0.1, \"batch_size\": 0}", "batch_size must be a whole number >= 1"},
                {"{\"steps\": 3, \"lr\": 0.1, \"warmup_steps\": 2.5}", "warmup_steps must be a whole number >= 0"}};
        for (String[] b : bad) {
            String message = assertThrows(Ldm4j.UsageError.class, () -> TrainRun.checkValues(json.readTree(b[0]), "c.json")).getMessage();
            assertTrue(message.startsWith("c.json: " + b[1]), message);
        }
        Path negativeLr = Files.writeString(dir.resolve("neglr.json"), bad[0][0]);
        CliTest.Result r = CliTest.run("train", "vae", "--config", negativeLr.toString(), "--run", dir.resolve("r-neg").toString());
        assertEquals(2, r.code(), r.err());
        assertTrue(r.err().contains("lr must be a finite number > 0"), r.err());
    }

    /** A misspelt key is an error naming it and the file, not a silent default; '_' keys are comments. */
    @Test void unknownConfigKeysAreUsageErrorsNamingThem() throws Exception {
        Path misspelt = Files.writeString(dir.resolve("misspelt.json"),
                "{\"_comment\": \"x\", \"steps\": 3, \"lr\": 0.001, \"object_los_weight\": 1}");
        for (String recipe : new String[]{"vae", "segmenter"}) {
            CliTest.Result r = CliTest.run("train", recipe, "--config", misspelt.toString(), "--run", dir.resolve("r-" + recipe).toString());
            assertEquals(2, r.code(), r.err());
            assertTrue(r.err().contains(misspelt + ": unknown key 'object_los_weight' (known: ") && r.err().contains("steps"), r.err());
        }
        CliTest.Result ldm = CliTest.run("train", "ldm", "--config", misspelt.toString(), "--run", dir.resolve("r-ldm").toString(), "--vae", dir.toString());
        assertEquals(2, ldm.code(), ldm.err());
        assertTrue(ldm.err().contains("unknown key 'object_los_weight'"), ldm.err());
    }

    /** Every committed training config of these recipes uses only keys its recipe reads (FG-DM's check their own). */
    @Test void committedConfigsUseOnlyKnownKeys() throws Exception {
        int checked = 0;
        try (var files = Files.list(Path.of("..", "configs", "train"))) {
            for (Path file : files.sorted().toList()) {
                String name = file.getFileName().toString();
                if (!name.endsWith(".json") || name.contains("fgdm")) continue;
                java.util.Set<String> keys = name.contains("segmenter") ? EvalCommand.TrainSegmenter.CONFIG_KEYS
                        : name.contains("-ldm") ? TrainLdmCommand.CONFIG_KEYS : TrainCommand.Vae.CONFIG_KEYS;
                com.fasterxml.jackson.databind.JsonNode c = new com.fasterxml.jackson.databind.ObjectMapper().readTree(file.toFile());
                assertDoesNotThrow(() -> TrainRun.requireKnownKeys(c, keys, name), name);
                assertDoesNotThrow(() -> TrainRun.checkValues(c, name), name);
                checked++;
            }
        }
        assertTrue(checked >= 10, "configs checked: " + checked);
    }

    @Test void aRunWithNothingLoggedSaysSoInsteadOfLossNaN() {
        assertEquals("step 120, loss 0.01250", TrainRun.closingLine(120, 0.0125));
        String resumedAtEnd = TrainRun.closingLine(3000, Double.NaN);
        assertFalse(resumedAtEnd.contains("NaN"), resumedAtEnd);
        assertTrue(resumedAtEnd.startsWith("step 3000") && resumedAtEnd.contains("no loss logged"), resumedAtEnd);
    }
}
