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

    @Test void badConfigsAreOneLineUsageErrors() throws Exception {
        Path run = dir.resolve("run");
        assertEquals(2, Ldm4j.run("train", "vae", "--config", dir.resolve("missing.json").toString(), "--run", run.toString()));
        Path notJson = Files.writeString(dir.resolve("bad.json"), "{ nope");
        assertEquals(2, Ldm4j.run("train", "vae", "--config", notJson.toString(), "--run", run.toString()));
        Path noVae = Files.writeString(dir.resolve("novae.json"), "{\"steps\": 3, \"lr\": 0.001}");
        assertEquals(2, Ldm4j.run("train", "vae", "--config", noVae.toString(), "--run", run.toString()));
        assertEquals(2, Ldm4j.run("train", "ldm", "--config", noVae.toString(), "--run", run.toString(), "--vae", dir.toString()));
    }
}
