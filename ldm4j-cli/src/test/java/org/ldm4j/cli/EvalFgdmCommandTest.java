package org.ldm4j.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.bytedeco.pytorch.global.torch;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.ldm4j.methods.fgdm.TinyFgdm;
import org.ldm4j.toyworld.ToyClass;
import org.ldm4j.toyworld.eval.SegmenterConfig;
import org.ldm4j.toyworld.eval.ToyWorldSegmenter;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.*;

/** {@code ldm4j eval fgdm ...} end to end on the tiny FG-DM (8x8 maps, 16x16 images) and a tiny random segmenter. */
class EvalFgdmCommandTest {
    @TempDir static Path dir;
    static Path model, segmenter;

    @BeforeAll static void setUp() throws Exception {
        torch.set_num_threads(1);
        torch.manual_seed(0);
        model = TinyFgdm.write(dir.resolve("fgdm"), 0);
        segmenter = TinySegmenter.write(dir.resolve("seg"));
    }

    static JsonNode run(String table, String... extra) throws Exception {
        Path json = dir.resolve(table + ".json");
        List<String> a = new ArrayList<>(List.of("eval", "fgdm", table, "--segmenter", segmenter.toString(), "--n", "2", "--json", json.toString()));
        if (!table.equals("ablation")) a.addAll(List.of("--model", model.toString()));
        a.addAll(List.of(extra));
        CliTest.Result r = CliTest.run(a.toArray(new String[0]));
        assertEquals(0, r.code(), r.err());
        System.out.println(r.out());
        JsonNode report = new ObjectMapper().readTree(Files.readString(json));
        assertEquals(segmenter.toString(), report.path("evaluator").asText(), "the report names the segmenter that read the images");
        assertEquals(List.of(extra).contains("--blend-rims"), report.path("blend_rims").asBoolean());
        return report;
    }

    static void assertFinite(JsonNode n, String... keys) {
        for (String k : keys) assertTrue(n.get(k) != null && n.get(k).isNumber() && Double.isFinite(n.get(k).asDouble()), k + " = " + n.get(k) + " in " + n);
    }

    static void assertFigures(JsonNode f) {
        assertFinite(f, "layout_fd", "toyworld_fid", "miou", "map_recall", "image_recall", "unlabeled_fraction", "seconds_per_prompt");
        for (String k : List.of("miou", "map_recall", "image_recall", "unlabeled_fraction")) {
            assertTrue(f.get(k).asDouble() >= 0 && f.get(k).asDouble() <= 1, k + " " + f.get(k));
        }
        assertTrue(f.get("layout_fd").asDouble() >= -1e-9 && f.get("toyworld_fid").asDouble() >= -1e-9, f.toString());
        assertEquals(2, f.get("samples").asInt());
    }

    @Test void fidelityWritesFiniteFigures() throws Exception {
        Path dump = dir.resolve("dump");
        JsonNode r = run("fidelity", "--dump", dump.toString(), "--dump-count", "1");
        assertEquals("fidelity", r.get("table").asText());
        assertFigures(r.get("figures"));
        // the agreement is the mean of the per-class IoUs it reports (classes in neither map nor image: null)
        double sum = 0;
        int present = 0;
        for (JsonNode v : r.get("figures").get("miou_per_class")) {
            if (v.isNull()) continue;
            sum += v.asDouble();
            present++;
        }
        assertEquals(r.get("figures").get("miou").asDouble(), sum / present, 1e-12);
        // where each map class's pixels went in the image: shares of that class's pixels, summing to one per class
        JsonNode drawnAs = r.get("figures").get("map_class_drawn_as");
        assertTrue(drawnAs.size() > 0, "the map names at least one class");
        for (JsonNode row : drawnAs) {
            double total = 0;
            for (JsonNode v : row) total += v.asDouble();
            assertEquals(1.0, total, 1e-9);
        }
        for (String f : List.of("000-map.png", "000-image.png", "000-segmented.png")) assertTrue(Files.isRegularFile(dump.resolve(f)), f);
        assertFalse(Files.exists(dump.resolve("001-map.png")), "--dump-count 1 writes one sample");
        assertEquals(1, Files.readAllLines(dump.resolve("captions.txt")).size());
        assertEquals(r.get("figures").get("miou").asDouble() >= 0.75, r.get("checks").get("miou_at_least_0.75").asBoolean());
        assertFinite(r, "layout_fd_real_floor", "toyworld_fid_real_floor");
        assertEquals(TinyFgdm.MAP_SIZE, r.get("map_size").asInt());
    }

    /** --blend-rims / --min-region-pixels: the maps scored are read without blend rims and small background regions. */
    @Test void fidelityCanReadMapsWithoutBlendRimsAndSpecks() throws Exception {
        Path dump = dir.resolve("dump-clean");
        JsonNode r = run("fidelity", "--blend-rims", "--min-region-pixels", "4", "--dump", dump.toString(), "--dump-count", "2");
        assertEquals(4, r.get("min_region_pixels").asInt());
        assertFigures(r.get("figures"));
        org.ldm4j.methods.fgdm.Palette palette = org.ldm4j.train.toyworld.ToyWorldMaps.palette();
        for (String f : List.of("000-map.png", "001-map.png")) {
            var map = org.ldm4j.methods.fgdm.SegmentationMaps.decode(javax.imageio.ImageIO.read(dump.resolve(f).toFile()), palette,
                    org.ldm4j.methods.fgdm.FgdmFolder.tolerance(palette));
            assertEquals(map, org.ldm4j.methods.fgdm.MapEdits.removeBlendRims(map, palette, org.ldm4j.methods.fgdm.MapReadout.BLEND_RIM_THIN), f + ": no rim left");
            assertEquals(map, org.ldm4j.methods.fgdm.MapEdits.removeSmallRegions(map, c -> palette.isObject(c) ? 0 : 4), f + ": no speck left");
        }
        CliTest.assertOneLineError(CliTest.run("eval", "fgdm", "fidelity", "--model", model.toString(), "--segmenter", segmenter.toString(),
                "--min-region-pixels", "-1"), 2, "--min-region-pixels", "must be >= 0");
    }

    @Test void theDrawnAsLineListsOnlyLargeConfusionsLargestFirst() {
        double[][] shares = new double[ToyClass.count()][ToyClass.count()];
        for (double[] row : shares) java.util.Arrays.fill(row, Double.NaN);
        int flowers = ToyClass.FLOWERS.ordinal(), rock = ToyClass.ROCK.ordinal(), grass = ToyClass.GRASS.ordinal(), sky = ToyClass.SKY.ordinal();
        java.util.Arrays.fill(shares[flowers], 0);
        shares[flowers][flowers] = 0.05;
        shares[flowers][grass] = 0.15;
        shares[flowers][rock] = 0.75;
        shares[flowers][sky] = 0.05;
        java.util.Arrays.fill(shares[sky], 0);
        shares[sky][sky] = 0.97;
        shares[sky][grass] = 0.03;
        String line = EvalFgdmCommand.SetTable.drawnAs(shares, 0.1);
        assertTrue(line.endsWith(": flowers -> rock 0.75 grass 0.15"), line);
        assertTrue(EvalFgdmCommand.SetTable.drawnAs(shares, 0.8).endsWith(" none"));
    }

    @Test void jointAndSequentialRowsSideBySide() throws Exception {
        JsonNode r = run("joint");
        List<String> modes = new ArrayList<>();
        for (JsonNode row : r.get("rows")) {
            modes.add(row.get("mode").asText());
            assertFigures(row);
        }
        assertEquals(List.of("sequential", "joint"), modes);
        JsonNode seq = r.get("rows").get(0), joint = r.get("rows").get(1);
        // the root (text-only) factor steps alone in both forms: the same segmentation maps, so the same map figures
        for (String k : List.of("layout_fd", "map_recall", "unlabeled_fraction")) assertEquals(seq.get(k).asDouble(), joint.get(k).asDouble(), 0.0, k);
        // (the image figures may coincide here: the tiny ControlNet moves the image by ~1e-5 between the two forms,
        // below 8-bit quantisation)
    }

    @Test void ablationOfAModelAgainstItselfIsZero() throws Exception {
        JsonNode r = run("ablation", "--with", model.toString(), "--without", model.toString());
        assertEquals(2, r.get("rows").size());
        for (JsonNode row : r.get("rows")) assertFigures(row);
        // Same weights, same captions and seeds: the same images and maps, so every difference is exactly 0.
        for (String k : List.of("layout_fd", "toyworld_fid", "map_recall", "image_recall")) {
            assertEquals(0.0, r.get("with_minus_without").get(k).asDouble(), 1e-9, k);
        }
    }

    @Test void sbpcStatisticsAreConsistent() throws Exception {
        JsonNode r = run("sbpc", "--samples", "1,3", "--condition-steps", "1,2", "--min-objects", "3");
        assertTrue(r.get("objects_per_caption").asDouble() >= 3);
        List<String> methods = new ArrayList<>();
        for (JsonNode c : r.get("configs")) {
            String m = c.get("method").asText();
            int n = c.get("n").asInt();
            methods.add(m + "/" + (c.get("t").isNull() ? "-" : c.get("t").asInt()) + "/" + n);
            assertFinite(c, "avg_min_recall", "avg_max_recall", "avg_median_recall", "avg_at_least_0.5", "avg_at_least_0.75",
                    "avg_at_least_0.9", "image_recall", "seconds_per_prompt");
            double min = c.get("avg_min_recall").asDouble(), max = c.get("avg_max_recall").asDouble(), med = c.get("avg_median_recall").asDouble();
            assertTrue(0 <= min && min <= med + 1e-12 && med <= max + 1e-12 && max <= 1, c.toString());
            if (n == 1) assertEquals(min, max, 1e-12, c.toString());
            double a5 = c.get("avg_at_least_0.5").asDouble(), a75 = c.get("avg_at_least_0.75").asDouble(), a9 = c.get("avg_at_least_0.9").asDouble();
            assertTrue(0 <= a9 && a9 <= a75 && a75 <= a5 && a5 <= n, c.toString());
            assertTrue(c.get("seconds_per_prompt").asDouble() > 0, c.toString());
            assertEquals(2, c.get("prompts").asInt());
            // image-level SBPC keeps its best image, so its final recall is its max
            if (m.equals("image-sbpc") || m.equals("text2img")) assertEquals(max, c.get("image_recall").asDouble(), 1e-12);
        }
        assertEquals(List.of("fgdm-sbpc/1/1", "fgdm-sbpc/1/3", "fgdm-sbpc/2/1", "fgdm-sbpc/2/3", "text2img/-/1", "image-sbpc/-/3"), methods);
        // more candidates can only raise the best and lower the worst (the first N are a prefix of the N_max run)
        JsonNode c = r.get("configs");
        assertTrue(c.get(1).get("avg_max_recall").asDouble() >= c.get(0).get("avg_max_recall").asDouble() - 1e-12);
        assertTrue(c.get(1).get("avg_min_recall").asDouble() <= c.get(0).get("avg_min_recall").asDouble() + 1e-12);
        List<String> checks = new ArrayList<>();
        for (JsonNode k : r.get("checks")) {
            checks.add(k.get("check").asText() + "/" + k.get("t").asInt());
            assertTrue(k.get("pass").isBoolean());
        }
        assertEquals(List.of("recall_gain/1", "speedup/1", "recall_gain/2", "speedup/2"), checks);
    }

    @Test void sbpcWithAnImageCheckKeepsTheBetterOfTwoImagesAndPaysForIt() throws Exception {
        JsonNode r = run("sbpc", "--samples", "1,3", "--condition-steps", "1", "--min-objects", "3", "--image-check");
        assertEquals(2, r.get("image_check").asInt(), "--image-check alone checks up to 2 images");
        java.util.Map<String, JsonNode> byKey = new java.util.HashMap<>();
        for (JsonNode c : r.get("configs")) byKey.put(c.get("method").asText() + "/" + c.get("n").asInt(), c);
        assertNull(byKey.get("fgdm-checked/1"), "one candidate has no runner-up");
        JsonNode plain = byKey.get("fgdm-sbpc/3"), checked = byKey.get("fgdm-checked/3");
        assertNotNull(checked, byKey.keySet().toString());
        // the same candidates; the checked run's first image is the plain run's, a second one only ever adds
        assertEquals(plain.get("avg_max_recall").asDouble(), checked.get("avg_max_recall").asDouble(), 1e-12);
        assertTrue(checked.get("image_recall").asDouble() >= plain.get("image_recall").asDouble() - 1e-12, checked.toString());
        assertTrue(checked.get("seconds_per_prompt").asDouble() >= plain.get("seconds_per_prompt").asDouble() - 1e-3, "segmenting costs time");
        List<String> checks = new ArrayList<>();
        for (JsonNode k : r.get("checks")) checks.add(k.get("check").asText());
        assertEquals(List.of("recall_gain", "speedup", "speedup_checked"), checks);
        // --image-check 3 also reports the 2-image check, which is the same run stopped one image earlier
        JsonNode three = run("sbpc", "--samples", "1,3", "--condition-steps", "1", "--min-objects", "3", "--image-check", "3");
        java.util.Map<String, JsonNode> byKey3 = new java.util.HashMap<>();
        for (JsonNode c : three.get("configs")) byKey3.put(c.get("method").asText() + "/" + c.get("n").asInt(), c);
        JsonNode two = byKey3.get("fgdm-checked-2/3"), upToThree = byKey3.get("fgdm-checked/3");
        assertNotNull(two, byKey3.keySet().toString());
        assertEquals(checked.get("image_recall").asDouble(), two.get("image_recall").asDouble(), 1e-12, "the 2-image rows of both runs agree");
        assertTrue(upToThree.get("image_recall").asDouble() >= two.get("image_recall").asDouble() - 1e-12);
        assertTrue(upToThree.get("seconds_per_prompt").asDouble() >= two.get("seconds_per_prompt").asDouble() - 1e-3);
        List<String> checks3 = new ArrayList<>();
        for (JsonNode k : three.get("checks")) checks3.add(k.get("check").asText());
        assertEquals(List.of("recall_gain", "speedup", "speedup_checked_2", "speedup_checked"), checks3);
        // a map score that counts only objects covering the whole map cannot be reached: every map scores 0
        JsonNode strict = run("sbpc", "--samples", "3", "--condition-steps", "1", "--min-objects", "3", "--map-min-area", "0.999");
        assertEquals(0.999, strict.get("map_min_area").asDouble());
        for (JsonNode c : strict.get("configs")) {
            if (c.get("method").asText().startsWith("fgdm")) assertEquals(0.0, c.get("avg_max_recall").asDouble(), c.toString());
        }
        for (String bad : new String[]{"1.5", "-0.1"}) {
            CliTest.Result r2 = CliTest.run("eval", "fgdm", "sbpc", "--model", model.toString(), "--segmenter", segmenter.toString(), "--map-min-area", bad);
            assertEquals(2, r2.code(), r2.err());
            assertTrue(r2.err().contains("--map-min-area must be in [0, 1)"), r2.err());
        }
    }

    @Test void sbpcCandidatesTakeTheirOwnGuidanceAndSampler() throws Exception {
        JsonNode own = run("sbpc", "--samples", "3", "--condition-steps", "2", "--min-objects", "3");
        assertEquals("ddim", own.get("condition_scheduler").asText(), "the tiny factor's own sampler");
        JsonNode cheap = run("sbpc", "--samples", "3", "--condition-steps", "2", "--min-objects", "3", "--condition-guidance", "1",
                "--condition-scheduler", "DPMSolverMultistepScheduler");
        assertEquals(1.0, cheap.get("condition_guidance").asDouble());
        assertEquals("dpm++2m", cheap.get("condition_scheduler").asText(), "recorded by its alias");
        assertFalse(own.get("prefer_larger_objects").asBoolean());
        JsonNode larger = run("sbpc", "--samples", "3", "--condition-steps", "2", "--min-objects", "3", "--prefer-larger-objects");
        assertTrue(larger.get("prefer_larger_objects").asBoolean());
        for (int i = 0; i < own.get("configs").size(); i++) {   // the same candidates: their recall statistics do not change, only the pick among ties
            JsonNode a = own.get("configs").get(i), b = larger.get("configs").get(i);
            for (String k : List.of("avg_min_recall", "avg_max_recall", "avg_median_recall")) assertEquals(a.get(k).asDouble(), b.get(k).asDouble(), 1e-12, k);
        }
        // the baselines do not sample maps: their images and recall are the same run's
        for (int i = 0; i < own.get("configs").size(); i++) {
            JsonNode a = own.get("configs").get(i), b = cheap.get("configs").get(i);
            if (a.get("method").asText().equals("image-sbpc")) assertEquals(a.get("image_recall").asDouble(), b.get("image_recall").asDouble(), 1e-12);
        }
        for (String[] bad : new String[][]{{"--condition-guidance", "0.5", "--condition-guidance must be in 1..100"},
                {"--condition-scheduler", "nope", "--condition-scheduler: unknown scheduler 'nope'"}}) {
            CliTest.Result r = CliTest.run("eval", "fgdm", "sbpc", "--model", model.toString(), "--segmenter", segmenter.toString(), bad[0], bad[1]);
            assertEquals(2, r.code(), r.err());
            assertTrue(r.err().contains(bad[2]), r.err());
        }
    }

    @Test void sbpcShardsMergeToTheWholeTable() throws Exception {
        String[] common = {"--samples", "1,2", "--condition-steps", "1", "--min-objects", "3"};
        JsonNode whole = run("sbpc", common);
        Path a = dir.resolve("shard-a.json"), b = dir.resolve("shard-b.json"), merged = dir.resolve("merged.json");
        for (String[] shard : new String[][]{{"0", a.toString()}, {"1", b.toString()}}) {
            List<String> args = new ArrayList<>(List.of("eval", "fgdm", "sbpc", "--model", model.toString(), "--segmenter", segmenter.toString(),
                    "--n", "1", "--first", shard[0], "--json", shard[1]));
            args.addAll(List.of(common));
            CliTest.Result r = CliTest.run(args.toArray(new String[0]));
            assertEquals(0, r.code(), r.err());
        }
        CliTest.Result m = CliTest.run("eval", "fgdm", "sbpc", "--merge", a + "," + b, "--json", merged.toString());
        assertEquals(0, m.code(), m.err());
        assertTrue(m.out().contains("from 2 shards"), m.out());
        JsonNode r = new ObjectMapper().readTree(Files.readString(merged));
        assertEquals(2, r.get("samples").asInt());
        assertEquals(whole.get("configs").size(), r.get("configs").size());
        for (int i = 0; i < r.get("configs").size(); i++) {
            JsonNode x = whole.get("configs").get(i), y = r.get("configs").get(i);
            assertEquals(x.get("method"), y.get("method"));
            assertEquals(2, y.get("prompts").asInt());
            // captions i and seeds seed + i are the same in a shard as in the whole run: the recall figures agree exactly
            for (String k : List.of("avg_min_recall", "avg_max_recall", "avg_median_recall", "avg_at_least_0.5", "image_recall")) {
                assertEquals(x.get(k).asDouble(), y.get(k).asDouble(), 1e-12, k + " of " + x.get("method"));
            }
        }
        assertEquals(whole.get("checks").size(), r.get("checks").size());
        CliTest.Result bad = CliTest.run("eval", "fgdm", "sbpc", "--merge", dir.resolve("fidelity-none.json").toString());
        assertEquals(2, bad.code());
        assertTrue(bad.err().contains("--merge: cannot read " + dir.resolve("fidelity-none.json")), bad.err());
    }

    @Test void controlRowsLieInRangeAndTheCeilingIsTheSameForAnyModel() throws Exception {
        JsonNode r = run("control");
        List<String> rows = new ArrayList<>();
        for (JsonNode row : r.get("rows")) {
            rows.add(row.get("row").asText());
            assertFinite(row, "miou", "pixel_accuracy");
            assertTrue(row.get("miou").asDouble() >= 0 && row.get("miou").asDouble() <= 1, row.toString());
        }
        assertEquals(List.of("map switched off (floor)", "image factor, exact map", "real scene (ceiling)", "real scene through the VAE",
                "exact map via its latents"), rows);
        double kept = r.get("read_back_keeps").asDouble();
        assertTrue(kept >= 0 && kept <= 1, "share of the exact map's pixels the read-back keeps: " + kept);
        Path other = TinyFgdm.write(dir.resolve("fgdm-other"), 5);
        Path json = dir.resolve("control-other.json");
        CliTest.Result c = CliTest.run("eval", "fgdm", "control", "--model", other.toString(), "--segmenter", segmenter.toString(), "--n", "2",
                "--json", json.toString());
        assertEquals(0, c.code(), c.err());
        JsonNode o = new ObjectMapper().readTree(Files.readString(json));
        assertEquals(r.get("rows").get(2).get("miou").asDouble(), o.get("rows").get(2).get("miou").asDouble(), 0.0,
                "the ceiling reads the real scenes only");

        // --map-size: the exact maps at another side (here the image's), checked against the image's size
        int size = r.get("size").asInt();
        assertTrue(r.get("map_size").asInt() < size, "the tiny graph's maps are smaller than its images: " + r);
        JsonNode full = run("control", "--map-size", String.valueOf(size));
        assertEquals(size, full.get("map_size").asInt());
        CliTest.Result tooBig = CliTest.run("eval", "fgdm", "control", "--model", model.toString(), "--segmenter", segmenter.toString(),
                "--n", "1", "--map-size", String.valueOf(size + 1));
        assertEquals(2, tooBig.code());
        assertTrue(tooBig.err().contains("--map-size must be 1.." + size), tooBig.err());
    }

    /** The filter keeps the generated examples whose labels the judge reads back, not the ones it contradicts. */
    @Test void theAugmentationFilterKeepsTheHalfTheRealOnlySegmenterAgreesWith() {
        org.bytedeco.pytorch.global.torch.manual_seed(5);
        org.ldm4j.toyworld.eval.ToyWorldSegmenter judge = new org.ldm4j.toyworld.eval.ToyWorldSegmenter(new SegmenterConfig(new int[]{8, 16}, ToyClass.count(), 4));
        int size = 16;
        java.util.Random random = new java.util.Random(3);
        List<org.ldm4j.train.toyworld.LabelledPool.Example> examples = new ArrayList<>();
        for (int i = 0; i < 6; i++) {
            int[] rgb = new int[size * size];
            for (int p = 0; p < rgb.length; p++) rgb[p] = random.nextInt(1 << 24);
            int[] predicted = org.ldm4j.toyworld.eval.EvalImages.classMaps(judge.predict(org.ldm4j.toyworld.eval.EvalImages.tensor(List.of(rgb), size, size)))[0];
            int[] labels = new int[predicted.length];
            // examples 1, 3, 5: the judge's own reading (a few pixels unlabeled); 0, 2, 4: every label contradicts it
            for (int p = 0; p < labels.length; p++) {
                labels[p] = i % 2 == 1 ? (p % 7 == 0 ? org.ldm4j.train.toyworld.SegmenterRecipe.IGNORED : predicted[p]) : (predicted[p] + 1) % ToyClass.count();
            }
            examples.add(new org.ldm4j.train.toyworld.LabelledPool.Example(rgb, labels));
        }
        List<org.ldm4j.train.toyworld.LabelledPool.Example> kept = EvalFgdmAugmentationCommand.agreeing(judge, examples, size);
        assertEquals(List.of(examples.get(1), examples.get(3), examples.get(5)), kept);
    }

    @Test void augmentationTrainsOneSegmenterPerArmOnItsSets() throws Exception {
        Path data = dir.resolve("synthetic");
        CliTest.Result d = CliTest.run("fgdm", "dataset", "--model", model.toString(), "--n", "3", "--seed", "100", "--out", data.toString());
        assertEquals(0, d.code(), d.err());
        Path config = dir.resolve("segmenter.json");
        Files.writeString(config, "{\"segmenter\": {\"channels\": [8, 16], \"num_classes\": " + ToyClass.count() + ", \"norm_groups\": 4},"
                + " \"size\": " + TinyFgdm.IMAGE_SIZE + ", \"batch_size\": 2, \"lr\": 0.002, \"seed\": 3}");
        Path json = dir.resolve("augmentation.json");
        String[] args = {"eval", "fgdm", "augmentation", "--synthetic", data.toString(), "--real", "2", "--steps", "3", "--test", "4",
                "--config", config.toString(), "--run", dir.resolve("aug-run").toString(), "--json", json.toString()};
        CliTest.Result r = CliTest.run(args);
        assertEquals(0, r.code(), r.err());
        JsonNode j = new ObjectMapper().readTree(Files.readString(json));
        List<String> sets = new ArrayList<>();
        for (JsonNode row : j.get("rows")) {
            sets.add(row.get("train_set").asText());
            assertFinite(row, "miou", "pixel_accuracy");
        }
        assertEquals(List.of("real", "real+generated", "generated", "real+generated, balanced", "generated, then real",
                "generated (filtered), then real"), sets);
        List<Integer> examples = new ArrayList<>();
        for (JsonNode row : j.get("rows")) examples.add(row.get("examples").asInt());
        assertEquals(List.of(2, 5, 3, 2 * 2 + 3, 3, 2), examples, "balanced: the 2 real scenes twice beside the 3 generated ones; "
                + "filtered: 1 of the 3 generated ones, then the 2 real ones");
        assertEquals("[1,2]", j.get("rows").get(4).get("stage_steps").toString(), "half the steps on each set");
        for (String stage : List.of("stage1", "stage2")) assertTrue(Files.isDirectory(dir.resolve("aug-run/generated-filtered-then-real").resolve(stage)), stage);
        for (String stage : List.of("stage1", "stage2")) assertTrue(Files.isDirectory(dir.resolve("aug-run/generated-then-real").resolve(stage)), stage);
        // a rerun resumes every finished training (nothing left to train) and scores the same weights
        CliTest.Result again = CliTest.run(args);
        assertEquals(0, again.code(), again.err());
        assertEquals(j.get("rows"), new ObjectMapper().readTree(Files.readString(json)).get("rows"));

        CliTest.Result none = CliTest.run("eval", "fgdm", "augmentation", "--synthetic", dir.resolve("nothing").toString(), "--run", dir.resolve("x").toString(),
                "--config", config.toString());
        assertEquals(2, none.code());
        assertTrue(none.err().contains("has no index.jsonl"), none.err());
    }

    @Test void childrenRowsPerChildFactor() throws Exception {
        JsonNode r = run("children");
        assertEquals(1, r.get("factors").size(), "the tiny graph's one child: depth");
        JsonNode depth = r.get("factors").get(0);
        assertEquals("depth", depth.get("factor").asText());
        assertFinite(depth, "parents_off", "exact_parents", "vae_round_trip");
        for (String k : List.of("parents_off", "exact_parents", "vae_round_trip")) assertTrue(depth.get(k).asDouble() >= 0 && depth.get(k).asDouble() <= 1, depth.toString());
    }

    @Test void childErrorsAreZeroForTheTruthAndLineF1ToleratesOnePixel() {
        org.bytedeco.pytorch.Tensor lines = torch.zeros(1, 1, 6, 6), shifted = torch.zeros(1, 1, 6, 6), far = torch.zeros(1, 1, 6, 6);
        for (int x = 0; x < 6; x++) {
            lines.select(2, 2).select(2, x).fill_(new org.bytedeco.pytorch.Scalar(1));
            shifted.select(2, 3).select(2, x).fill_(new org.bytedeco.pytorch.Scalar(1));
            far.select(2, 5).select(2, x).fill_(new org.bytedeco.pytorch.Scalar(1));
        }
        assertEquals(1.0, EvalFgdmChildrenCommand.lineF1(lines, lines), 1e-12);
        assertEquals(1.0, EvalFgdmChildrenCommand.lineF1(shifted, lines), 1e-12, "one pixel off still counts");
        assertEquals(0.0, EvalFgdmChildrenCommand.lineF1(far, lines), 1e-12);
        org.bytedeco.pytorch.Tensor map = torch.rand(1, 3, 4, 4).mul(new org.bytedeco.pytorch.Scalar(2)).sub(new org.bytedeco.pytorch.Scalar(1));
        for (var kind : List.of(org.ldm4j.methods.fgdm.FgdmManifest.MapKind.DEPTH, org.ldm4j.methods.fgdm.FgdmManifest.MapKind.NORMAL)) {
            assertEquals(0.0, EvalFgdmChildrenCommand.error(kind, map, map), 0.5, kind.key());
        }
        assertEquals(180.0, EvalFgdmChildrenCommand.error(org.ldm4j.methods.fgdm.FgdmManifest.MapKind.NORMAL, map, map.neg()), 0.5);
    }

    @Test void editsKeepTheUneditedAreaAndIdentityKeepsAll() throws Exception {
        JsonNode r = run("edits");
        List<String> ops = new ArrayList<>();
        for (JsonNode row : r.get("ops")) {
            String op = row.get("op").asText();
            ops.add(op);
            assertEquals(2, row.get("samples").asInt() + row.get("skipped").asInt(), op);
            if (row.get("samples").asInt() == 0) continue;
            assertFinite(row, "unedited_keep", "edited_fraction");
            double keep = row.get("unedited_keep").asDouble(), edited = row.get("edited_fraction").asDouble();
            assertTrue(keep >= 0 && keep <= 1 && edited >= 0 && edited <= 1, row.toString());
            if (op.equals("identity")) {
                // the unedited map through the same regeneration path: the same image, every pixel kept, nothing edited
                assertEquals(1.0, keep, 0.0);
                assertEquals(0.0, edited, 0.0);
            }
        }
        assertEquals(List.of("identity", "move-clear", "move-keep", "resize", "flip", "remove", "add", "add-ellipse", "depth-swap"), ops);
        assertEquals(2, r.get("ops").get(0).get("samples").asInt());
        JsonNode add = r.get("ops").get(6);
        assertTrue(add.get("samples").asInt() == 0 || add.get("edited_fraction").asDouble() > 0, "add paints an object where one fits: " + add);
        assertTrue(r.get("ops").get(7).get("edited_fraction").asDouble() > 0, "add-ellipse paints an object");

        // --ops: only the named operations, identity (the reference) always
        Path json = dir.resolve("edits-ops.json");
        CliTest.Result some = CliTest.run("eval", "fgdm", "edits", "--model", model.toString(), "--segmenter", segmenter.toString(), "--n", "1",
                "--ops", "add-ellipse,flip", "--json", json.toString());
        assertEquals(0, some.code(), some.err());
        List<String> ran = new ArrayList<>();
        for (JsonNode row : new ObjectMapper().readTree(Files.readString(json)).get("ops")) ran.add(row.get("op").asText());
        assertEquals(List.of("identity", "flip", "add-ellipse"), ran);
        CliTest.assertOneLineError(CliTest.run("eval", "fgdm", "edits", "--model", model.toString(), "--segmenter", segmenter.toString(),
                "--n", "1", "--ops", "explode"), 2, "--ops", "explode");
    }

    /** Two shards (--first) merge to the whole run's table: the same figures, from the summed confusion matrices and counts. */
    @Test void editsShardsMergeToTheWholeTable() throws Exception {
        JsonNode whole = run("edits");
        List<String> files = new ArrayList<>();
        for (int first = 0; first < 2; first++) {
            Path json = dir.resolve("edits-shard" + first + ".json");
            CliTest.Result r = CliTest.run("eval", "fgdm", "edits", "--model", model.toString(), "--segmenter", segmenter.toString(), "--n", "1",
                    "--first", String.valueOf(first), "--json", json.toString());
            assertEquals(0, r.code(), r.err());
            files.add(json.toString());
        }
        Path merged = dir.resolve("edits-merged.json");
        CliTest.Result m = CliTest.run("eval", "fgdm", "edits", "--merge", String.join(",", files), "--json", merged.toString());
        assertEquals(0, m.code(), m.err());
        JsonNode mj = new ObjectMapper().readTree(Files.readString(merged));
        assertEquals(2, mj.get("samples").asInt());
        for (int i = 0; i < whole.get("ops").size(); i++) {
            JsonNode a = whole.get("ops").get(i), b = mj.get("ops").get(i);
            assertEquals(a.get("op").asText(), b.get("op").asText());
            assertEquals(a.get("samples").asInt(), b.get("samples").asInt(), a.get("op").asText());
            assertEquals(a.get("confusion"), b.get("confusion"), a.get("op").asText() + ": the shards are the whole run's captions and seeds");
            assertEquals(a.path("miou").asDouble(), b.path("miou").asDouble(), 1e-12, a.get("op").asText());
            assertEquals(a.path("unedited_keep").asDouble(), b.path("unedited_keep").asDouble(), 1e-12, a.get("op").asText());
        }
        CliTest.Result bad = CliTest.run("eval", "fgdm", "edits", "--merge", files.get(0) + "," + dir.resolve("sbpc-like.json"));
        assertEquals(2, bad.code(), bad.err());
        Files.writeString(dir.resolve("sbpc-like.json"), "{\"table\": \"sbpc\"}");
        CliTest.assertOneLineError(CliTest.run("eval", "fgdm", "edits", "--merge", dir.resolve("sbpc-like.json").toString()), 2,
                "is not an `eval fgdm edits --json` file");
    }

    @Test void badInputsExitWithCode2AndOneLine() {
        CliTest.Result unknown = CliTest.run("eval", "fgdm", "nosuch", "--model", model.toString());
        assertEquals(2, unknown.code());
        assertEquals(1, unknown.err().strip().lines().count(), unknown.err());
        CliTest.Result none = CliTest.run("eval", "fgdm");
        assertEquals(2, none.code());
        assertTrue(none.err().contains("needs a table"), none.err());
        CliTest.Result few = CliTest.run("eval", "fgdm", "fidelity", "--model", model.toString(), "--segmenter", segmenter.toString(), "--n", "1");
        assertEquals(2, few.code());
        assertTrue(few.err().contains("--n must be >= 2"), few.err());
        assertEquals(1, few.err().strip().lines().count(), few.err());
        CliTest.Result missing = CliTest.run("eval", "fgdm", "joint", "--model", dir.resolve("nothing").toString(), "--segmenter", segmenter.toString(), "--n", "2");
        assertEquals(2, missing.code());
        assertTrue(missing.err().contains("FG-DM folder not found: " + dir.resolve("nothing")), missing.err());
        CliTest.Result ablation = CliTest.run("eval", "fgdm", "ablation", "--with", model.toString(), "--without", dir.resolve("nothing").toString(),
                "--segmenter", segmenter.toString(), "--n", "2");
        assertEquals(2, ablation.code());
        assertTrue(ablation.err().contains("FG-DM folder not found: " + dir.resolve("nothing")), ablation.err());
        CliTest.Result samples = CliTest.run("eval", "fgdm", "sbpc", "--model", model.toString(), "--segmenter", segmenter.toString(), "--samples", "0");
        assertEquals(2, samples.code());
        assertTrue(samples.err().contains("--samples values must be in 1..256"), samples.err());
    }
}
