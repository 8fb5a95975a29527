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

    /**
     * {@code init}: a factor fine-tuned from an exported FG-DM folder starts as that factor (its export before any step is
     * the init tensor for tensor), then trains with per-object balancing on new scenes; an init folder without the
     * factor, or a negative object weight, is a usage error.
     */
    @Test void fineTunesAnExportedFactor() throws Exception {
        Path base = TinyStableDiffusion.write(dir.resolve("base"), 1);
        Path first = dir.resolve("fgdm"), second = dir.resolve("fgdm2");
        String[] train = {"train", "fgdm", "--factor", "seg", "--config", Files.writeString(dir.resolve("seg.json"), SEG).toString(),
                "--run", dir.resolve("run").toString(), "--base", base.toString()};
        assertEquals(0, Ldm4j.run(train));
        assertEquals(0, Ldm4j.run(concat(train, "--export", first.toString())));

        String fineTune = "{\"init\": \"" + first.toString().replace("\\", "/") + "\", \"object_loss_weight\": 2.0, \"first_seed\": 1000,"
                + " \"batch_size\": 2, \"steps\": 2, \"lr\": 0.01, \"checkpoint_every\": 2, \"seed\": 5}";
        Path ft = Files.writeString(dir.resolve("ft.json"), fineTune);
        String[] ftTrain = {"train", "fgdm", "--factor", "seg", "--config", ft.toString(), "--run", dir.resolve("ft-run").toString(), "--base", base.toString()};
        assertEquals(0, Ldm4j.run(concat(ftTrain, "--export", second.toString())));
        String file = "seg/adapter.safetensors";
        try (org.ldm4j.weights.SafetensorsFile a = org.ldm4j.weights.SafetensorsFile.open(first.resolve(file));
             org.ldm4j.weights.SafetensorsFile b = org.ldm4j.weights.SafetensorsFile.open(second.resolve(file))) {
            assertEquals(a.names(), b.names());
            for (String name : a.names()) assertTrue(a.read(name).equal(b.read(name)), name + " is not the init's");
        }
        assertEquals(0, Ldm4j.run(ftTrain));
        assertEquals("step-00000002", Files.readString(dir.resolve("ft-run/checkpoints/latest")));

        Path noFactor = Files.writeString(dir.resolve("no-factor.json"), fineTune);
        assertEquals(2, Ldm4j.run("train", "fgdm", "--factor", "depth", "--config", noFactor.toString(), "--run", dir.resolve("r3").toString(),
                "--base", base.toString()));
        Path badWeight = Files.writeString(dir.resolve("bad-weight.json"), fineTune.replace("\"object_loss_weight\": 2.0", "\"object_loss_weight\": -1"));
        assertEquals(2, Ldm4j.run("train", "fgdm", "--factor", "seg", "--config", badWeight.toString(), "--run", dir.resolve("r4").toString(),
                "--base", base.toString()));
        assertFalse(Files.exists(dir.resolve("r3/checkpoints")) || Files.exists(dir.resolve("r4/checkpoints")), "nothing trained");
    }

    /**
     * {@code "branch": "unet"}: the root factor trains a copy of the base UNet (the base model's files stay as they
     * were), exports it as a diffusers UNet folder under seg/unet with conditioning own_unet, and the exported folder
     * loads and samples; the key on a child factor, or with another value, is a usage error.
     */
    @Test void trainsARootFactorWithItsOwnUnet() throws Exception {
        Path base = TinyStableDiffusion.write(dir.resolve("base"), 1);
        byte[] baseUnet = Files.readAllBytes(base.resolve("unet/diffusion_pytorch_model.safetensors"));
        String json = "{\"factor\": \"seg\", \"branch\": \"unet\", \"batch_size\": 2, \"steps\": 2, \"lr\": 0.01, \"checkpoint_every\": 1, \"seed\": 0}";
        Path config = Files.writeString(dir.resolve("seg-unet.json"), json);
        Path out = dir.resolve("fgdm");
        String[] train = {"train", "fgdm", "--factor", "seg", "--config", config.toString(), "--run", dir.resolve("run").toString(), "--base", base.toString()};
        assertEquals(0, Ldm4j.run(train));
        assertEquals(0, Ldm4j.run(concat(train, "--export", out.toString())));
        assertArrayEquals(baseUnet, Files.readAllBytes(base.resolve("unet/diffusion_pytorch_model.safetensors")), "the base UNet is untouched");
        JsonNode entry = new ObjectMapper().readTree(out.resolve("fgdm.json").toFile()).get("factors").get(0);
        assertEquals("own_unet", entry.get("conditioning").asText());
        assertEquals("seg/unet", entry.get("weights").asText());
        assertEquals(Files.readString(base.resolve("unet/config.json")), Files.readString(out.resolve("seg/unet/config.json")));
        try (org.ldm4j.weights.SafetensorsFile trained = org.ldm4j.weights.SafetensorsFile.open(out.resolve("seg/unet/diffusion_pytorch_model.safetensors"));
             org.ldm4j.weights.SafetensorsFile original = org.ldm4j.weights.SafetensorsFile.open(base.resolve("unet/diffusion_pytorch_model.safetensors"))) {
            assertEquals(new java.util.TreeSet<>(original.names()), new java.util.TreeSet<>(trained.names()), "every UNet tensor, nothing else");
            boolean moved = false;
            for (String name : trained.names()) {
                moved |= !org.bytedeco.pytorch.global.torch.allclose(trained.read(name).to(org.bytedeco.pytorch.global.torch.ScalarType.Float),
                        original.read(name).to(org.bytedeco.pytorch.global.torch.ScalarType.Float), 1e-3, 1e-3, false);
            }
            assertTrue(moved, "two steps at lr 0.01 moved the copy");
        }
        org.ldm4j.methods.fgdm.FactorGraph graph = org.ldm4j.methods.fgdm.FgdmFolder.read(out)
                .load(org.ldm4j.nn.Dtypes.device("cpu"), org.bytedeco.pytorch.global.torch.ScalarType.Float, org.ldm4j.train.toyworld.ToyWorldMaps.palette());
        assertInstanceOf(org.ldm4j.methods.fgdm.FactorConditioning.OwnUnet.class, graph.factor("seg").conditioning());

        Path child = Files.writeString(dir.resolve("depth-unet.json"), json.replace("\"seg\"", "\"depth\""));
        assertEquals(2, Ldm4j.run("train", "fgdm", "--factor", "depth", "--config", child.toString(), "--run", dir.resolve("r2").toString(), "--base", base.toString()));
        Path other = Files.writeString(dir.resolve("other.json"), json.replace("\"unet\"", "\"lora\""));
        assertEquals(2, Ldm4j.run("train", "fgdm", "--factor", "seg", "--config", other.toString(), "--run", dir.resolve("r3").toString(), "--base", base.toString()));
        assertFalse(Files.exists(dir.resolve("r2/checkpoints")) || Files.exists(dir.resolve("r3/checkpoints")), "nothing trained");
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
