package org.ldm4j.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.ldm4j.pipeline.TinyStableDiffusion;

import java.nio.file.Files;
import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.*;

/** {@code ldm4j train fgdm} on the tiny random SD: train, resume, export into an FG-DM folder; bad input exits 2. */
class TrainFgdmCommandTest {
    @TempDir Path dir;

    static final String SEG = """
            {"factor": "seg", "batch_size": 2, "steps": 2, "lr": 0.001, "checkpoint_every": 1, "log_every": 1, "seed": 0,
             "attention_distillation": {"weight": 0.1, "every": 2}}
            """;

    @Test void trainsResumesAndExportsASegFactor() throws Exception {
        Path base = TinyStableDiffusion.write(dir.resolve("base"), 1);
        Path config = Files.writeString(dir.resolve("seg.json"), SEG);
        Path run = dir.resolve("run"), out = dir.resolve("fgdm");
        String[] common = {"train", "fgdm", "--factor", "seg", "--config", config.toString(), "--run", run.toString(), "--base", base.toString()};
        assertEquals(0, Ldm4j.run(concat(common, "--until", "1")));
        assertEquals(0, Ldm4j.run(common));
        assertEquals("step-00000002", Files.readString(run.resolve("checkpoints/latest")));
        assertEquals(2, Files.readAllLines(run.resolve("metrics.jsonl")).size());
        assertEquals(0, Ldm4j.run(concat(common, "--export", out.toString())));
        assertTrue(Files.isRegularFile(out.resolve("seg/adapter.safetensors")));
        JsonNode manifest = new ObjectMapper().readTree(out.resolve("fgdm.json").toFile());
        assertEquals("../base", manifest.get("base_model").asText());
        assertEquals("noisy_latent_adapter", manifest.get("factors").get(0).get("conditioning").asText());
    }

    @Test void badInputIsAOneLineUsageError() throws Exception {
        Path base = TinyStableDiffusion.write(dir.resolve("base"), 1);
        Path run = dir.resolve("run");
        Path unknownKey = Files.writeString(dir.resolve("k.json"), "{\"steps\": 2, \"lr\": 0.001, \"teacher\": 2}");
        assertEquals(2, Ldm4j.run("train", "fgdm", "--factor", "seg", "--config", unknownKey.toString(), "--run", run.toString(), "--base", base.toString()));
        Path ok = Files.writeString(dir.resolve("ok.json"), "{\"steps\": 2, \"lr\": 0.001}");
        assertEquals(2, Ldm4j.run("train", "fgdm", "--factor", "normals", "--config", ok.toString(), "--run", run.toString(), "--base", base.toString()));
        assertEquals(2, Ldm4j.run("train", "fgdm", "--factor", "seg", "--config", ok.toString(), "--run", run.toString(), "--base", dir.resolve("none").toString()));
        Path wrongFactor = Files.writeString(dir.resolve("w.json"), "{\"factor\": \"image\", \"steps\": 2, \"lr\": 0.001}");
        assertEquals(2, Ldm4j.run("train", "fgdm", "--factor", "depth", "--config", wrongFactor.toString(), "--run", run.toString(), "--base", base.toString()));
        assertFalse(Files.exists(run.resolve("checkpoints")), "nothing trained");
    }

    private static String[] concat(String[] a, String... b) {
        String[] out = java.util.Arrays.copyOf(a, a.length + b.length);
        System.arraycopy(b, 0, out, a.length, b.length);
        return out;
    }
}
