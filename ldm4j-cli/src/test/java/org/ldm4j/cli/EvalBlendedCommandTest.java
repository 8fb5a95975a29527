package org.ldm4j.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.bytedeco.pytorch.global.torch;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.ldm4j.pipeline.TinyStableDiffusion;

import org.ldm4j.toyworld.eval.ImageQuality;

import javax.imageio.ImageIO;
import java.awt.image.BufferedImage;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.*;

/** {@code eval blended} end to end on the tiny model (16x16 noise images) and the committed ToyWorld segmenter. */
class EvalBlendedCommandTest {
    @TempDir static Path dir;
    static Path model;
    /** Tests run in the module folder; the segmenter is committed at the repository root. */
    static final Path SEGMENTER = Path.of("..", "models", "toyworld-segmenter");

    @BeforeAll static void setUp() throws Exception {
        torch.set_num_threads(1);
        model = TinyStableDiffusion.write(dir.resolve("tiny"), 0);
    }

    @Test void reportsEveryPresetAndEditKindWithFiniteFigures() throws Exception {
        Path json = dir.resolve("blended.json"), grid = dir.resolve("grid.png");
        CliTest.Result r = CliTest.run("eval", "blended", "--model", model.toString(), "--segmenter", SEGMENTER.toString(),
                "--size", "16", "--n", "2", "--samples", "2", "--steps", "3", "--repair-steps", "2", "--json", json.toString(),
                "--grid", grid.toString());
        assertEquals(0, r.code(), r.err());
        assertTrue(r.out().contains("time/t2i"), r.out());
        JsonNode report = new ObjectMapper().readTree(Files.readString(json));
        assertEquals(2, report.get("n").asInt());
        assertTrue(report.get("txt2img_ms").asDouble() > 0);
        JsonNode rows = report.get("rows");
        assertEquals(EvalBlendedCommand.PRESETS.size() * EvalBlendedCommand.KINDS.size(), rows.size());
        Map<String, JsonNode> byKey = new HashMap<>();
        for (JsonNode row : rows) byKey.put(row.get("preset").asText() + "/" + row.get("kind").asText(), row);
        for (String kind : EvalBlendedCommand.KINDS) {
            for (String preset : EvalBlendedCommand.PRESETS) {
                JsonNode row = byKey.get(preset + "/" + kind);
                assertNotNull(row, preset + "/" + kind);
                assertEquals(2, row.get("edits").asInt() + row.get("skipped").asInt(), "one edit of each kind per scene: " + row);
                if (row.get("edits").asInt() == 0) continue;
                for (String f : new String[]{"psnr_outside", "ssim_outside", "recall_inside", "recall_inside_unranked", "time_ratio"}) {
                    assertTrue(row.get(f).isNumber() && Double.isFinite(row.get(f).asDouble()), preset + "/" + kind + " " + f + ": " + row);
                }
                double recall = row.get("recall_inside").asDouble();
                assertTrue(recall >= 0 && recall <= 1, row.toString());
                assertTrue(row.get("ssim_outside").asDouble() <= 1 + 1e-9, row.toString());
                assertTrue(row.get("time_ratio").asDouble() > 0, row.toString());
                // the per-class breakdown covers every edit once (each edit asks for one class) and averages to the row's recall
                double sum = 0;
                int edits = 0;
                for (JsonNode c : row.get("recall_inside_by_class")) {
                    sum += c.get("recall_inside").asDouble() * c.get("edits").asInt();
                    edits += c.get("edits").asInt();
                }
                assertEquals(row.get("edits").asInt(), edits, row.toString());
                assertEquals(recall, sum / edits, 1e-9, row.toString());
            }
            // Without repair or paste the kept image is the top-ranked sample, so its recall is the best of the samples': never
            // below their mean. (The recommended preset ranks the samples as delivered, over the input's background.)
            for (String preset : new String[]{"official"}) {
                JsonNode row = byKey.get(preset + "/" + kind);
                if (row.get("edits").asInt() == 0) continue;
                assertTrue(row.get("recall_inside").asDouble() >= row.get("recall_inside_unranked").asDouble() - 1e-9, row.toString());
            }
            JsonNode plain = byKey.get("recommended-no-repair/" + kind), repaired = byKey.get("recommended/" + kind);
            assertEquals(plain.get("edits").asInt(), repaired.get("edits").asInt());
            if (plain.get("edits").asInt() > 0) {
                assertTrue(repaired.get("time_ratio").asDouble() >= plain.get("time_ratio").asDouble(), "the repair costs time");
            }
        }
        assertTrue(byKey.get("recommended/add").get("edits").asInt() + byKey.get("recommended/replace").get("edits").asInt() > 0,
                "some add/replace edits ran: " + rows);
        // each edit lists its samples' ranked recalls (what offline mixes of runs combine); their mean, over a row's
        // edits, is the row's unranked recall
        Map<String, double[]> unranked = new HashMap<>();
        for (JsonNode e : report.get("edits")) {
            if (e.has("skipped")) continue;
            JsonNode recalls = e.get("sample_recalls");
            assertEquals(2, recalls.size(), e.toString());
            double mean = 0;
            for (JsonNode v : recalls) {
                assertTrue(v.asDouble() >= 0 && v.asDouble() <= 1, e.toString());
                mean += v.asDouble() / recalls.size();
            }
            // the recommended preset pastes the input outside the mask, and recall is read on what it delivers: before the
            // repair that is the top-ranked sample as the ranking read it, so the edit's recall is its best sample's
            if (e.get("preset").asText().equals("recommended-no-repair")) {
                double best = 0;
                for (JsonNode v : recalls) best = Math.max(best, v.asDouble());
                assertEquals(best, e.get("recall_inside").asDouble(), 1e-9, e.toString());
                assertTrue(e.has("recall_inside_unpasted"), e.toString());
            }
            double[] sum = unranked.computeIfAbsent(e.get("preset").asText() + "/" + e.get("kind").asText(), k -> new double[2]);
            sum[0] += mean;
            sum[1]++;
        }
        for (Map.Entry<String, double[]> u : unranked.entrySet()) {
            assertEquals(byKey.get(u.getKey()).get("recall_inside_unranked").asDouble(), u.getValue()[0] / u.getValue()[1], 1e-9, u.getKey());
        }
        checkGrid(grid, report);
    }

    /**
     * One row per edit that ran: input | mask | before repair | after repair | official. The cells are the measured
     * images: PSNR outside the mask of cells 3 and 4 against cell 1 gives back the report's per-edit figures.
     */
    static void checkGrid(Path grid, JsonNode report) throws Exception {
        List<JsonNode> before = new ArrayList<>(), after = new ArrayList<>();
        for (JsonNode e : report.get("edits")) {
            if (e.has("skipped")) continue;
            if (e.get("preset").asText().equals("recommended-no-repair")) before.add(e);
            if (e.get("preset").asText().equals("recommended")) after.add(e);
        }
        int rows = Math.min(EvalBlendedCommand.GRID_ROWS, before.size()), cell = 16, pad = PictureGrid.PADDING;
        assertEquals(rows, report.get("grid").get("rows").asInt());
        assertEquals(EvalBlendedCommand.GRID_COLUMNS.size(), report.get("grid").get("columns").size());
        BufferedImage img = ImageIO.read(grid.toFile());
        assertEquals(5 * cell + 6 * pad, img.getWidth());
        assertEquals(rows * cell + (rows + 1) * pad, img.getHeight());
        boolean repairChanged = false;
        for (int row = 0; row < rows; row++) {
            int y = pad + row * (cell + pad);
            int[] input = EvalGradopCommandTest.tile(img, pad, y, cell), mask = EvalGradopCommandTest.tile(img, pad + (cell + pad), y, cell);
            int[] noRepair = EvalGradopCommandTest.tile(img, pad + 2 * (cell + pad), y, cell);
            int[] repaired = EvalGradopCommandTest.tile(img, pad + 3 * (cell + pad), y, cell);
            boolean[] outside = new boolean[mask.length];
            int area = 0;
            for (int k = 0; k < mask.length; k++) {
                assertTrue(mask[k] == 0 || mask[k] == 0xFFFFFF, "mask cell is black/white");
                outside[k] = mask[k] == 0;
                if (!outside[k]) area++;
            }
            assertEquals(before.get(row).get("mask_area").asInt(), area, "row " + row + " mask");
            assertPsnr(before.get(row), ImageQuality.psnr(input, noRepair, outside), "row " + row + " before repair");
            assertPsnr(after.get(row), ImageQuality.psnr(input, repaired, outside), "row " + row + " after repair");
            repairChanged |= !Arrays.equals(noRepair, repaired);
        }
        assertTrue(repairChanged, "the repair changes some edit");
    }

    private static void assertPsnr(JsonNode edit, double psnr, String what) {
        JsonNode v = edit.get("psnr_outside");
        if (v.isNull()) assertTrue(Double.isInfinite(psnr), what); else assertEquals(v.asDouble(), psnr, 1e-9, what);
    }

    /**
     * When the preset restores the background, samples are scored as delivered: the input outside the mask. Two edits
     * equal inside the mask but one greyed outside then find the same objects, those of the input itself.
     */
    @Test void rankingReadsTheSampleAsDeliveredWhenThePresetRestoresTheBackground() throws Exception {
        org.ldm4j.toyworld.Scene scene = org.ldm4j.toyworld.ToyWorld.sample(2_000_003, org.ldm4j.toyworld.SceneOptions.square(64));
        org.ldm4j.toyworld.SceneObject largest = scene.objects().stream()
                .max(java.util.Comparator.comparingInt(org.ldm4j.toyworld.SceneObject::pixels)).orElseThrow();
        org.ldm4j.toyworld.Mask mask = scene.objectMask(largest);
        org.bytedeco.pytorch.Tensor source = org.ldm4j.image.Images.toTensor(scene.image());
        org.bytedeco.pytorch.Tensor m = org.ldm4j.image.Images.maskToTensor(mask.image());
        org.bytedeco.pytorch.Tensor greyOutside = source.mul(m);   // 0 = mid grey in [-1, 1]
        org.ldm4j.toyworld.eval.ToyWorldSegmenter segmenter = org.ldm4j.toyworld.eval.ToyWorldSegmenter.load(SEGMENTER);
        EvalBlendedCommand.RecallInsideMask delivered = new EvalBlendedCommand.RecallInsideMask(segmenter,
                new org.ldm4j.toyworld.eval.ObjectRecall(0.002), mask, java.util.EnumSet.of(largest.toyClass()), true);
        double onSource = delivered.recallOf(source);
        assertEquals(1.0, onSource, "the segmenter finds the " + largest.toyClass() + " in the real scene");
        assertEquals(onSource, Math.floor(delivered.score(greyOutside, source, m, "x")), "recall read on the composite");
        assertEquals(onSource, Math.floor(delivered.score(source, source, m, "x")));
    }

    /** The prompt words: ToyWorld caption order (size, colour, noun), each only when asked for. */
    @Test void promptsUseTheCaptionsWordOrder() throws Exception {
        assertEquals("a house", EvalBlendedCommand.phrase(org.ldm4j.toyworld.ToyClass.HOUSE));
        assertEquals("a patch of flowers", EvalBlendedCommand.phrase(org.ldm4j.toyworld.ToyClass.FLOWERS));
        assertEquals("a small red car", EvalBlendedCommand.phrase(org.ldm4j.toyworld.ToyClass.CAR, true, "red"));
        assertEquals("a small patch of pink flowers", EvalBlendedCommand.phrase(org.ldm4j.toyworld.ToyClass.FLOWERS, true, "pink"));
        Path json = dir.resolve("words.json");
        CliTest.Result r = CliTest.run("eval", "blended", "--model", model.toString(), "--segmenter", SEGMENTER.toString(),
                "--size", "16", "--n", "1", "--samples", "1", "--steps", "2", "--kinds", "replace", "--no-official",
                "--repair-steps", "0", "--small-below", "4096", "--colour-words", "--json", json.toString());
        assertEquals(0, r.code(), r.err());
        JsonNode edit = new ObjectMapper().readTree(Files.readString(json)).get("edits").get(0);
        String colour = "(white|red|yellow|blue|brown|green|black|grey|pink|purple)";   // every mask is smaller than the image
        assertTrue(edit.get("prompt").asText().matches("a small (" + colour + " (house|car|boat|rock)|tree|patch of " + colour + " flowers)"),
                edit.toString());
    }

    /**
     * The measured options of session 30: the replaced object as the negative prompt (named in the report per edit),
     * the scene caption's setting after the object, and the pure-noise start, recorded in the report; RePaint's resampling needs DDIM (the tiny model samples with
     * PNDM).
     */
    @Test void negativePromptStartAndResamplingReachTheReport() throws Exception {
        Path json = dir.resolve("negative.json");
        CliTest.Result r = CliTest.run("eval", "blended", "--model", model.toString(), "--segmenter", SEGMENTER.toString(),
                "--size", "16", "--n", "1", "--samples", "1", "--steps", "2", "--kinds", "add,replace", "--no-official",
                "--repair-steps", "0", "--negative-replaced", "--start", "noise", "--scene-words", "--json", json.toString());
        assertEquals(0, r.code(), r.err());
        JsonNode report = new ObjectMapper().readTree(Files.readString(json));
        assertEquals("noise", report.get("start").asText());
        CliTest.Result pndm = CliTest.run("eval", "blended", "--model", model.toString(), "--segmenter", SEGMENTER.toString(),
                "--size", "16", "--resample", "2");   // refused once the model's scheduler is known, before any edit
        assertEquals(2, pndm.code(), pndm.err());
        assertTrue(pndm.err().strip().lines().reduce((a, b) -> b).orElse("").startsWith("ldm4j: --resample needs the DDIM scheduler"), pndm.err());
        org.ldm4j.toyworld.Scene scene = org.ldm4j.toyworld.ToyWorld.sample(report.get("first_seed").asLong(), org.ldm4j.toyworld.SceneOptions.square(16));
        org.ldm4j.toyworld.ToyClass largest = scene.objects().stream()
                .max(java.util.Comparator.comparingInt(org.ldm4j.toyworld.SceneObject::pixels)).orElseThrow().toyClass();
        int checked = 0;
        for (JsonNode edit : report.get("edits")) {
            if (edit.has("skipped")) continue;
            checked++;
            String expected = edit.get("kind").asText().equals("replace") ? EvalBlendedCommand.phrase(largest) : "";
            assertEquals(expected, edit.get("negative_prompt").asText(), edit.toString());
            String prompt = edit.get("prompt").asText(), object = prompt.split(" (on|in|by|near|under|at) ", 2)[0];
            assertTrue(prompt.length() > object.length() && scene.caption().endsWith(prompt.substring(object.length())),
                    "the object, then the scene caption's setting: " + prompt + " / " + scene.caption());
        }
        assertTrue(checked > 0, "no edit ran: " + report);
    }

    @Test void badArgumentsAreOneLineErrors() {
        assertUsageError("--samples", "--samples", "0");
        CliTest.Result m = CliTest.run("eval", "blended", "--model", dir.resolve("missing").toString(), "--segmenter", SEGMENTER.toString(), "--size", "16");
        assertEquals(2, m.code());
        assertTrue(m.err().startsWith("ldm4j: ") && m.err().strip().lines().count() == 1, m.err());
        assertUsageError("--grid must name a .png file", "--grid", "grid.gif");
        assertUsageError("--first must be >= 0", "--first", "-1");
        assertUsageError("--repair-weight must be > 0", "--repair-weight", "0");
        assertUsageError("--small-below must be >= 0", "--small-below", "-3");
        assertUsageError("--shrink-until needs --dilate > 0", "--shrink-until", "10");
        assertUsageError("--start: unknown value 'sideways'", "--start", "sideways");
        assertUsageError("resample passes must be in 1..20", "--resample", "0");
        String d = assertUsageError("--mask-downsampling: unknown value 'bicubic'", "--mask-downsampling", "bicubic");
        assertTrue(d.contains("max"), "the message lists the known values: " + d);
    }

    /** Runs eval blended on the tiny model with {@code args}: exit code 2 and one line on stderr containing {@code expected}. */
    private static String assertUsageError(String expected, String... args) {
        List<String> argv = new ArrayList<>(List.of("eval", "blended", "--model", model.toString(), "--segmenter", SEGMENTER.toString()));
        argv.addAll(List.of(args));
        CliTest.Result r = CliTest.run(argv.toArray(String[]::new));
        assertEquals(2, r.code(), r.err());
        assertTrue(r.err().contains(expected) && r.err().strip().lines().count() == 1, r.err());
        return r.err();
    }
}
