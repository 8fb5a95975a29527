package org.ldm4j.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.bytedeco.pytorch.global.torch;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.ldm4j.models.vae.AutoencoderKL;
import org.ldm4j.models.vae.AutoencoderKLConfig;
import org.ldm4j.pipeline.TinyStableDiffusion;
import org.ldm4j.toyworld.ToyClass;
import org.ldm4j.weights.SafetensorsWriter;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.*;

/** {@code ldm4j eval vae} on tiny random autoencoders (16x16 scenes) and a tiny random segmenter. */
class EvalVaeCommandTest {
    @TempDir static Path dir;
    static Path model, otherVae, eightChannelVae, segmenter;

    @BeforeAll static void setUp() throws Exception {
        torch.set_num_threads(1);
        model = TinyStableDiffusion.write(dir.resolve("tiny"), 0);
        otherVae = TinyStableDiffusion.write(dir.resolve("tiny-other"), 1).resolve("vae");
        segmenter = TinySegmenter.write(dir.resolve("seg"));
        // An autoencoder no UNet of the project fits (8 latent channels): eval vae must not need one.
        String config = TinyStableDiffusion.VAE.replace("\"latent_channels\": 4", "\"latent_channels\": 8");
        eightChannelVae = dir.resolve("vae8");
        Files.createDirectories(eightChannelVae);
        Files.writeString(eightChannelVae.resolve("config.json"), config);
        torch.manual_seed(2);
        SafetensorsWriter.write(eightChannelVae.resolve("diffusion_pytorch_model.safetensors"),
                new AutoencoderKL(AutoencoderKLConfig.parse(config)).stateDict(), Map.of("format", "pt"));
    }

    @Test void comparesAutoencodersOnTheSameScenesAndAgreesWithEvalModel() throws Exception {
        Path json = dir.resolve("vae.json");
        CliTest.Result r = CliTest.run("eval", "vae", "--vae", model.resolve("vae").toString(), "--vae", otherVae.toString(),
                "--vae", eightChannelVae.toString(), "--n", "3", "--size", "16", "--segmenter", segmenter.toString(), "--json", json.toString());
        assertEquals(0, r.code(), r.err());
        JsonNode rows = new ObjectMapper().readTree(Files.readString(json)).get("rows");
        assertEquals(4, rows.size(), "the real scenes and three autoencoders");
        assertEquals("real scenes", rows.get(0).get("images").asText());
        assertFalse(rows.get(0).has("psnr"), "the real scenes are the reference, not a reconstruction");
        for (int i = 1; i < 4; i++) {
            assertTrue(Double.isFinite(rows.get(i).get("psnr").asDouble()) && rows.get(i).get("ssim").asDouble() <= 1, rows.get(i).toString());
            assertEquals(ToyClass.count(), rows.get(i).get("by_class").size());
        }
        assertNotEquals(rows.get(1).get("psnr").asDouble(), rows.get(2).get("psnr").asDouble(), "different weights, different reconstructions");
        assertTrue(r.out().contains("flowers"), r.out());

        // The same autoencoder, scenes and FID reference as eval model's reconstruction figures.
        Path modelJson = dir.resolve("model.json");
        CliTest.Result m = CliTest.run("eval", "model", "--model", model.toString(), "--segmenter", segmenter.toString(),
                "--n", "3", "--steps", "1", "--json", modelJson.toString());
        assertEquals(0, m.code(), m.err());
        JsonNode modelReport = new ObjectMapper().readTree(Files.readString(modelJson));
        assertEquals(modelReport.get("vae_psnr").asDouble(), rows.get(1).get("psnr").asDouble(), 1e-9);
        assertEquals(modelReport.get("fid_vae_reconstruction").asDouble(), rows.get(1).get("fid").asDouble(), 1e-9);
        assertEquals(modelReport.get("fid_real").asDouble(), rows.get(0).get("fid").asDouble(), 1e-9);
    }

    @Test void aFolderWithoutAnAutoencoderIsAUsageErrorNamingIt() {
        Path none = dir.resolve("none");
        CliTest.Result r = CliTest.run("eval", "vae", "--vae", none.toString(), "--n", "3", "--size", "16", "--segmenter", segmenter.toString());
        assertEquals(2, r.code(), r.err());
        assertTrue(r.err().contains("cannot load VAE '" + none + "'"), r.err());
        CliTest.Result few = CliTest.run("eval", "vae", "--vae", otherVae.toString(), "--n", "1", "--segmenter", segmenter.toString());
        assertEquals(2, few.code());
        assertTrue(few.err().contains("--n must be >= 2"), few.err());
    }
}
