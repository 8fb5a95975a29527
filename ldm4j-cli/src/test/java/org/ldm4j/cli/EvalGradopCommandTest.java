package org.ldm4j.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.bytedeco.pytorch.global.torch;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.ldm4j.pipeline.TinyStableDiffusion;
import org.ldm4j.toyworld.PaintingOptions;
import org.ldm4j.toyworld.Scene;
import org.ldm4j.toyworld.ToyClass;
import org.ldm4j.toyworld.eval.ToyWorldFid;
import org.ldm4j.toyworld.eval.SegmenterConfig;
import org.ldm4j.toyworld.eval.ToyWorldSegmenter;

import javax.imageio.ImageIO;
import java.awt.image.BufferedImage;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.*;

/** {@code ldm4j eval gradop} end to end on the tiny model (16x16 noise images) and a tiny random segmenter. */
class EvalGradopCommandTest {
    @TempDir static Path dir;
    static Path model, segmenter;

    @BeforeAll static void setUp() throws Exception {
        torch.set_num_threads(1);
        torch.manual_seed(0);
        model = TinyStableDiffusion.write(dir.resolve("tiny"), 0);
        segmenter = TinySegmenter.write(dir.resolve("seg"));
    }

    static String[] args(String... extra) {
        List<String> a = new ArrayList<>(List.of("eval", "gradop", "--model", model.toString(), "--segmenter", segmenter.toString(),
                "--size", "16", "--n", "2", "--steps", "3", "--iterations", "1", "--gradop-grad-steps", "2"));
        a.addAll(List.of(extra));
        return a.toArray(new String[0]);
    }

    @Test void everyMethodGetsOneRowOfFiniteFigures() throws Exception {
        Path json = dir.resolve("report.json"), grid = dir.resolve("figures/grid.png");
        CliTest.Result r = CliTest.run(args("--strengths", "0.6,0.8", "--grad-steps", "1,2", "--json", json.toString(), "--grid", grid.toString()));
        assertEquals(0, r.code(), r.err());
        JsonNode report = new ObjectMapper().readTree(Files.readString(json));
        assertEquals(2, report.get("samples").asInt());
        assertEquals(16, report.get("size").asInt());
        // The evaluator's blur at 16 px: radius max(1, round(17·16/512)) = 1, sigma 7·16/512.
        assertEquals(3, report.get("blur_kernel").asInt());
        assertEquals(7.0 * 16 / 512, report.get("blur_sigma").asDouble(), 1e-12);
        List<String> names = new ArrayList<>();
        for (JsonNode row : report.get("methods")) {
            String name = row.get("method").asText();
            names.add(name);
            assertEquals(2, row.get("samples").asInt(), name);
            for (String key : List.of("faithfulness", "psnr_truth", "toyworld_fid", "seconds_per_image", "time_vs_sdedit_0.8")) {
                assertTrue(row.get(key).isNumber() && Double.isFinite(row.get(key).asDouble()), name + " " + key + " = " + row.get(key));
            }
            assertTrue(row.get("faithfulness").asDouble() >= 0 && row.get("toyworld_fid").asDouble() >= -1e-9, name);
            assertTrue(row.get("seconds_per_image").asDouble() > 0, name);
            JsonNode recall = row.get("object_recall");
            assertTrue(recall.isNull() || (recall.asDouble() >= 0 && recall.asDouble() <= 1), name + " recall " + recall);
            assertTrue(r.out().contains(name), "table lacks " + name + ":\n" + r.out());
        }
        assertEquals(List.of("sdedit(0.6)", "sdedit(0.8)", "iterative-sdedit", "gradop+(1)", "gradop+(2)", "gradop+(1,loss/2)", "gradop(2)"), names);
        assertEquals(1.0, report.get("methods").get(1).get("time_vs_sdedit_0.8").asDouble(), 1e-12);
        checkGrid(grid, report.get("grid"));
        // One round of iterative SDEdit is SDEdit(0.8) with the same seed: the same images, so the same figures.
        for (String key : List.of("faithfulness", "psnr_truth", "toyworld_fid")) {
            assertEquals(report.get("methods").get(1).get(key).asDouble(), report.get("methods").get(2).get(key).asDouble(), 1e-9, key);
        }
    }

    /** Two rows (--n 2) of painting | SDEdit(0.8) | GradOP+(first grad steps: 12 was not run) | truth, 2 px white lines. */
    static void checkGrid(Path grid, JsonNode entry) throws Exception {
        assertEquals(List.of("painting", "sdedit(0.8)", "gradop+(1)", "ground truth"),
                new ObjectMapper().convertValue(entry.get("columns"), List.class));
        assertEquals(2, entry.get("rows").asInt());
        BufferedImage img = ImageIO.read(grid.toFile());
        int pad = PictureGrid.PADDING, cell = 16;
        assertEquals(4 * cell + 5 * pad, img.getWidth());
        assertEquals(2 * cell + 3 * pad, img.getHeight());
        List<Scene> scenes = ToyWorldFid.scenes(ToyWorldFid.TEST_SEEDS, 2, 16);
        for (int row = 0; row < 2; row++) {
            Scene s = scenes.get(row);
            int y0 = pad + row * (cell + pad);
            assertArrayEquals(s.painting(s.seed(), PaintingOptions.defaults()).rgb(), tile(img, pad, y0, cell), "painting, row " + row);
            assertArrayEquals(s.rgb(), tile(img, pad + 3 * (cell + pad), y0, cell), "ground truth, row " + row);
            assertFalse(java.util.Arrays.equals(tile(img, pad + cell + pad, y0, cell), tile(img, pad + 2 * (cell + pad), y0, cell)),
                    "SDEdit and GradOP+ cells hold different images");
        }
        assertEquals(0xFFFFFF, img.getRGB(0, 0) & 0xFFFFFF, "white separator");
    }

    static int[] tile(BufferedImage img, int x, int y, int cell) {
        int[] rgb = img.getRGB(x, y, cell, cell, null, 0, cell);
        for (int i = 0; i < rgb.length; i++) rgb[i] &= 0xFFFFFF;
        return rgb;
    }

    /** The row selection options: no lower-resolution rows (an empty list), no iterative SDEdit, no two-pass GradOP. */
    @Test void rowsCanBeLeftOut() throws Exception {
        Path json = dir.resolve("rows.json");
        String[] a = args("--strengths", "0.8", "--grad-steps", "1", "--loss-scales", "", "--no-iterative-sdedit", "--lr", "0.2",
                "--json", json.toString());
        a[java.util.Arrays.asList(a).indexOf("--gradop-grad-steps") + 1] = "0";
        CliTest.Result r = CliTest.run(a);
        assertEquals(0, r.code(), r.err());
        List<String> names = new ArrayList<>();
        for (JsonNode row : new ObjectMapper().readTree(Files.readString(json)).get("methods")) names.add(row.get("method").asText());
        assertEquals(List.of("sdedit(0.8)", "gradop+(1)"), names);
        double floor = new ObjectMapper().readTree(Files.readString(json)).get("toyworld_fid_real_floor").asDouble();
        assertTrue(Double.isFinite(floor) && floor >= 0, "FID floor " + floor);
        CliTest.Result bad = CliTest.run(args("--loss-scales", "two"));
        assertEquals(2, bad.code());
        assertTrue(bad.err().contains("'two' is not an integer"), bad.err());
    }

    @Test void badArgumentsExitWithCode2AndOneLine() {
        CliTest.Result strength = CliTest.run(args("--strengths", "1.5"));
        assertEquals(2, strength.code());
        assertTrue(strength.err().contains("--strengths must be in (0, 1]"), strength.err());
        CliTest.Result scale = CliTest.run(args("--loss-scales", "1"));
        assertEquals(2, scale.code());
        assertTrue(scale.err().contains("--loss-scales must be in 2..16"), scale.err());
        CliTest.Result few = CliTest.run("eval", "gradop", "--model", model.toString(), "--segmenter", segmenter.toString(), "--n", "1");
        assertEquals(2, few.code());
        assertTrue(few.err().contains("--n must be >= 2"), few.err());
        CliTest.Result noSegmenter = CliTest.run("eval", "gradop", "--model", model.toString(), "--segmenter", dir.resolve("none").toString());
        assertEquals(2, noSegmenter.code());
        assertTrue(noSegmenter.err().contains("no segmenter at"), noSegmenter.err());
        CliTest.Result grid = CliTest.run(args("--grid", dir.resolve("grid.jpg").toString()));
        assertEquals(2, grid.code());
        assertTrue(grid.err().contains("--grid must name a .png file") && grid.err().strip().lines().count() == 1, grid.err());
    }
}
