package org.ldm4j.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.bytedeco.pytorch.global.torch;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.ldm4j.pipeline.TinyStableDiffusion;
import org.ldm4j.toyworld.ToyClass;
import org.ldm4j.toyworld.eval.SegmenterConfig;
import org.ldm4j.toyworld.eval.ToyWorldSegmenter;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.*;

/** {@code ldm4j eval model} end to end on the tiny model (16x16) and a tiny random segmenter. */
class EvalModelCommandTest {
    @TempDir static Path dir;
    static Path model, segmenter;

    @BeforeAll static void setUp() throws Exception {
        torch.set_num_threads(1);
        torch.manual_seed(0);
        model = TinyStableDiffusion.write(dir.resolve("tiny"), 0);
        segmenter = TinySegmenter.write(dir.resolve("seg"));
    }

    @Test void reportsEveryBarAndItsFiguresAgreeWithTheSingleEvaluations() throws Exception {
        Path json = dir.resolve("model.json"), saved = dir.resolve("generated");
        CliTest.Result r = CliTest.run("eval", "model", "--model", model.toString(), "--segmenter", segmenter.toString(),
                "--n", "4", "--steps", "3", "--json", json.toString(), "--save", saved.toString());
        assertEquals(0, r.code(), r.err());
        JsonNode report = new ObjectMapper().readTree(Files.readString(json));
        assertEquals(16, report.get("size").asInt());
        for (String key : List.of("vae_psnr", "fid_text2img", "fid_vae_reconstruction", "fid_ratio", "fid_real", "fid_paintings",
                "texture_real", "texture_text2img", "texture_paintings", "seconds_per_image", "images_per_second")) {
            assertTrue(report.get(key).isNumber() && Double.isFinite(report.get(key).asDouble()), key + " = " + report.get(key));
        }
        assertEquals(report.get("fid_text2img").asDouble() / report.get("fid_vae_reconstruction").asDouble(), report.get("fid_ratio").asDouble(), 1e-9);
        for (String label : List.of("VAE reconstruction PSNR", "text2img object recall", "FID ratio", "seconds per image")) {
            assertTrue(r.out().contains(label), "table lacks " + label + ":\n" + r.out());
        }
        assertTrue(r.out().contains("PASS") || r.out().contains("FAIL"), r.out());
        // the saved images carry their captions: eval recall on them must give the same mean recall
        try (Stream<Path> s = Files.list(saved)) {
            assertEquals(4, s.filter(p -> p.getFileName().toString().matches("\\d{5}\\.png")).count());
        }
        java.awt.image.BufferedImage grid = javax.imageio.ImageIO.read(saved.resolve("grid.png").toFile());
        assertTrue(grid.getWidth() >= 8 * 16 && grid.getHeight() >= 16 && grid.getHeight() < 2 * 16,
                "one row of 4 (real | generated) pairs: " + grid.getWidth() + "x" + grid.getHeight());
        assertEquals(4, Files.readAllLines(saved.resolve("grid.txt")).size());
        Files.delete(saved.resolve("grid.png"));
        Files.delete(saved.resolve("grid.txt"));
        Path recallJson = dir.resolve("recall.json");
        CliTest.Result rr = CliTest.run("eval", "recall", "--images", saved.toString(), "--segmenter", segmenter.toString(),
                "--json", recallJson.toString());
        assertEquals(0, rr.code(), rr.err());
        JsonNode recall = new ObjectMapper().readTree(Files.readString(recallJson));
        if (report.get("object_recall").isNull()) assertTrue(recall.get("mean_recall").isNull() || Double.isNaN(recall.get("mean_recall").asDouble()));
        else assertEquals(report.get("object_recall").asDouble(), recall.get("mean_recall").asDouble(), 1e-9);
    }

    /** --vae measures another decoder on the same model: its PSNR is that decoder's, and the report names it. */
    @Test void vaeEvaluatesAnotherAutoencoder() throws Exception {
        Path own = dir.resolve("own.json"), other = dir.resolve("other.json");
        Path otherVae = TinyStableDiffusion.write(dir.resolve("tiny-other"), 1).resolve("vae");
        String[] common = {"eval", "model", "--model", model.toString(), "--segmenter", segmenter.toString(), "--n", "2", "--steps", "2"};
        CliTest.Result a = CliTest.run(concat(common, "--json", own.toString(), "--vae", model.resolve("vae").toString()));
        CliTest.Result b = CliTest.run(concat(common, "--json", other.toString(), "--vae", otherVae.toString()));
        assertEquals(0, a.code(), a.err());
        assertEquals(0, b.code(), b.err());
        JsonNode ownReport = new ObjectMapper().readTree(Files.readString(own)), otherReport = new ObjectMapper().readTree(Files.readString(other));
        assertEquals(otherVae.toString(), otherReport.get("vae").asText());
        assertNotEquals(ownReport.get("vae_psnr").asDouble(), otherReport.get("vae_psnr").asDouble());
        CliTest.Result missing = CliTest.run(concat(common, "--vae", dir.resolve("none").toString()));
        assertEquals(2, missing.code());
        assertTrue(missing.err().contains("cannot use --vae"), missing.err());
    }

    private static String[] concat(String[] a, String... b) {
        String[] out = java.util.Arrays.copyOf(a, a.length + b.length);
        System.arraycopy(b, 0, out, a.length, b.length);
        return out;
    }

    @Test void tooFewScenesIsAUsageError() {
        CliTest.Result few = CliTest.run("eval", "model", "--model", model.toString(), "--segmenter", segmenter.toString(), "--n", "1");
        assertEquals(2, few.code());
        assertTrue(few.err().contains("--n must be >= 2"), few.err());
    }
}
