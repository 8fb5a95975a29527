package org.ldm4j.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.ldm4j.image.PngParameters;
import org.ldm4j.methods.fgdm.Palette;
import org.ldm4j.methods.fgdm.SegmentationMaps;
import org.ldm4j.methods.fgdm.TinyFgdm;
import org.ldm4j.toyworld.ToyWorld;
import org.ldm4j.train.toyworld.ToyWorldMaps;
import org.ldm4j.toyworld.ToyClass;

import javax.imageio.ImageIO;
import java.awt.image.BufferedImage;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

import static org.junit.jupiter.api.Assertions.*;

/** {@code ldm4j fgdm sample} and {@code fgdm dataset} end to end on the tiny FG-DM folder ({@link TinyFgdm}). */
class FgdmSampleCliTest {
    @TempDir static Path dir;
    static Path model;
    static final ObjectMapper JSON = new ObjectMapper();

    @BeforeAll static void writeModel() throws Exception {
        model = TinyFgdm.write(dir, 0);
    }

    static String[] sample(Path out, String... extra) {
        List<String> a = new ArrayList<>(List.of("fgdm", "sample", "--model", model.toString(), "--prompt", "a red house and a tree",
                "--out", out.toString()));
        a.addAll(List.of(extra));
        return a.toArray(new String[0]);
    }

    static BufferedImage read(Path p) throws Exception { return ImageIO.read(p.toFile()); }

    static int[] pixels(BufferedImage img) { return img.getRGB(0, 0, img.getWidth(), img.getHeight(), null, 0, img.getWidth()); }

    @Test void sampleWithSbpcWritesEveryFactorAndEachCandidatesRecall() throws Exception {
        Path out = dir.resolve("sbpc");
        CliTest.Result r = CliTest.run(sample(out, "--sbpc", "3", "--seed", "7"));
        assertEquals(0, r.code(), r.err());
        assertEquals(TinyFgdm.MAP_SIZE, read(out.resolve("seg.png")).getWidth());
        assertEquals(TinyFgdm.MAP_SIZE, read(out.resolve("depth.png")).getHeight());
        assertEquals(TinyFgdm.IMAGE_SIZE, read(out.resolve("image.png")).getWidth());
        PngParameters.Contents meta = PngParameters.read(out.resolve("image.png"));
        assertEquals("a red house and a tree", meta.infotext().prompt());
        assertEquals("DDIM", meta.fields().get("Sampler"));

        JsonNode report = JSON.readTree(out.resolve("sample.json").toFile());
        assertEquals(List.of("house", "tree"), names(report.get("objects")));
        JsonNode candidates = report.get("candidates");
        assertEquals(3, candidates.size());
        double best = -1;
        for (int k = 0; k < 3; k++) {
            JsonNode c = candidates.get(k);
            assertEquals(7 + k, c.get("seed").asLong());
            double recall = c.get("recall").asDouble();
            // recall = |wanted ∩ present| / |wanted|, recomputed from the candidate's reported objects
            List<String> present = names(c.get("present"));
            long hit = List.of("house", "tree").stream().filter(present::contains).count();
            assertEquals(hit / 2.0, recall, 1e-9, "candidate " + k);
            assertTrue(Files.exists(out.resolve(c.get("file").asText())));
            best = Math.max(best, recall);
        }
        int chosen = report.get("chosen").asInt();
        assertEquals(best, candidates.get(chosen).get("recall").asDouble(), "SBPC keeps a candidate of maximum recall");
        assertEquals(7 + chosen, report.get("chosen_seed").asLong());
        assertTrue(report.get("timings_ms").has("candidates") && report.get("timings_ms").has("total"));
        assertEquals(TinyFgdm.STEPS, report.get("factors").get("image").get("steps").asInt());
        assertEquals(List.of("seg.png", "depth.png", "image.png"), names(report.get("files")));

        Path cheap = dir.resolve("sbpc-cheap");   // candidates without guidance, with another sampler: recorded, and other maps
        CliTest.Result c = CliTest.run(sample(cheap, "--sbpc", "3", "--seed", "7", "--condition-guidance", "1", "--condition-scheduler", "dpm++2m"));
        assertEquals(0, c.code(), c.err());
        JsonNode cheapReport = JSON.readTree(cheap.resolve("sample.json").toFile()).get("sbpc");
        assertEquals(1.0, cheapReport.get("candidate_guidance").asDouble());
        assertEquals("dpm++2m", cheapReport.get("candidate_scheduler").asText());
        assertFalse(java.util.Arrays.equals(Files.readAllBytes(out.resolve(candidates.get(0).get("file").asText())),
                Files.readAllBytes(cheap.resolve(candidates.get(0).get("file").asText()))), "candidate 0 drawn another way");
    }

    @Test void fastCandidatesAreTheMeasuredFlagsEachUnlessGiven() throws Exception {
        Path fast = dir.resolve("fast"), spelled = dir.resolve("fast-spelled");
        CliTest.Result f = CliTest.run(sample(fast, "--sbpc", "3", "--seed", "7", "--fast-candidates"));
        assertEquals(0, f.code(), f.err());
        CliTest.Result s = CliTest.run(sample(spelled, "--sbpc", "3", "--seed", "7", "--condition-steps", "3", "--condition-guidance", "1",
                "--condition-scheduler", "dpm++2m", "--min-area", "0.01", "--prefer-larger-objects"));
        assertEquals(0, s.code(), s.err());
        JsonNode a = JSON.readTree(fast.resolve("sample.json").toFile()), b = JSON.readTree(spelled.resolve("sample.json").toFile());
        assertEquals(3, a.at("/sbpc/candidate_steps").asInt());
        assertEquals(1.0, a.at("/sbpc/candidate_guidance").asDouble());
        assertEquals("dpm++2m", a.at("/sbpc/candidate_scheduler").asText());
        assertEquals(0.01, a.at("/sbpc/min_area").asDouble());
        assertTrue(a.at("/sbpc/prefer_larger_objects").asBoolean() && a.at("/sbpc/fast_candidates").asBoolean());
        for (String field : List.of("chosen", "chosen_seed")) assertEquals(b.get(field), a.get(field), field);
        for (int k = 0; k < 3; k++) {
            assertEquals(b.at("/candidates/" + k + "/recall"), a.at("/candidates/" + k + "/recall"));
            assertArrayEquals(Files.readAllBytes(spelled.resolve(b.at("/candidates/" + k + "/file").asText())),
                    Files.readAllBytes(fast.resolve(a.at("/candidates/" + k + "/file").asText())), "candidate " + k + " drawn alike");
        }
        assertArrayEquals(pixels(read(spelled.resolve("image.png"))), pixels(read(fast.resolve("image.png"))));
        // a flag given beside the preset wins
        Path two = dir.resolve("fast-two-steps");
        assertEquals(0, CliTest.run(sample(two, "--sbpc", "3", "--seed", "7", "--fast-candidates", "--condition-steps", "2", "--min-area", "0.002")).code());
        JsonNode t = JSON.readTree(two.resolve("sample.json").toFile()).get("sbpc");
        assertEquals(2, t.get("candidate_steps").asInt());
        assertEquals(0.002, t.get("min_area").asDouble());
        CliTest.Result bad = CliTest.run(sample(dir.resolve("fast-bad"), "--fast-candidates"));
        assertEquals(2, bad.code());
        assertTrue(bad.err().contains("--fast-candidates sets how SBPC samples its candidates: it needs --sbpc N > 1"), bad.err());
    }

    @Test void anImageCheckReportsEachImagedCandidateAndKeepsTheBestImage() throws Exception {
        Path seg = TinySegmenter.write(dir.resolve("segmenter")), out = dir.resolve("checked");
        CliTest.Result r = CliTest.run(sample(out, "--sbpc", "3", "--seed", "7", "--image-check", "2", "--segmenter", seg.toString()));
        assertEquals(0, r.code(), r.err());
        JsonNode report = JSON.readTree(out.resolve("sample.json").toFile());
        assertEquals(2, report.get("sbpc").get("image_check_max_images").asInt());
        JsonNode checked = report.get("image_check");
        assertTrue(checked.size() >= 1 && checked.size() <= 2, checked.toString());
        // the first image is the best map's; a second only when the first missed an object
        JsonNode candidates = report.get("candidates");
        double bestMap = -1;
        for (JsonNode c : candidates) bestMap = Math.max(bestMap, c.get("recall").asDouble());
        assertEquals(bestMap, candidates.get(checked.get(0).get("candidate").asInt()).get("recall").asDouble());
        if (checked.size() == 2) assertTrue(checked.get(0).get("recall").asDouble() < 1.0, checked.toString());
        double bestImage = -1;
        int keptCandidate = -1;
        for (JsonNode c : checked) {
            if (c.get("recall").asDouble() > bestImage) {
                bestImage = c.get("recall").asDouble();
                keptCandidate = c.get("candidate").asInt();
            }
        }
        assertEquals(keptCandidate, report.get("chosen").asInt(), "the image kept is the best-scoring one");
        assertEquals(7 + keptCandidate, report.get("chosen_seed").asLong());
        assertTrue(Files.exists(out.resolve("image.png")));

        // images scored at an area no object covers never reach full recall: the check always makes its two images
        Path strict = dir.resolve("checked-strict");
        CliTest.Result s = CliTest.run(sample(strict, "--sbpc", "3", "--seed", "7", "--image-check", "2", "--segmenter", seg.toString(),
                "--image-min-area", "0.999"));
        assertEquals(0, s.code(), s.err());
        JsonNode strictReport = JSON.readTree(strict.resolve("sample.json").toFile());
        assertEquals(0.999, strictReport.get("sbpc").get("image_min_area").asDouble());
        assertEquals(2, strictReport.get("image_check").size());
        for (JsonNode c : strictReport.get("image_check")) assertEquals(0.0, c.get("recall").asDouble(), c.toString());
        for (int k = 0; k < report.get("candidates").size(); k++) {   // the maps are scored as before (times aside)
            com.fasterxml.jackson.databind.node.ObjectNode a = report.get("candidates").get(k).deepCopy(), b = strictReport.get("candidates").get(k).deepCopy();
            a.remove("millis");
            b.remove("millis");
            assertEquals(a, b, "candidate " + k);
        }
        Path larger = dir.resolve("checked-larger");
        CliTest.Result l = CliTest.run(sample(larger, "--sbpc", "3", "--seed", "7", "--prefer-larger-objects"));
        assertEquals(0, l.code(), l.err());
        JsonNode largerReport = JSON.readTree(larger.resolve("sample.json").toFile());
        assertTrue(largerReport.get("sbpc").get("prefer_larger_objects").asBoolean());
        double bestRecall = -1;
        for (JsonNode c : largerReport.get("candidates")) bestRecall = Math.max(bestRecall, c.get("recall").asDouble());
        assertEquals(bestRecall, largerReport.get("candidates").get(largerReport.get("chosen").asInt()).get("recall").asDouble(),
                "a tie-break never gives up recall");
    }

    @Test void sampleIsDeterministicAndFactorsAndSizesFollowTheOptions() throws Exception {
        Path a = dir.resolve("a"), b = dir.resolve("b"), seg = dir.resolve("segonly");
        assertEquals(0, CliTest.run(sample(a, "--full-size", "--seed", "3")).code());
        assertEquals(0, CliTest.run(sample(b, "--full-size", "--seed", "3")).code());
        assertEquals(TinyFgdm.IMAGE_SIZE, read(a.resolve("seg.png")).getWidth(), "--full-size: maps at the image's size");
        for (String f : List.of("seg.png", "depth.png", "image.png")) {
            assertArrayEquals(pixels(read(a.resolve(f))), pixels(read(b.resolve(f))), f + " reproduces with the seed");
        }
        Path guided = dir.resolve("map-guided");   // guidance toward the maps changes the image only
        assertEquals(0, CliTest.run(sample(guided, "--full-size", "--seed", "3", "--image-map-guidance", "3")).code());
        for (String f : List.of("seg.png", "depth.png")) assertArrayEquals(pixels(read(a.resolve(f))), pixels(read(guided.resolve(f))), f);
        assertFalse(java.util.Arrays.equals(pixels(read(a.resolve("image.png"))), pixels(read(guided.resolve("image.png")))), "image.png");
        assertEquals(3.0, JSON.readTree(guided.resolve("sample.json").toFile()).get("factors").get("image").get("map_guidance").asDouble());
        assertEquals(1.0, JSON.readTree(a.resolve("sample.json").toFile()).get("factors").get("image").get("map_guidance").asDouble());
        CliTest.Result r = CliTest.run(sample(seg, "--factors", "seg"));
        assertEquals(0, r.code(), r.err());
        assertTrue(Files.exists(seg.resolve("seg.png")));
        assertFalse(Files.exists(seg.resolve("image.png")), "the image factor is switched off");
        assertEquals("off", JSON.readTree(seg.resolve("sample.json").toFile()).get("factors").get("image").get("state").asText());

        Path sbpcSeg = dir.resolve("sbpc-segonly");   // SBPC draws and scores the candidates, the final run leaves depth and image out
        CliTest.Result s = CliTest.run(sample(sbpcSeg, "--n", "2", "--select", "recall", "--factors", "seg"));   // the spelling of --sbpc 2
        assertEquals(0, s.code(), s.err());
        assertTrue(Files.exists(sbpcSeg.resolve("seg.png")));
        assertFalse(Files.exists(sbpcSeg.resolve("depth.png")) || Files.exists(sbpcSeg.resolve("image.png")), "left out");
        assertEquals(2, JSON.readTree(sbpcSeg.resolve("sample.json").toFile()).get("candidates").size());
    }

    /** --guide: a segmenter steers the image factor toward the segmentation map; the maps are unchanged, the run records it. */
    @Test void aGuideSteersTheImageOnlyAndIsRecorded() throws Exception {
        Path guide = TinySegmenter.write(dir.resolve("guide")), plain = dir.resolve("unguided"), guided = dir.resolve("guided");
        assertEquals(0, CliTest.run(sample(plain, "--full-size", "--seed", "3")).code());
        CliTest.Result r = CliTest.run(sample(guided, "--full-size", "--seed", "3", "--guide", guide.toString(), "--guide-until", "1"));
        assertEquals(0, r.code(), r.err());
        for (String f : List.of("seg.png", "depth.png")) assertArrayEquals(pixels(read(plain.resolve(f))), pixels(read(guided.resolve(f))), f);
        assertFalse(java.util.Arrays.equals(pixels(read(plain.resolve("image.png"))), pixels(read(guided.resolve("image.png")))), "image.png");
        com.fasterxml.jackson.databind.JsonNode g = JSON.readTree(guided.resolve("sample.json").toFile()).get("guidance");
        assertEquals(guide.toString(), g.get("segmenter").asText());
        assertEquals(1.0, g.get("until").asDouble());
        assertNull(JSON.readTree(plain.resolve("sample.json").toFile()).get("guidance"));

        // two guides read as one: another image than either alone, both folders recorded
        Path second = TinySegmenter.write(dir.resolve("guide2")), pair = dir.resolve("guided-pair");
        r = CliTest.run(sample(pair, "--full-size", "--seed", "3", "--guide", guide + "," + second, "--guide-until", "1"));
        assertEquals(0, r.code(), r.err());
        assertFalse(java.util.Arrays.equals(pixels(read(guided.resolve("image.png"))), pixels(read(pair.resolve("image.png")))), "pair vs one");
        assertEquals(guide + "," + second, JSON.readTree(pair.resolve("sample.json").toFile()).get("guidance").get("segmenter").asText());
        CliTest.assertOneLineError(CliTest.run(sample(dir.resolve("g0"), "--guide", guide + "," + dir.resolve("no-such"))), 2, "no-such", "not a segmenter folder");

        CliTest.assertOneLineError(CliTest.run(sample(dir.resolve("g1"), "--guide", dir.resolve("no-such").toString())), 2, "--guide", "not a segmenter folder");
        // with SBPC the chosen map's image is steered: the same candidates and choice, another image
        Path sbpcPlain = dir.resolve("sbpc-unguided"), sbpcGuided = dir.resolve("sbpc-guided");
        assertEquals(0, CliTest.run(sample(sbpcPlain, "--full-size", "--seed", "3", "--sbpc", "2")).code());
        r = CliTest.run(sample(sbpcGuided, "--full-size", "--seed", "3", "--sbpc", "2", "--guide", guide.toString(), "--guide-until", "1"));
        assertEquals(0, r.code(), r.err());
        JsonNode a = JSON.readTree(sbpcPlain.resolve("sample.json").toFile()), b = JSON.readTree(sbpcGuided.resolve("sample.json").toFile());
        assertEquals(a.get("chosen"), b.get("chosen"));
        for (int k = 0; k < 2; k++) {
            assertEquals(a.get("candidates").get(k).get("recall"), b.get("candidates").get(k).get("recall"), "the candidates are drawn unguided");
        }
        assertArrayEquals(pixels(read(sbpcPlain.resolve("seg.png"))), pixels(read(sbpcGuided.resolve("seg.png"))));
        assertFalse(java.util.Arrays.equals(pixels(read(sbpcPlain.resolve("image.png"))), pixels(read(sbpcGuided.resolve("image.png")))), "sbpc image.png");
        assertNotNull(b.get("guidance"));
        CliTest.assertOneLineError(CliTest.run(sample(dir.resolve("g3"), "--guide", guide.toString(), "--mode", "joint")), 2, "--guide needs --mode sequential");
        CliTest.assertOneLineError(CliTest.run(sample(dir.resolve("g4"), "--guide", guide.toString(), "--guide-until", "0")), 2, "--guide-*", "guidance end");
        CliTest.assertOneLineError(CliTest.run(sample(dir.resolve("g5"), "--guide", guide.toString(), "--factors", "seg")), 2, "--guide", "draws no image");
        CliTest.assertOneLineError(CliTest.run(sample(dir.resolve("g6"), "--guide", guide.toString(), "--guide-jitter", "9")), 2, "--guide-jitter must be in 0..8");
    }

    /** --min-region-pixels / --min-object-pixels: the written seg map is the sampled one without its small regions. */
    @Test void smallRegionsCanBeLeftOutOfTheSegmentationMap() throws Exception {
        Path plain = dir.resolve("regions-plain"), cleaned = dir.resolve("regions-cleaned");
        assertEquals(0, CliTest.run(sample(plain, "--seed", "5", "--factors", "seg")).code());
        CliTest.Result r = CliTest.run(sample(cleaned, "--seed", "5", "--factors", "seg", "--min-region-pixels", "5", "--min-object-pixels", "3"));
        assertEquals(0, r.code(), r.err());
        Palette palette = ToyWorldMaps.palette();
        int tolerance = org.ldm4j.methods.fgdm.FgdmFolder.tolerance(palette);
        var sampled = SegmentationMaps.decode(read(plain.resolve("seg.png")), palette, tolerance);
        var expected = org.ldm4j.methods.fgdm.MapEdits.removeSmallRegions(sampled, c -> palette.isObject(c) ? 3 : 5);
        assertNotEquals(sampled, expected, "the tiny factor's random map has small regions");
        assertEquals(expected, SegmentationMaps.decode(read(cleaned.resolve("seg.png")), palette, tolerance));
    }

    /** --blend-rims: the written seg map is the sampled one read without its blend rims (then without small regions). */
    @Test void blendRimsCanBeLeftOutOfTheSegmentationMap() throws Exception {
        Path plain = dir.resolve("rims-plain"), cleaned = dir.resolve("rims-cleaned");
        assertEquals(0, CliTest.run(sample(plain, "--seed", "5", "--factors", "seg")).code());
        CliTest.Result r = CliTest.run(sample(cleaned, "--seed", "5", "--factors", "seg", "--blend-rims", "--min-region-pixels", "4"));
        assertEquals(0, r.code(), r.err());
        Palette palette = ToyWorldMaps.palette();
        int tolerance = org.ldm4j.methods.fgdm.FgdmFolder.tolerance(palette);
        var sampled = SegmentationMaps.decode(read(plain.resolve("seg.png")), palette, tolerance);
        var expected = org.ldm4j.methods.fgdm.MapEdits.removeSmallRegions(org.ldm4j.methods.fgdm.MapEdits.removeBlendRims(sampled, palette,
                org.ldm4j.methods.fgdm.MapReadout.BLEND_RIM_THIN), c -> palette.isObject(c) ? 0 : 4);
        assertNotEquals(sampled, expected, "the tiny factor's random map has something to clean");
        assertEquals(expected, SegmentationMaps.decode(read(cleaned.resolve("seg.png")), palette, tolerance));
    }

    @Test void aGivenSegmentationMapIsUsedInsteadOfSampled() throws Exception {
        BufferedImage map = new BufferedImage(TinyFgdm.MAP_SIZE, TinyFgdm.MAP_SIZE, BufferedImage.TYPE_INT_RGB);
        for (int y = 0; y < map.getHeight(); y++) {
            for (int x = 0; x < map.getWidth(); x++) map.setRGB(x, y, (y < 4 ? ToyClass.SKY : x < 4 ? ToyClass.HOUSE : ToyClass.GRASS).colour());
        }
        Path png = dir.resolve("given.png"), out = dir.resolve("given");
        ImageIO.write(map, "png", png.toFile());
        CliTest.Result r = CliTest.run(sample(out, "--given", "seg=" + png));
        assertEquals(0, r.code(), r.err());
        assertArrayEquals(pixels(map), pixels(read(out.resolve("seg.png"))), "seg.png is the given map");
        JsonNode report = JSON.readTree(out.resolve("sample.json").toFile());
        assertEquals("given", report.get("factors").get("seg").get("state").asText());
        assertEquals(0.5, report.get("candidates").get(0).get("recall").asDouble(), "the house is there, the tree is not");
        assertTrue(Files.exists(out.resolve("image.png")));
    }

    @Test void badInputsAreOneLineUsageErrors() throws Exception {
        Path small = dir.resolve("small.png"), grey = dir.resolve("grey.png"), out = dir.resolve("bad");
        ImageIO.write(new BufferedImage(4, 4, BufferedImage.TYPE_INT_RGB), "png", small.toFile());
        BufferedImage g = new BufferedImage(TinyFgdm.MAP_SIZE, TinyFgdm.MAP_SIZE, BufferedImage.TYPE_INT_RGB);
        for (int y = 0; y < g.getHeight(); y++) for (int x = 0; x < g.getWidth(); x++) g.setRGB(x, y, 0x404040);
        ImageIO.write(g, "png", grey.toFile());
        Map<String, String[]> cases = new TreeMap<>();
        cases.put("empty objects", sample(out, "--objects", ""));
        cases.put("unknown object", sample(out, "--objects", "house,dragon"));
        cases.put("unknown factor", sample(out, "--factors", "seg,colour"));
        cases.put("wrong-size given", sample(out, "--given", "seg=" + small));
        cases.put("given without palette colours", sample(out, "--given", "seg=" + grey));
        cases.put("given image factor", sample(out, "--given", "image=" + grey));
        cases.put("both sizes", sample(out, "--half-res", "--full-size"));
        cases.put("negative map guidance", sample(out, "--image-map-guidance", "-1"));
        cases.put("image scale not a number", sample(out, "--image-scale", "NaN"));
        cases.put("negative min region", sample(out, "--min-region-pixels", "-2"));
        cases.put("negative min object", sample(out, "--min-object-pixels", "-1"));
        cases.put("sbpc without the segmentation", sample(out, "--sbpc", "2", "--factors", "depth,image"));
        cases.put("sbpc given", sample(out, "--sbpc", "2", "--given", "seg=" + grey));
        cases.put("sbpc joint", sample(out, "--sbpc", "2", "--mode", "joint"));
        cases.put("image check without sbpc", sample(out, "--image-check", "2"));
        cases.put("unknown selection score", sample(out, "--n", "2", "--select", "clip"));
        cases.put("image check without a segmenter", sample(out, "--sbpc", "2", "--image-check", "2", "--segmenter", dir.resolve("none").toString()));
        cases.put("image check of 0 images", sample(out, "--sbpc", "2", "--image-check", "0"));
        cases.put("candidate guidance without sbpc", sample(out, "--condition-guidance", "1"));
        cases.put("candidate guidance below 1", sample(out, "--sbpc", "2", "--condition-guidance", "0.5"));
        cases.put("unknown candidate sampler", sample(out, "--sbpc", "2", "--condition-scheduler", "nope"));
        cases.put("larger objects without sbpc", sample(out, "--prefer-larger-objects"));
        cases.put("image min area without a check", sample(out, "--sbpc", "2", "--image-min-area", "0.002"));
        cases.put("image min area of 1", sample(out, "--sbpc", "2", "--image-check", "2", "--image-min-area", "1"));
        cases.put("sbpc nothing to count", new String[]{"fgdm", "sample", "--model", model.toString(), "--prompt", "a sky", "--sbpc", "2", "--out", out.toString()});
        cases.put("missing model", new String[]{"fgdm", "sample", "--model", dir.resolve("nothing").toString(), "--prompt", "x", "--out", out.toString()});
        cases.put("dataset n 0", new String[]{"fgdm", "dataset", "--model", model.toString(), "--n", "0", "--out", out.toString()});
        cases.put("empty prompt", new String[]{"fgdm", "sample", "--model", model.toString(), "--prompt", "", "--out", out.toString()});
        cases.put("blank prompt", new String[]{"fgdm", "sample", "--model", model.toString(), "--prompt", " \t", "--out", out.toString()});
        for (Map.Entry<String, String[]> c : cases.entrySet()) {
            CliTest.Result r = CliTest.run(c.getValue());
            assertEquals(2, r.code(), c.getKey() + ": " + r.err());
            assertEquals(1, r.err().strip().lines().count(), c.getKey() + " is one line: " + r.err());
            assertTrue(r.err().startsWith("ldm4j: "), c.getKey() + ": " + r.err());
        }
        assertFalse(Files.exists(out.resolve("sample.json")), "nothing was sampled");
        CliTest.Result missing = CliTest.run("fgdm", "sample", "--model", dir.resolve("nothing").toString(), "--prompt", "x", "--out", out.toString());
        assertTrue(missing.err().contains("FG-DM folder not found: " + dir.resolve("nothing")), "a given path is named as missing: " + missing.err());
        CliTest.assertOneLineError(CliTest.run(cases.get("empty prompt")), 2, "--prompt is empty: fgdm sample draws its maps and image from the prompt");
    }

    @Test void datasetWritesNTuplesAndARerunWritesOnlyTheMissingOne() throws Exception {
        Path out = dir.resolve("dataset");
        String[] args = {"fgdm", "dataset", "--model", model.toString(), "--n", "3", "--seed", "10", "--out", out.toString()};
        CliTest.Result first = CliTest.run(args);
        assertEquals(0, first.code(), first.err());
        assertTrue(first.out().contains("tuples/s"), first.out());
        List<String> lines = Files.readAllLines(out.resolve("index.jsonl"));
        assertEquals(3, lines.size());
        for (String line : lines) {
            JsonNode e = JSON.readTree(line);
            assertEquals(TinyFgdm.IMAGE_SIZE, e.get("width").asInt());
            assertEquals(List.of("image", "seg", "segidx", "depth"), fieldNames(e.get("files")));
            for (JsonNode f : e.get("files")) assertEquals(TinyFgdm.IMAGE_SIZE, read(out.resolve(f.asText())).getWidth(), f.asText());
            assertFalse(e.get("captions").get(0).asText().isBlank());
        }
        assertTrue(Files.exists(out.resolve("palette.json")) && Files.exists(out.resolve("vocabulary.txt")));

        Path lastImage = out.resolve("0000012_image.png"), firstImage = out.resolve("0000010_image.png");
        byte[] lastBytes = Files.readAllBytes(lastImage);
        FileTime firstTime = Files.getLastModifiedTime(firstImage);
        for (String m : List.of("image", "seg", "segidx", "depth")) Files.delete(out.resolve("0000012_" + m + ".png"));
        CliTest.Result again = CliTest.run(args);
        assertEquals(0, again.code(), again.err());
        assertTrue(again.out().contains("wrote 1 tuples (2 already there)"), again.out());
        assertEquals(firstTime, Files.getLastModifiedTime(firstImage), "a complete tuple is not written again");
        assertArrayEquals(lastBytes, Files.readAllBytes(lastImage), "the missing tuple comes back the same (seeded)");
        List<Long> seeds = Files.readAllLines(out.resolve("index.jsonl")).stream().map(l -> {
            try {
                return JSON.readTree(l).get("seed").asLong();
            } catch (Exception e) {
                throw new AssertionError(e);
            }
        }).sorted().toList();
        assertEquals(List.of(10L, 11L, 12L), seeds);
    }

    /** A model that cannot load (its base model is missing) is reported before the dataset folder is created. */
    @Test void datasetChecksTheModelBeforeCreatingItsFolder() throws Exception {
        Path noBase = dir.resolve("fgdm-no-base");
        org.ldm4j.pipeline.TinyStableDiffusion.copyTree(model, noBase);
        Path manifest = noBase.resolve("fgdm.json");
        Files.writeString(manifest, Files.readString(manifest).replace("../tiny-ldm", "../no-such-ldm"));
        Path out = dir.resolve("dataset-no-base");
        CliTest.Result r = CliTest.run("fgdm", "dataset", "--model", noBase.toString(), "--n", "1", "--out", out.toString());
        CliTest.assertOneLineError(r, 2, "cannot load FG-DM " + noBase, "no-such-ldm");
        assertFalse(Files.exists(out), "nothing is created on error");
        Path file = Files.writeString(dir.resolve("dataset-is-a-file"), "x");
        CliTest.assertOneLineError(CliTest.run("fgdm", "dataset", "--model", model.toString(), "--n", "1", "--out", file.toString()),
                2, "--out " + file + " is a file, not a folder");
    }

    /**
     * Resuming: a torn last line of index.jsonl (a crash while appending) is dropped with a warning and its tuple
     * generated again; a bad line before it is an error naming the file and the line, and nothing is written.
     */
    @Test void datasetResumeDropsOnlyATornLastLine() throws Exception {
        Path out = dir.resolve("dataset-resume");
        String[] args = {"fgdm", "dataset", "--model", model.toString(), "--n", "2", "--seed", "20", "--out", out.toString()};
        assertEquals(0, CliTest.run(args).code());
        Path index = out.resolve("index.jsonl");
        List<String> lines = Files.readAllLines(index);
        assertEquals(2, lines.size());

        for (String bad : List.of(lines.get(0).substring(0, 30), "{\"note\": \"not an entry\"}")) {
            Files.writeString(index, bad + "\n" + lines.get(1) + "\n");
            CliTest.Result r = CliTest.run(args);
            CliTest.assertOneLineError(r, 2, index + ": line 1 is not ");
            assertEquals(bad + "\n" + lines.get(1) + "\n", Files.readString(index), "the index is left as it was");
        }

        Files.writeString(index, lines.get(0) + "\n" + lines.get(1).substring(0, 25));   // torn while appending
        CliTest.Result torn = CliTest.run(args);
        assertEquals(0, torn.code(), torn.err());
        assertTrue(torn.err().contains("warning: " + index + ": line 2 is torn"), torn.err());
        assertTrue(torn.out().contains("wrote 1 tuples (1 already there)"), torn.out());
        assertEquals(lines, Files.readAllLines(index), "the torn entry is generated again, the same (seeded)");
    }

    static List<String> names(JsonNode array) {
        List<String> out = new ArrayList<>();
        array.forEach(n -> out.add(n.asText()));
        return out;
    }

    static List<String> fieldNames(JsonNode object) {
        List<String> out = new ArrayList<>();
        object.fieldNames().forEachRemaining(out::add);
        return out;
    }

    /** {@code fgdm edit --op text} on the tiny FG-DM: an unchanged caption gives the map back exactly (edit-friendly). */
    @Test void aSegmentationMapIsEditedByText() throws Exception {
        Palette palette = ToyWorldMaps.palette();
        Path map = dir.resolve("text-seg.png");
        ImageIO.write(SegmentationMaps.decode(ToyWorld.sample(3).segColourImage(), palette, 63)
                .resizeNearest(TinyFgdm.MAP_SIZE, TinyFgdm.MAP_SIZE).toImage(palette), "png", map.toFile());
        String caption = "a red house and a tree";
        CliTest.Result same = CliTest.run("fgdm", "edit", "--model", model.toString(), "--map", map.toString(), "--op", "text",
                "--prompt", caption, "--to-prompt", caption, "--out", dir.resolve("text-same").toString());
        assertEquals(0, same.code(), same.err());
        JsonNode report = JSON.readTree(dir.resolve("text-same/edit.json").toFile());
        assertEquals("edit-friendly", report.get("inversion").asText());
        assertEquals(1.0, report.get("unchangedFraction").asDouble(), "an unchanged caption gives every pixel its class back");
        CliTest.Result edited = CliTest.run("fgdm", "edit", "--model", model.toString(), "--map", map.toString(), "--op", "text",
                "--prompt", caption, "--to-prompt", "a blue boat on a lake", "--inversion", "ddim", "--cfg", "1",
                "--out", dir.resolve("text-edit").toString());
        assertEquals(0, edited.code(), edited.err());
        assertEquals(TinyFgdm.MAP_SIZE, read(dir.resolve("text-edit/map.png")).getWidth());
        assertEquals(2, CliTest.run("fgdm", "edit", "--model", model.toString(), "--map", map.toString(), "--op", "text",
                "--prompt", caption, "--out", dir.resolve("text-bad").toString()).code(), "--to-prompt is missing");
        assertEquals(2, CliTest.run("fgdm", "edit", "--model", model.toString(), "--map", map.toString(), "--op", "text",
                "--prompt", caption, "--to-prompt", "x", "--inversion", "magic", "--out", dir.resolve("text-bad").toString()).code());
        // LEDITS++'s semantic guidance: the report names it; captions naming the same objects and DDIM are usage errors
        CliTest.Result semantic = CliTest.run("fgdm", "edit", "--model", model.toString(), "--map", map.toString(), "--op", "text",
                "--prompt", caption, "--to-prompt", "a red boat and a tree", "--semantic", "--out", dir.resolve("text-semantic").toString());
        assertEquals(0, semantic.code(), semantic.err());
        JsonNode semanticReport = JSON.readTree(dir.resolve("text-semantic/edit.json").toFile());
        assertEquals(5.0, semanticReport.get("semanticScale").asDouble());
        assertEquals(0.9, semanticReport.get("editThreshold").asDouble());
        assertFalse(semanticReport.get("crossAttentionMask").asBoolean());
        CliTest.Result intersected = CliTest.run("fgdm", "edit", "--model", model.toString(), "--map", map.toString(), "--op", "text",
                "--prompt", caption, "--to-prompt", "a red boat and a tree", "--semantic", "--cross-attention-mask",
                "--out", dir.resolve("text-semantic-attention").toString());
        assertEquals(0, intersected.code(), intersected.err());
        assertTrue(JSON.readTree(dir.resolve("text-semantic-attention/edit.json").toFile()).get("crossAttentionMask").asBoolean());
        CliTest.Result same2 = CliTest.run("fgdm", "edit", "--model", model.toString(), "--map", map.toString(), "--op", "text",
                "--prompt", caption, "--to-prompt", "a big red house and a tree", "--semantic", "--out", dir.resolve("text-bad").toString());
        assertEquals(2, same2.code());
        assertTrue(same2.err().contains("name the same objects"), same2.err());
        CliTest.Result ddim = CliTest.run("fgdm", "edit", "--model", model.toString(), "--map", map.toString(), "--op", "text",
                "--prompt", caption, "--to-prompt", "a boat", "--semantic", "--inversion", "ddim", "--out", dir.resolve("text-bad").toString());
        assertEquals(2, ddim.code());
        assertTrue(ddim.err().contains("edit-friendly"), ddim.err());
    }
}
