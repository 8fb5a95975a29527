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
