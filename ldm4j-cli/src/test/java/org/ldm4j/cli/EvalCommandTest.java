package org.ldm4j.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.bytedeco.pytorch.global.torch;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.ldm4j.image.Images;
import org.ldm4j.toyworld.PaintingOptions;
import org.ldm4j.toyworld.Scene;
import org.ldm4j.toyworld.ToyClass;
import org.ldm4j.toyworld.eval.SegmenterConfig;
import org.ldm4j.toyworld.eval.ToyWorldFid;
import org.ldm4j.toyworld.eval.ToyWorldSegmenter;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The eval commands end to end on a tiny random segmenter and a few ToyWorld scenes written as PNGs. */
class EvalCommandTest {
    @TempDir static Path dir;
    static Path segmenter, scenes, paintings;

    @BeforeAll static void write() throws Exception {
        torch.set_num_threads(1);
        torch.manual_seed(0);
        segmenter = TinySegmenter.write(dir.resolve("seg"));
        scenes = Files.createDirectories(dir.resolve("scenes"));
        paintings = Files.createDirectories(dir.resolve("paintings"));
        List<Scene> list = ToyWorldFid.scenes(ToyWorldFid.TEST_SEEDS, 3, 32);
        for (int i = 0; i < list.size(); i++) {
            Scene s = list.get(i);
            Images.writePng(s.image(), scenes.resolve("s" + i + ".png"));
            Images.writePng(s.painting(s.seed(), PaintingOptions.defaults()).image(), paintings.resolve("s" + i + ".png"));
        }
    }

    static JsonNode json(Path p) throws Exception { return new ObjectMapper().readTree(Files.readString(p)); }

    @Test void faithfulnessOfPaintingsToThemselvesIsZeroAndOfScenesPositive() throws Exception {
        Path self = dir.resolve("self.json"), real = dir.resolve("real.json");
        CliTest.Result a = CliTest.run("eval", "faithfulness", "--images", paintings.toString(), "--paintings", paintings.toString(), "--json", self.toString());
        assertEquals(0, a.code(), a.err());
        assertEquals(0.0, json(self).get("mean_faithfulness").asDouble(), 1e-12);
        CliTest.Result b = CliTest.run("eval", "faithfulness", "--images", scenes.toString(), "--paintings", paintings.toString(),
                "--truth", scenes.toString(), "--json", real.toString());
        assertEquals(0, b.code(), b.err());
        assertTrue(json(real).get("mean_faithfulness").asDouble() > 0);
        assertEquals(3, json(real).get("samples").asInt());
        assertEquals(100.0, json(real).get("mean_psnr_truth").asDouble(), 1e-9);
        assertTrue(b.out().contains("(3 images)"), b.out());
    }

    @Test void recallAndSanityRunOnATinySegmenter() throws Exception {
        Path report = dir.resolve("recall.json");
        CliTest.Result r = CliTest.run("eval", "recall", "--segmenter", segmenter.toString(), "--images", scenes.toString(),
                "--prompt", "a house and a tree", "--json", report.toString());
        assertEquals(0, r.code(), r.err());
        double recall = json(report).get("mean_recall").asDouble();
        assertTrue(recall >= 0 && recall <= 1, "recall " + recall);
        assertEquals(3, json(report).get("samples").asInt());
        CliTest.Result s = CliTest.run("eval", "sanity", "--segmenter", segmenter.toString(), "--count", "20", "--size", "32",
                "--vae", dir.resolve("no-vae").toString());
        assertEquals(0, s.code(), s.err());
        assertTrue(s.out().contains("no VAE at"), s.out());
        assertTrue(s.out().contains("flat stroke paintings"), s.out());
    }

    /** Counts out of range name their option, before any work (a missing segmenter is not reached). */
    @Test void fidCountsNameTheirOption() throws Exception {
        for (String count : new String[]{"0", "1", "-4"}) {
            CliTest.assertOneLineError(CliTest.run("eval", "fid", "--segmenter", dir.resolve("missing").toString(), "--images", scenes.toString(),
                    "--reference-count", count), 2, "--reference-count must be in 2..1000000 (test scenes), got " + count);
        }
        Path one = Files.createDirectories(dir.resolve("one-image"));
        Files.copy(Files.list(scenes).filter(p -> p.toString().endsWith(".png")).findFirst().orElseThrow(), one.resolve("a.png"));
        CliTest.assertOneLineError(CliTest.run("eval", "fid", "--segmenter", segmenter.toString(), "--images", one.toString(),
                "--reference-count", "2"), 2, "--images: ToyWorld-FID needs at least 2 images, got 1");
    }

    /** toyworld dataset: a count or size out of range names its option, and no split is written before the check. */
    @Test void toyworldDatasetOptionsAreCheckedFirst() {
        Path out = dir.resolve("toyworld-dataset");
        CliTest.assertOneLineError(CliTest.run("toyworld", "dataset", "--out", out.toString(), "--train", "-1"), 2,
                "--train must be in 0..1000000 scenes, got -1");
        CliTest.assertOneLineError(CliTest.run("toyworld", "dataset", "--out", out.toString(), "--train", "1", "--validation", "1", "--test", "-3"), 2,
                "--test must be in 0..1000000 scenes, got -3");
        CliTest.assertOneLineError(CliTest.run("toyworld", "dataset", "--out", out.toString(), "--train", "1", "--size", "7"), 2, "--size: ");
        assertFalse(Files.exists(out), "nothing written");
    }

    @Test void missingSegmenterIsAOneLineError() {
        CliTest.Result r = CliTest.run("eval", "recall", "--segmenter", dir.resolve("missing").toString(), "--images", scenes.toString());
        assertEquals(2, r.code());
        assertTrue(r.err().contains("no segmenter at"), r.err());
    }
}
