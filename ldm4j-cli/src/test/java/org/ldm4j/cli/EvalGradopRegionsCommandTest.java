package org.ldm4j.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.ScalarTypeOptional;
import org.bytedeco.pytorch.global.torch;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.ldm4j.methods.gradop.RegionSemantics;
import org.ldm4j.methods.gradop.StrokePainting;
import org.ldm4j.nn.Dtypes;
import org.ldm4j.nn.Tensors;
import org.ldm4j.pipeline.ModelLoader;
import org.ldm4j.pipeline.StableDiffusion;
import org.ldm4j.pipeline.TinyStableDiffusion;
import org.ldm4j.toyworld.Painting;
import org.ldm4j.toyworld.PaintingOptions;
import org.ldm4j.toyworld.Scene;
import org.ldm4j.toyworld.SceneOptions;
import org.ldm4j.toyworld.ToyClass;
import org.ldm4j.toyworld.ToyWorld;
import org.ldm4j.toyworld.eval.SegmenterConfig;
import org.ldm4j.toyworld.eval.ToyWorldFid;
import org.ldm4j.toyworld.eval.ToyWorldSegmenter;

import javax.imageio.ImageIO;
import java.awt.Color;
import java.awt.image.BufferedImage;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.*;

/** {@code ldm4j eval gradop-regions}: the case construction, the success rule, and the command on the tiny model. */
class EvalGradopRegionsCommandTest {
    @TempDir static Path dir;
    static Path model, segmenter;

    @BeforeAll static void setUp() throws Exception {
        torch.set_num_threads(1);
        torch.manual_seed(0);
        model = TinyStableDiffusion.write(dir.resolve("tiny"), 0);
        segmenter = TinySegmenter.write(dir.resolve("seg"));
    }

    static String[] args(String... extra) {
        List<String> a = new ArrayList<>(List.of("eval", "gradop-regions", "--model", model.toString(), "--segmenter", segmenter.toString(),
                "--size", "16", "--n", "2", "--steps", "3", "--iterations", "1", "--grad-steps", "1"));
        a.addAll(List.of(extra));
        return a.toArray(new String[0]);
    }

    @Test void casesAreTwoDisjointDiscsOfOneGreenFamilyThatGradopSeesAsExactlyTheTwoRegions() throws Exception {
        Color c1 = EvalGradopRegionsCommand.COLOUR_1, c2 = EvalGradopRegionsCommand.COLOUR_2;
        for (Color c : List.of(c1, c2)) assertTrue(c.getGreen() > c.getRed() + 40 && c.getGreen() > c.getBlue() + 40, "green: " + c);
        double apart = EvalGradopRegionsCommand.distance(c1.getRGB() & 0xFFFFFF, c2.getRGB() & 0xFFFFFF);
        assertTrue(apart > 2 * EvalGradopRegionsCommand.TOLERANCE && apart < 40, "one family, still separable: " + apart);
        StableDiffusion sd = ModelLoader.load(model.toString(), ModelLoader.Options.defaults(), Dtypes.device("cpu"), torch.ScalarType.Float);
        int found = 0, r = EvalGradopRegionsCommand.radius(64);
        for (long seed = ToyWorldFid.TEST_SEEDS; seed < ToyWorldFid.TEST_SEEDS + 12; seed++) {
            Scene scene = ToyWorld.sample(seed, SceneOptions.square(64));
            EvalGradopRegionsCommand.RegionCase c = EvalGradopRegionsCommand.build(scene);
            if (c == null) continue;
            found++;
            boolean[] d1 = c.discs()[0], d2 = c.discs()[1];
            Painting painting = scene.painting(scene.seed(), PaintingOptions.defaults());
            int[] base = painting.rgb();
            java.util.Set<Integer> gone = new java.util.HashSet<>(), things = new java.util.HashSet<>();
            c.replaced().forEach(o -> gone.add(o.instanceId()));
            scene.objects().forEach(o -> things.add(o.instanceId()));
            assertEquals(2, gone.size());
            int area = EvalGradopRegionsCommand.count(d1);
            assertEquals(area, EvalGradopRegionsCommand.count(d2), "both discs lie wholly inside the image");
            assertTrue(Math.abs(area - Math.PI * r * r) < 2 * Math.PI * r, "disc of radius " + r + ": " + area + " px");
            for (int p = 0; p < d1.length; p++) {
                assertFalse(d1[p] && d2[p], "disjoint discs");
                if (d1[p]) assertEquals(c1.getRGB() & 0xFFFFFF, c.painting()[p]);
                else if (d2[p]) assertEquals(c2.getRGB() & 0xFFFFFF, c.painting()[p]);
                else if (!gone.contains(painting.regionOf()[p])) assertEquals(base[p], c.painting()[p], "the scene's painting elsewhere");
                else assertTrue(backgroundOnRow(painting, things, p / 64, c.painting()[p]), "a painted-out object takes background paint");
            }
            // GradOP's own region masks (nearest colour within the tolerance) are exactly the two discs: no grass joins.
            try (PointerScope scope = new PointerScope()) {
                String prompt = EvalGradopRegionsCommand.prompt(scene);
                RegionSemantics rs = RegionSemantics.build(StrokePainting.toTensor(PictureGrid.image(c.painting(), 64, 64)),
                        new EvalGradopRegionsCommand().mapping(ToyClass.TREE, ToyClass.CAR), sd.tokenizer, sd.encodePrompt(prompt, "", 0).encoding());
                float[] masks = Tensors.toFloats(rs.masks().contiguous());
                for (int p = 0; p < d1.length; p++) {
                    assertEquals(d1[p] ? 1f : 0f, masks[p], "mask 1 at " + p);
                    assertEquals(d2[p] ? 1f : 0f, masks[d1.length + p], "mask 2 at " + p);
                }
                // Region 1 is "tree", region 2 "car"; the prompt names the car first, so its tokens come first.
                int[] tree = rs.tokens(0), car = rs.tokens(1);
                assertTrue(tree.length > 0 && car.length > 0 && car[car.length - 1] < tree[0], prompt);
            }
        }
        assertTrue(found >= 6, "most test scenes have two ground objects: " + found + " of 12");
    }

    /** Whether some non-object pixel of row y is painted in this colour. */
    static boolean backgroundOnRow(Painting painting, java.util.Set<Integer> things, int y, int colour) {
        for (int x = 0; x < painting.width(); x++) {
            int p = y * painting.width() + x;
            if (!things.contains(painting.regionOf()[p]) && painting.rgb()[p] == colour) return true;
        }
        return false;
    }

    @Test void aRegionPassesWhenItsClassCoversEnoughAndBeatsEveryOtherObject() {
        boolean[] region = new boolean[20];
        for (int p = 0; p < 10; p++) region[p] = true;
        int[] map = new int[20];
        java.util.Arrays.fill(map, ToyClass.GRASS.ordinal());
        for (int p = 10; p < 20; p++) map[p] = ToyClass.TREE.ordinal();   // outside the region: never counted
        assertFalse(EvalGradopRegionsCommand.regionPasses(map, region, ToyClass.TREE, 0.2), "only grass inside");
        for (int p = 0; p < 3; p++) map[p] = ToyClass.TREE.ordinal();
        assertTrue(EvalGradopRegionsCommand.regionPasses(map, region, ToyClass.TREE, 0.2), "3/10 tree, the rest stuff");
        assertFalse(EvalGradopRegionsCommand.regionPasses(map, region, ToyClass.TREE, 0.4), "below the area threshold");
        assertFalse(EvalGradopRegionsCommand.regionPasses(map, region, ToyClass.CAR, 0.2), "the car is absent");
        for (int p = 3; p < 6; p++) map[p] = ToyClass.CAR.ordinal();
        assertFalse(EvalGradopRegionsCommand.regionPasses(map, region, ToyClass.TREE, 0.2), "a tie with the car is no majority");
        map[6] = ToyClass.CAR.ordinal();
        assertTrue(EvalGradopRegionsCommand.regionPasses(map, region, ToyClass.CAR, 0.2), "car 4 > tree 3");
    }

    @Test void reportsBothMappingsAndTheBaselineFromTheSameSeeds() throws Exception {
        Path json = dir.resolve("regions.json"), grid = dir.resolve("regions.png");
        CliTest.Result r = CliTest.run(args("--seed", "5", "--json", json.toString(), "--grid", grid.toString()));
        assertEquals(0, r.code(), r.err());
        JsonNode report = new ObjectMapper().readTree(Files.readString(json));
        assertEquals(2, report.get("samples").asInt());
        assertTrue(r.out().contains("gradop+ with regions") && r.out().contains("gradop+ plain (baseline)"), r.out());
        JsonNode scenes = report.get("scenes");
        assertEquals(2, scenes.size());
        double[] regionsA = new double[1], swap = new double[1];
        boolean moved = false;
        for (int i = 0; i < 2; i++) {
            JsonNode runs = scenes.get(i).get("runs");
            for (String run : EvalGradopRegionsCommand.RUNS) assertEquals(5 + i, runs.get(run).get("seed").asLong(), run + " scene " + i);
            boolean a = runs.get("regions_a").get("passes").get(0).asBoolean() && runs.get("regions_a").get("passes").get(1).asBoolean();
            boolean b = runs.get("regions_b").get("passes").get(0).asBoolean() && runs.get("regions_b").get("passes").get(1).asBoolean();
            regionsA[0] += a ? 0.5 : 0;
            swap[0] += a && b ? 0.5 : 0;
            moved |= scenes.get(i).get("ab_mean_abs_diff").asDouble() > 0;
        }
        assertTrue(moved, "swapping the mapping changes the image");
        JsonNode regions = report.get("arms").get(0), plain = report.get("arms").get(1);
        assertEquals("regions", regions.get("arm").asText());
        assertEquals(regionsA[0], regions.get("mapping_a").asDouble(), 1e-12);
        assertEquals(swap[0], regions.get("swap").asDouble(), 1e-12);
        assertEquals(0.0, plain.get("swap").asDouble(), "one image cannot pass both mappings");
        for (JsonNode arm : report.get("arms")) {
            for (String key : List.of("mapping_a", "mapping_b", "swap", "region_hits")) {
                double v = arm.get(key).asDouble();
                assertTrue(v >= 0 && v <= 1, arm + " " + key);
            }
            assertTrue(Double.isFinite(arm.get("faithfulness").asDouble()) && arm.get("seconds_per_image").asDouble() > 0, arm.toString());
        }
        BufferedImage img = ImageIO.read(grid.toFile());
        assertEquals(4 * 16 + 5 * PictureGrid.PADDING, img.getWidth());
        assertEquals(2 * 16 + 3 * PictureGrid.PADDING, img.getHeight());
        assertArrayEquals(EvalGradopRegionsCommand.build(ToyWorld.sample(scenes.get(0).get("scene_seed").asLong(), SceneOptions.square(16))).painting(),
                EvalGradopCommandTest.tile(img, PictureGrid.PADDING, PictureGrid.PADDING, 16), "first cell: the painting with its discs");
    }

    @Test void withoutRegionStrengthBothMappingsGiveTheSameImage() throws Exception {
        // Strength 0 removes the bias: A and B then differ only if their seeds or noise differ, which they must not.
        Path json = dir.resolve("zero.json");
        CliTest.Result r = CliTest.run(args("--region-strength", "0", "--json", json.toString()));
        assertEquals(0, r.code(), r.err());
        for (JsonNode scene : new ObjectMapper().readTree(Files.readString(json)).get("scenes")) {
            assertEquals(0.0, scene.get("ab_mean_abs_diff").asDouble(), scene.toString());
            assertEquals(scene.get("runs").get("regions_a").get("object_pixels"), scene.get("runs").get("regions_b").get("object_pixels"));
        }
    }

    @Test void badArgumentsExitWithCode2AndOneLine() {
        for (String[] bad : List.of(new String[]{"--min-fraction", "0"}, new String[]{"--region-strength", "-1"}, new String[]{"--n", "0"},
                new String[]{"--grid", "x.jpg"})) {
            CliTest.Result r = CliTest.run(args(bad));
            assertEquals(2, r.code(), String.join(" ", bad));
            assertTrue(r.err().contains(bad[0]) && r.err().strip().lines().count() == 1, r.err());
        }
        CliTest.Result noModel = CliTest.run("eval", "gradop-regions", "--model", dir.resolve("none").toString(), "--segmenter", segmenter.toString());
        assertEquals(2, noModel.code());
        assertTrue(noModel.err().contains("cannot load model"), noModel.err());
    }
}
