package org.ldm4j.studio;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.ldm4j.image.PngParameters;
import org.ldm4j.methods.fgdm.ClassMap;
import org.ldm4j.methods.fgdm.Factor;
import org.ldm4j.methods.fgdm.FactorSettings;
import org.ldm4j.methods.fgdm.MapEdits;
import org.ldm4j.methods.fgdm.ObjectRecall;
import org.ldm4j.methods.fgdm.Palette;
import org.ldm4j.methods.fgdm.Region;
import org.ldm4j.methods.fgdm.SegmentationMaps;
import org.ldm4j.methods.fgdm.Shapes;
import org.ldm4j.pipeline.Step;
import org.ldm4j.pipeline.StepHook;
import org.ldm4j.pipeline.TinyStableDiffusion;

import javax.imageio.ImageIO;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.ldm4j.studio.StudioFixture.assertError;
import static org.ldm4j.studio.StudioFixture.json;

/** The Factor graph mode (factorgraph, mapedit, /api/fgdm/edit) on a tiny random FG-DM over the tiny model. */
class StudioFactorGraphApiTest {
    static final Palette PALETTE = FactorGraphModel.toyWorldPalette();
    static final int SKY = PALETTE.classOf("sky"), GRASS = PALETTE.classOf("grass"), HOUSE = PALETTE.classOf("house"),
            TREE = PALETTE.classOf("tree");
    @TempDir static Path dir;
    static Path model;
    static StudioFixture studio;

    @BeforeAll
    static void start() throws Exception {
        torch.set_num_threads(1);
        model = TinyStableDiffusion.write(dir.resolve("tiny"), 3);
        studio = new StudioFixture(StudioServer.start(StudioFixture.config(model, dir.resolve("gallery"), StudioFixture.testLimits()),
                TinyFactorGraph.source()));
    }

    @AfterAll
    static void stop() {
        if (studio != null) studio.close();
    }

    /** 16x16: sky over grass, a 4x4 house at (3..6, 5..8). */
    static ClassMap scene() {
        int[] l = new int[256];
        for (int i = 0; i < 256; i++) l[i] = i / 16 < 8 ? SKY : GRASS;
        return MapEdits.add(new ClassMap(16, 16, l), Shapes.rectangle(16, 16, 3, 5, 6, 8), HOUSE);
    }

    static String png(ClassMap map) { return SegmentationEdits.png(map, PALETTE); }

    static ClassMap read(String dataUrl) throws IOException {
        byte[] bytes = Base64.getDecoder().decode(dataUrl.substring(DataUrls.PNG_PREFIX.length()));
        return SegmentationMaps.decode(ImageIO.read(new ByteArrayInputStream(bytes)), PALETTE, 0);
    }

    static ObjectNode fg() {
        return StudioFixture.JSON.createObjectNode().put("mode", "factorgraph").put("prompt", "a house and a tree").put("seed", 40).put("steps", 2);
    }

    static ObjectNode mapEdit(ClassMap map) {
        return StudioFixture.JSON.createObjectNode().put("mode", "mapedit").put("prompt", "a house and a tree").put("seed", 40)
                .put("steps", 2).put("map", png(map));
    }

    static ArrayNode ops(ObjectNode... edits) {
        ArrayNode a = StudioFixture.JSON.createArrayNode();
        for (ObjectNode e : edits) a.add(e);
        return a;
    }

    static ObjectNode op(String name) { return StudioFixture.JSON.createObjectNode().put("op", name); }

    /** Previews decode the scheduler's predicted x0 of each factor step, not its still noisy z_{t-1}. */
    @Test
    void factorStepsReachTheJobsHooksWithTheirPredictedX0() {
        List<Tensor[]> seen = new ArrayList<>();
        StepHook hook = new StepHook() {
            @Override public Tensor afterStep(Tensor latents, Tensor predictedX0, Step step) {
                seen.add(new Tensor[]{latents, predictedX0});
                return latents;
            }
        };
        Tensor z = torch.zeros(1), x0 = torch.ones(1);
        Factor factor = Factor.root("seg", null, new FactorSettings(16, 16, 2, 5.0, "ddim", 0, "", ""));
        FactorGraphMode.progress(List.of(hook)).stepped(factor, new Step(0, 999, 2, 0), z, x0);
        assertEquals(1, seen.size());
        assertTrue(seen.get(0)[0] == z && seen.get(0)[1] == x0, "latents and predicted x0 handed on as they are");
    }

    @Test
    void theModesAreListedEnabledWithTheGraphAndItsClasses() throws Exception {
        JsonNode info = json(studio.get("/api/models"));
        JsonNode fgMode = null;
        for (JsonNode m : info.get("modes")) if (m.get("name").asText().equals("factorgraph")) fgMode = m;
        assertTrue(fgMode != null && fgMode.get("enabled").asBoolean(), info.get("modes").toString());
        assertEquals("seg", info.at("/factorGraph/segmentation").asText());
        assertEquals("image", info.at("/factorGraph/image").asText());
        assertEquals(List.of("seg", "depth", "image"), List.of(info.at("/factorGraph/factors/0/name").asText(),
                info.at("/factorGraph/factors/1/name").asText(), info.at("/factorGraph/factors/2/name").asText()));
        assertEquals("#ff0000", info.at("/factorGraph/classes/" + HOUSE + "/colour").asText());
        assertEquals("house", info.at("/factorGraph/classes/" + HOUSE + "/name").asText());
        // the fast candidates as job fields, from the library's preset
        org.ldm4j.methods.fgdm.SbpcSettings fast = org.ldm4j.methods.fgdm.SbpcSettings.fast(10, FactorGraphModel.TOLERANCE);
        JsonNode fields = info.at("/factorGraph/fastCandidates");
        assertEquals(fast.conditionSteps(), fields.get("conditionSteps").asInt());
        assertEquals(fast.conditionGuidance(), fields.get("conditionGuidance").asDouble());
        assertEquals(fast.conditionScheduler(), fields.get("conditionScheduler").asText());
        assertEquals(org.ldm4j.methods.fgdm.SbpcSettings.FAST_MAP_MIN_AREA, fields.get("mapMinArea").asDouble());
        assertTrue(fields.get("preferLargerObjects").asBoolean());
        assertEquals(5, fields.size(), fields.toString());
    }

    @Test
    void sbpcReportsEveryCandidatesRecallAndRunsTheImageOnTheBest() throws Exception {
        String id = studio.submit(fg().put("prompt", "a rock, a boat, a car and a house").put("seed", 39).put("n", 3).put("conditionSteps", 1).put("halfResolution", true).toString());
        List<StudioFixture.Event> events = studio.events(id);
        JsonNode done = events.get(events.size() - 1).data();
        assertEquals("done", done.get("state").asText(), done.toString());
        // 3 loops: the 3 candidates of seg (the scored map) in one batch of 1 step, then depth once (1 step) and the
        // image factor (2 steps): fractions in 6ths
        List<JsonNode> progress = events.stream().filter(e -> e.name().equals("progress")).map(StudioFixture.Event::data).toList();
        assertFalse(progress.isEmpty());
        for (JsonNode p : progress) {
            double f6 = p.get("fraction").asDouble() * 6;
            assertEquals(Math.rint(f6), f6, 1e-9, "fraction " + p);
        }
        assertEquals(2, progress.get(progress.size() - 1).get("total").asInt(), "the image factor's steps come last");
        assertEquals(1.0, done.at("/progress/fraction").asDouble(), 1e-9);

        JsonNode details = done.at("/outputs/0/details");
        List<String> wanted = new ArrayList<>();
        details.get("wanted").forEach(w -> wanted.add(w.asText()));
        assertEquals(List.of("house", "boat", "car", "rock"), wanted, "the objects the prompt names, in palette order");
        java.util.Set<Integer> ids = new java.util.HashSet<>();
        wanted.forEach(w -> ids.add(PALETTE.classOf(w)));
        JsonNode candidates = details.get("candidates");
        assertEquals(3, candidates.size());
        double best = -1;
        int chosen = -1;
        for (int k = 0; k < 3; k++) {
            JsonNode c = candidates.get(k);
            assertEquals(39 + k, c.get("seed").asLong());
            ClassMap map = read(c.get("map").asText());
            assertEquals(8, map.width(), "candidates at half resolution");
            double recall = new ObjectRecall(ids, FactorGraphModel.MIN_AREA).score(map);
            assertEquals(recall, c.get("recall").asDouble(), 1e-12, "the reported recall is the recall of the candidate's map");
            if (recall > best) { best = recall; chosen = k; }
        }
        assertTrue(candidates.get(chosen).get("chosen").asBoolean(), "the first best candidate is chosen: " + candidates);
        assertTrue(chosen > 0, "with these seeds the best is not the first candidate, so the pick is not trivial: " + candidates);
        assertEquals(39 + chosen, details.get("seed").asLong());
        assertEquals(List.of("seg", "depth"), List.of(details.at("/maps/0/factor").asText(), details.at("/maps/1/factor").asText()));
        assertEquals("segmentation", details.at("/maps/0/kind").asText());
        assertEquals(read(candidates.get(chosen).get("map").asText()), read(details.at("/maps/0/url").asText()),
                "the seg layer is the chosen candidate");
        assertTrue(details.at("/maps/1/url").asText().startsWith(DataUrls.PNG_PREFIX));

        byte[] png = studio.getBytes(done.at("/results/0").asText()).body();
        assertEquals(16, ImageIO.read(new ByteArrayInputStream(png)).getWidth());
        JsonNode record = PngParameters.read(png, "result").request();
        assertEquals("factorgraph", record.at("/request/mode").asText());
        assertEquals(39 + chosen, record.at("/request/seed").asLong());
        assertEquals(3, record.get("n").asInt());
        assertEquals(chosen, record.get("chosen").asInt());
        assertEquals(3, record.get("recalls").size());
    }

    @Test
    void sbpcCandidatesTakeTheirOwnGuidanceSamplerAndMapArea() throws Exception {
        String prompt = "a rock, a boat, a car and a house";
        JsonNode done = studio.await(studio.submit(fg().put("prompt", prompt).put("seed", 39).put("n", 3).put("conditionSteps", 2)
                .put("conditionGuidance", 1).put("conditionScheduler", "DPM++ 2M").put("mapMinArea", 0.05).toString()));
        assertEquals("done", done.get("state").asText(), done.toString());
        JsonNode candidates = done.at("/outputs/0/details/candidates");
        java.util.Set<Integer> ids = new java.util.HashSet<>();
        done.at("/outputs/0/details/wanted").forEach(w -> ids.add(PALETTE.classOf(w.asText())));
        for (JsonNode c : candidates) {
            assertEquals(new ObjectRecall(ids, 0.05).score(read(c.get("map").asText())), c.get("recall").asDouble(), 1e-12,
                    "candidates are scored at the request's map area");
        }
        JsonNode record = PngParameters.read(studio.getBytes(done.at("/results/0").asText()).body(), "result").request();
        assertEquals(1.0, record.get("conditionGuidance").asDouble());
        assertEquals("dpm++2m", record.get("conditionScheduler").asText(), "the sampler recorded by its alias");
        assertEquals(0.05, record.get("mapMinArea").asDouble());
        JsonNode larger = studio.await(studio.submit(fg().put("prompt", prompt).put("seed", 39).put("n", 3).put("conditionSteps", 2)
                .put("conditionGuidance", 1).put("conditionScheduler", "dpm++2m").put("mapMinArea", 0.05).put("preferLargerObjects", true).toString()));
        double best = -1;
        for (JsonNode c : larger.at("/outputs/0/details/candidates")) best = Math.max(best, c.get("recall").asDouble());
        for (JsonNode c : larger.at("/outputs/0/details/candidates")) {
            if (c.get("chosen").asBoolean()) assertEquals(best, c.get("recall").asDouble(), "a tie-break never gives up recall");
        }
        assertTrue(PngParameters.read(studio.getBytes(larger.at("/results/0").asText()).body(), "result").request().get("preferLargerObjects").asBoolean());
        // the same request with the factor's own guidance and sampler draws other candidate maps
        JsonNode own = studio.await(studio.submit(fg().put("prompt", prompt).put("seed", 39).put("n", 3).put("conditionSteps", 2).put("mapMinArea", 0.05).toString()));
        org.junit.jupiter.api.Assertions.assertNotEquals(candidates.get(0).get("map").asText(), own.at("/outputs/0/details/candidates/0/map").asText());
        assertError(studio.postJson("/api/jobs", fg().put("n", 2).put("conditionGuidance", 0.5).toString()), 400, "conditionGuidance must be in 1..100");
        assertError(studio.postJson("/api/jobs", fg().put("n", 2).put("conditionScheduler", "nope").toString()), 400, "conditionScheduler: unknown scheduler 'nope'");
        assertError(studio.postJson("/api/jobs", fg().put("n", 2).put("mapMinArea", 1).toString()), 400, "mapMinArea must be in [0, 1)");
        assertError(studio.postJson("/api/jobs", fg().put("sampling", "joint").put("conditionGuidance", 1).toString()), 400, "needs sampling sequential");
    }

    /** Each pixel the class of the nearest palette colour (tolerance 255): a segmenter that reads the tiny model's noisy images deterministically. */
    static final org.ldm4j.methods.fgdm.ImageSegmenter NEAREST_COLOUR = image -> SegmentationMaps.decode(image, PALETTE, 255);

    @Test
    void theImageCheckSegmentsImagesInRankingOrderAndKeepsTheBest() throws Exception {
        try (StudioFixture checked = new StudioFixture(StudioServer.start(StudioFixture.config(model, dir.resolve("checked"), StudioFixture.testLimits()),
                base -> TinyFactorGraph.source().load(base).withSegmenter(NEAREST_COLOUR)))) {
            assertTrue(json(checked.get("/api/models")).at("/factorGraph/imageCheck").asBoolean());
            assertFalse(json(studio.get("/api/models")).at("/factorGraph/imageCheck").asBoolean(), "the main test server has no segmenter");
            String prompt = "a rock, a boat, a car and a house";
            double imageArea = 0.1;   // each object must cover a tenth of the image: no image has all four, so the check makes all its images
            JsonNode done = checked.await(checked.submit(fg().put("prompt", prompt).put("seed", 39).put("n", 4).put("conditionSteps", 1)
                    .put("imageCheck", 3).put("imageMinArea", imageArea).toString()));
            assertEquals("done", done.get("state").asText(), done.toString());
            JsonNode candidates = done.at("/outputs/0/details/candidates");
            java.util.Set<Integer> ids = new java.util.HashSet<>();
            done.at("/outputs/0/details/wanted").forEach(w -> ids.add(PALETTE.classOf(w.asText())));
            // the images were made for the three best maps (recall down, then seed), in that order
            List<Integer> ranking = new ArrayList<>(List.of(0, 1, 2, 3));
            ranking.sort((a, b) -> Double.compare(candidates.get(b).get("recall").asDouble(), candidates.get(a).get("recall").asDouble()));
            int[] imaged = new int[3];
            int kept = -1;
            for (int k = 0; k < 4; k++) {
                JsonNode c = candidates.get(k);
                if (c.has("imageOrder")) {
                    imaged[c.get("imageOrder").asInt()] = k;
                    assertTrue(c.get("imageRecall").asDouble() < 1.0, "no image names every object at this area: " + c);
                }
                if (c.get("chosen").asBoolean()) kept = k;
            }
            assertArrayEquals(new int[]{ranking.get(0), ranking.get(1), ranking.get(2)}, imaged, candidates.toString());
            assertFalse(candidates.get(ranking.get(3)).has("imageOrder"), "at most imageCheck images");
            double bestImage = -1;
            int expectedKept = -1;
            for (int k : imaged) {
                double r = candidates.get(k).get("imageRecall").asDouble();
                if (r > bestImage) { bestImage = r; expectedKept = k; }
            }
            assertEquals(expectedKept, kept, "the first image with the best recall is kept: " + candidates);
            assertEquals(39 + kept, done.at("/outputs/0/details/seed").asLong());
            // the kept image is the result, and its recall is the segmenter's reading of it at imageMinArea
            byte[] png = checked.getBytes(done.at("/results/0").asText()).body();
            ClassMap read = NEAREST_COLOUR.segment(org.ldm4j.image.Images.toTensor(ImageIO.read(new ByteArrayInputStream(png))));
            assertEquals(new ObjectRecall(ids, imageArea).score(read), bestImage, 1e-12);
            JsonNode record = PngParameters.read(png, "result").request();
            assertEquals(3, record.get("imageCheck").asInt());
            assertEquals(imageArea, record.get("imageMinArea").asDouble());
            assertEquals(kept, record.get("chosen").asInt());

            assertError(checked.postJson("/api/jobs", fg().put("imageCheck", 2).toString()), 400, "imageCheck checks SBPC's image: it needs n > 1");
            assertError(checked.postJson("/api/jobs", fg().put("n", 2).put("imageCheck", 3).toString()), 400, "imageCheck must be in 1..n (2) images, got 3");
            assertError(checked.postJson("/api/jobs", fg().put("n", 2).put("imageMinArea", 0.01).toString()), 400, "imageMinArea scores the image check's images: it needs imageCheck");
            assertError(checked.postJson("/api/jobs", fg().put("n", 2).put("imageCheck", 2).put("imageMinArea", 1).toString()), 400, "imageMinArea must be in [0, 1)");
            assertError(checked.postJson("/api/jobs", fg().put("n", 2).put("imageCheck", 2).put("sampling", "joint").toString()), 400, "needs sampling sequential");
        }
        assertError(studio.postJson("/api/jobs", fg().put("n", 2).put("imageCheck", 2).toString()), 503, FactorGraphMode.NO_SEGMENTER);
    }

    @Test
    void jointSamplingRunsWithoutSbpcAndReportsTheMapsRecall() throws Exception {
        JsonNode done = studio.await(studio.submit(fg().put("sampling", "joint").toString()));
        assertEquals("done", done.get("state").asText(), done.toString());
        assertEquals(1, done.at("/outputs/0/details/candidates").size());
        ClassMap seg = read(done.at("/outputs/0/details/maps/0/url").asText());
        assertEquals(16, seg.width());
        assertEquals(new ObjectRecall(java.util.Set.of(HOUSE, TREE), FactorGraphModel.MIN_AREA).score(seg),
                done.at("/outputs/0/details/candidates/0/recall").asDouble(), 1e-12);
        assertEquals(1.0, done.at("/progress/fraction").asDouble(), 1e-9);
    }

    @Test
    void anEditedMapIsGivenToTheGraphAndChangesTheImage() throws Exception {
        ClassMap scene = scene();
        JsonNode plain = studio.await(studio.submit(mapEdit(scene).toString()));
        JsonNode again = studio.await(studio.submit(mapEdit(scene).toString()));
        ObjectNode move = mapEdit(scene);
        move.set("edits", ops(op("move").put("x", 4).put("y", 6).put("dx", 6).put("dy", 4)));
        JsonNode moved = studio.await(studio.submit(move.toString()));
        for (JsonNode j : List.of(plain, again, moved)) assertEquals("done", j.get("state").asText(), j.toString());

        assertEquals(scene, read(plain.at("/outputs/0/details/maps/0/url").asText()), "the map was given, not sampled");
        assertTrue(plain.at("/outputs/0/details/maps/0/given").asBoolean());
        assertFalse(plain.at("/outputs/0/details/maps/1/given").asBoolean(), "depth is sampled on the given map");
        ClassMap expected = MapEdits.move(scene, Region.at(scene, 4, 6), 6, 4, true);
        assertEquals(expected, read(moved.at("/outputs/0/details/maps/0/url").asText()), "the library's move, applied before generating");
        assertTrue(PngParameters.read(studio.getBytes(plain.at("/results/0").asText()).body(), "r").request().path("edits").isMissingNode());
        assertArrayEquals(pixels(plain), pixels(again), "same map and seed: same image");
        assertFalse(java.util.Arrays.equals(pixels(plain), pixels(moved)), "the image follows the edited map");
        JsonNode record = PngParameters.read(studio.getBytes(moved.at("/results/0").asText()).body(), "r").request();
        assertEquals("move", record.at("/edits/0/op").asText());
        assertEquals(MapEditMode.FROM_PAGE, record.get("givenMap").asText());
    }

    static ObjectNode textEdit(ClassMap map, String to) {
        return StudioFixture.JSON.createObjectNode().put("mode", "maptext").put("prompt", "a house and a tree").put("seed", 40)
                .put("steps", 2).put("map", png(map)).put("toPrompt", to);
    }

    /**
     * The map inverted under its caption and redrawn under the edited one (MapTextEdit); with the caption unchanged,
     * edit-friendly inversion gives the map back exactly. The image is drawn under, and recorded with, the edited caption.
     */
    @Test
    void aTextEditRedrawsTheMapUnderTheEditedCaptionAndRegenerates() throws Exception {
        ClassMap scene = scene();
        JsonNode same = studio.await(studio.submit(textEdit(scene, "a house and a tree").toString()));
        assertEquals("done", same.get("state").asText(), same.toString());
        assertEquals(scene, read(same.at("/outputs/0/details/maps/0/url").asText()), "an unchanged caption keeps the map");
        assertEquals(1.0, same.at("/outputs/0/details/candidates/0/unchanged").asDouble(), 1e-12);
        assertTrue(same.at("/outputs/0/details/maps/0/given").asBoolean());

        JsonNode edited = studio.await(studio.submit(textEdit(scene, "a boat and a tree").put("inversion", "ddim").toString()));
        assertEquals("done", edited.get("state").asText(), edited.toString());
        JsonNode record = PngParameters.read(studio.getBytes(edited.at("/results/0").asText()).body(), "r").request();
        assertEquals("a boat and a tree", record.at("/request/prompt").asText(), record.toString());
        assertEquals("text", record.at("/edits/0/op").asText());
        assertEquals("a house and a tree", record.at("/edits/0/prompt").asText());
        assertEquals("ddim", record.at("/edits/0/inversion").asText());
        assertEquals(MapTextEditMode.FROM_PAGE, record.get("givenMap").asText());
        ClassMap map = read(edited.at("/outputs/0/details/maps/0/url").asText());
        assertEquals(16, map.width());
        double unchanged = edited.at("/outputs/0/details/candidates/0/unchanged").asDouble();
        assertEquals(org.ldm4j.methods.fgdm.MapTextEdit.Edited.sameFraction(scene, map), unchanged, 1e-12);

        JsonNode semantic = studio.await(studio.submit(textEdit(scene, "a boat and a tree").put("semantic", 5).toString()));
        assertEquals("done", semantic.get("state").asText(), semantic.toString());
        JsonNode semanticRecord = PngParameters.read(studio.getBytes(semantic.at("/results/0").asText()).body(), "r").request();
        assertEquals(5.0, semanticRecord.at("/edits/0/semantic").asDouble(), 0.0);
        assertError(studio.postJson("/api/jobs", textEdit(scene, "a big house and a tree").put("semantic", 5).toString()), 400,
                "name the same objects");
        assertError(studio.postJson("/api/jobs", textEdit(scene, "a boat").put("semantic", 5).put("inversion", "ddim").toString()), 400,
                "edit-friendly");
        assertError(studio.postJson("/api/jobs", textEdit(scene, "x").without("toPrompt").toString()), 400, "toPrompt is missing");
        assertError(studio.postJson("/api/jobs", textEdit(scene, "  ").toString()), 400, "toPrompt is empty");
        assertError(studio.postJson("/api/jobs", textEdit(scene, "a boat").put("inversion", "ddpm").toString()), 400,
                "inversion must be edit-friendly or ddim, got 'ddpm'");
        assertError(studio.postJson("/api/jobs", textEdit(ClassMap.filled(8, 8, SKY), "a boat").toString()), 400,
                "the map is 8x8, but factor 'seg' makes 16x16 maps");
    }

    @Test
    void theEditEndpointSelectsMovesAndAddsWithTheLibrarysOperations() throws Exception {
        ClassMap scene = scene();
        ObjectNode select = StudioFixture.JSON.createObjectNode().put("map", png(scene));
        select.putObject("select").put("x", 5).put("y", 7);
        JsonNode region = json(ok(studio.postJson("/api/fgdm/edit", select.toString()))).get("region");
        assertEquals("house", region.get("class").asText());
        assertEquals(16, region.get("area").asInt());
        assertEquals(List.of(3, 5, 6, 8), List.of(region.at("/box/0").asInt(), region.at("/box/1").asInt(), region.at("/box/2").asInt(), region.at("/box/3").asInt()));

        ObjectNode edit = StudioFixture.JSON.createObjectNode().put("map", png(scene));
        edit.set("edits", ops(op("move").put("x", 3).put("y", 5).put("dx", 8).put("dy", 0),
                op("add").put("class", "Tree").put("x", 4).put("y", 12).put("w", 3).put("h", 5).put("shape", "rect"),
                op("flip").put("x", 11).put("y", 5).put("axis", "vertical"),
                op("resize").put("x", 11).put("y", 5).put("scale", 0.5)));
        edit.putObject("select").put("x", 4).put("y", 12);
        JsonNode answer = json(ok(studio.postJson("/api/fgdm/edit", edit.toString())));
        ClassMap expected = MapEdits.move(scene, Region.at(scene, 3, 5), 8, 0, true);
        expected = MapEdits.add(expected, Shapes.rectangle(16, 16, 3, 10, 5, 14), TREE);
        expected = MapEdits.flip(expected, Region.at(expected, 11, 5), MapEdits.Axis.VERTICAL);
        expected = MapEdits.resize(expected, Region.at(expected, 11, 5), 0.5);
        assertEquals(expected, read(answer.get("map").asText()));
        assertEquals("tree", answer.at("/region/class").asText());
        assertEquals(15, answer.at("/region/area").asInt());
        assertEquals(expected.area(HOUSE), answer.at("/areas/house").asInt());

        // "object": ToyWorld's generator's outline of the class, scaled to w x h and centred at x, y
        ObjectNode outline = StudioFixture.JSON.createObjectNode().put("map", png(scene));
        outline.set("edits", ops(op("add").put("class", "house").put("x", 11).put("y", 11).put("w", 8).put("h", 7).put("shape", "object")));
        ClassMap withHouse = read(json(ok(studio.postJson("/api/fgdm/edit", outline.toString()))).get("map").asText());
        assertEquals(MapEdits.add(scene, org.ldm4j.toyworld.EditMasks.silhouette(org.ldm4j.toyworld.ToyClass.HOUSE, 0).placed(16, 16, 7, 8, 8, 7).bits(), HOUSE),
                withHouse);

        ObjectNode delete = StudioFixture.JSON.createObjectNode().put("map", png(scene));
        delete.set("edits", ops(op("delete").put("x", 4).put("y", 6)));
        ClassMap deleted = read(json(ok(studio.postJson("/api/fgdm/edit", delete.toString()))).get("map").asText());
        assertEquals(0, deleted.area(HOUSE));
        assertEquals(MapEdits.remove(scene, Region.at(scene, 4, 6)), deleted);
    }

    @Test
    void badEditsAndMapsAre400sNamingTheProblem() throws Exception {
        String map = png(scene());
        assertError(edit(map, op("add").put("class", "castle").put("x", 4).put("y", 4)), 400, "unknown class 'castle'; classes: sky, cloud");
        assertError(edit(map, op("explode").put("x", 4).put("y", 4)), 400, "unknown op 'explode'");
        assertError(edit(map, op("move").put("x", 4).put("y", 6).put("dx", 1)), 400, "edits[0].dy must be an integer");
        assertError(edit(map, op("move").put("x", 40).put("y", 6).put("dx", 1).put("dy", 1)), 400, "outside the 16x16 map");
        assertError(edit(map, op("resize").put("x", 4).put("y", 6).put("scale", 0)), 400, "scale must be in (0, 8]");
        assertError(edit(map, op("flip").put("x", 4).put("y", 6).put("axis", "diagonal")), 400, "axis must be horizontal or vertical");
        assertError(edit(map, op("delete").put("x", 4).put("y", 6).put("colour", "red")), 400, "unknown field(s) [colour]");
        assertError(edit(map, op("add").put("class", "tree").put("x", 100).put("y", 100).put("w", 2).put("h", 2)), 400, "lies outside");
        assertError(edit(map, op("add").put("class", "sky").put("x", 4).put("y", 4).put("shape", "object")), 400, "shape object needs a ToyWorld object class");
        ClassMap holey = scene().copy();
        holey.labels()[0] = ClassMap.UNLABELED;
        assertError(edit(png(holey), op("delete").put("x", 0).put("y", 0)), 400, "unlabeled pixel");
        // a photo-like picture is not a segmentation map; a huge one is refused before it is read
        assertError(edit(DataUrls.png(StudioFixture.png(grey(16))), op("delete").put("x", 0).put("y", 0)), 400, "no colour of the segmentation palette");
        assertError(studio.postJson("/api/fgdm/edit", "{\"map\": \"" + DataUrls.png(StudioFixture.png(grey(300))) + "\"}"), 413, "larger than the limit");
        assertError(studio.postJson("/api/fgdm/edit", "{\"map\": \"data:image/png;base64,@@\"}"), 400, "not valid base64");
        assertError(studio.postJson("/api/fgdm/edit", "{\"edits\": []}"), 400, "map is missing");
        assertError(studio.postJson("/api/fgdm/edit", "{\"map\": \"" + map + "\", \"zoom\": 2}"), 400, "unknown field 'zoom'");
        assertError(studio.postJson("/api/fgdm/edit", "{\"map\": \"" + map + "\", \"edits\": {\"op\": \"move\"}}"), 400, "edits must be a list");
        assertError(studio.postJson("/api/fgdm/edit", "{\"map\": \"" + map + "\", \"select\": {\"x\": 1}}"), 400, "select must be");
        assertError(studio.postJson("/api/fgdm/edit", "{\"map\": "), 400, "malformed JSON");
        ObjectNode badJob = mapEdit(scene());
        badJob.set("edits", ops(op("add").put("class", "dragon").put("x", 4).put("y", 4)));
        assertError(studio.postJson("/api/jobs", badJob.toString()), 400, "unknown class 'dragon'");
        assertError(studio.postJson("/api/jobs", mapEdit(scene()).put("map", DataUrls.png(StudioFixture.png(grey(16)))).toString()),
                400, "no colour of the segmentation palette");
        assertError(studio.postJson("/api/jobs", mapEdit(ClassMap.filled(15, 16, SKY)).toString()), 400, "multiples of the VAE factor 2");
        assertError(studio.postJson("/api/jobs", mapEdit(scene()).without("map").toString()), 400, "map is missing");
    }

    @Test
    void badFactorGraphJobsAre400s() throws Exception {
        assertError(studio.postJson("/api/jobs", fg().put("n", 0).toString()), 400, "n (SBPC candidates) must be in 1..16, got 0");
        assertError(studio.postJson("/api/jobs", fg().put("n", 17).toString()), 400, "must be in 1..16, got 17");
        assertError(studio.postJson("/api/jobs", fg().put("n", "three").toString()), 400, "n must be an integer");
        assertError(studio.postJson("/api/jobs", fg().put("n", 2).put("sampling", "joint").toString()), 400, "needs sampling sequential");
        assertError(studio.postJson("/api/jobs", fg().put("sampling", "parallel").toString()), 400, "sampling must be sequential or joint");
        assertError(studio.postJson("/api/jobs", fg().put("scheduler", "euler").toString()), 400, "scheduler is set per factor");
        assertError(studio.postJson("/api/jobs", fg().put("count", 2).toString()), 400, "count must be 1");
        assertError(studio.postJson("/api/jobs", fg().put("width", 32).toString()), 400, "makes 16x16 images");
        assertError(studio.postJson("/api/jobs", fg().put("conditionSteps", 0).toString()), 400, "conditionSteps must be in 1..");
        assertError(studio.postJson("/api/jobs", fg().put("painting", "x").toString()), 400, "unknown field(s) [painting]");
        assertError(studio.postJson("/api/jobs", fg().without("prompt").toString()), 400, "prompt is missing");
        assertError(studio.postJson("/api/jobs", "{\"mode\": \"factorgraph\", "), 400, "malformed JSON");
    }

    @Test
    void withoutFactorsTheModeIsDisabledWithTheReason() throws Exception {
        try (StudioFixture bare = new StudioFixture(StudioServer.start(StudioFixture.config(model, dir.resolve("bare"), StudioFixture.testLimits()),
                base -> null))) {
            JsonNode info = json(bare.get("/api/models"));
            for (JsonNode m : info.get("modes")) {
                boolean fgMode = List.of("factorgraph", "mapedit", "maptext").contains(m.get("name").asText());
                assertEquals(!fgMode, m.get("enabled").asBoolean(), m.toString());
                if (fgMode) assertEquals(FactorGraphSource.NO_FACTORS, m.get("message").asText());
            }
            assertTrue(info.path("factorGraph").isMissingNode());
            assertError(bare.postJson("/api/jobs", fg().toString()), 503, "no FG-DM factors: train them with `ldm4j train fgdm`");
            assertError(bare.postJson("/api/jobs", mapEdit(scene()).toString()), 503, "no FG-DM factors");
            assertError(bare.postJson("/api/fgdm/edit", "{\"map\": \"" + png(scene()) + "\"}"), 503, "no FG-DM factors");
            assertEquals("done", bare.await(bare.submit("{\"mode\": \"txt2img\", \"prompt\": \"a boat\", \"steps\": 2}")).get("state").asText(),
                    "the other modes run");
        }
        try (StudioFixture broken = new StudioFixture(StudioServer.start(StudioFixture.config(model, dir.resolve("broken"), StudioFixture.testLimits()),
                base -> { throw new IOException("fgdm.json: unknown key 'factorz'"); }))) {
            assertError(broken.postJson("/api/jobs", fg().toString()), 503, "cannot load the FG-DM factors: fgdm.json: unknown key 'factorz'");
        }
    }

    /** Grey (64, 64, 64): 64 from 0 and from 128 in every channel, so no ToyWorld class colour within tolerance 63. */
    private static java.awt.image.BufferedImage grey(int side) {
        java.awt.image.BufferedImage img = new java.awt.image.BufferedImage(side, side, java.awt.image.BufferedImage.TYPE_INT_RGB);
        for (int y = 0; y < side; y++) for (int x = 0; x < side; x++) img.setRGB(x, y, 0x404040);
        return img;
    }

    private static java.net.http.HttpResponse<String> edit(String map, ObjectNode op) throws Exception {
        ObjectNode body = StudioFixture.JSON.createObjectNode().put("map", map);
        body.set("edits", ops(op));
        return studio.postJson("/api/fgdm/edit", body.toString());
    }

    /** Fifteen differentiable class scores from an image's three channels: a guide for the tiny model's images. */
    static final org.ldm4j.methods.guidance.Segmenter CHANNELS = images -> images.repeat(1, 5, 1, 1).mul(new org.bytedeco.pytorch.Scalar(4.0));

    /** guide: true steers the image (not the maps) toward the map, in factorgraph (with and without SBPC) and mapedit jobs. */
    @Test
    void aGuideSteersTheImageTowardTheMapWhenAJobAsks() throws Exception {
        try (StudioFixture guided = new StudioFixture(StudioServer.start(StudioFixture.config(model, dir.resolve("guided"), StudioFixture.testLimits()),
                base -> TinyFactorGraph.source().load(base).withGuide(CHANNELS)))) {
            assertTrue(json(guided.get("/api/models")).at("/factorGraph/guide").asBoolean());
            assertFalse(json(studio.get("/api/models")).at("/factorGraph/guide").asBoolean(), "the main test server has no guide");
            for (ObjectNode job : List.of(fg(), fg().put("n", 2), mapEdit(scene()))) {
                JsonNode plain = guided.await(guided.submit(job.toString()));
                JsonNode steered = guided.await(guided.submit(job.deepCopy().put("guide", true).toString()));
                for (JsonNode j : List.of(plain, steered)) assertEquals("done", j.get("state").asText(), j.toString());
                assertEquals(plain.at("/outputs/0/details/maps/0/url").asText(), steered.at("/outputs/0/details/maps/0/url").asText(),
                        job.get("mode") + ": the segmentation map is not steered");
                assertFalse(java.util.Arrays.equals(pixels(guided, plain), pixels(guided, steered)), job + ": the image is");
                assertTrue(PngParameters.read(guided.getBytes(steered.at("/results/0").asText()).body(), "r").request().get("guide").asBoolean());
                assertTrue(PngParameters.read(guided.getBytes(plain.at("/results/0").asText()).body(), "r").request().path("guide").isMissingNode());
            }
            assertError(guided.postJson("/api/jobs", fg().put("sampling", "joint").put("guide", true).toString()), 400, "guide needs sampling sequential");
        }
        assertError(studio.postJson("/api/jobs", fg().put("guide", true).toString()), 503, "start the studio with --guide DIR");
    }

    private static java.net.http.HttpResponse<String> ok(java.net.http.HttpResponse<String> r) {
        assertEquals(200, r.statusCode(), r::body);
        return r;
    }

    private static int[] pixels(JsonNode job) throws Exception {
        return pixels(studio, job);
    }

    private static int[] pixels(StudioFixture server, JsonNode job) throws Exception {
        java.awt.image.BufferedImage img = ImageIO.read(new ByteArrayInputStream(server.getBytes(job.at("/results/0").asText()).body()));
        return img.getRGB(0, 0, img.getWidth(), img.getHeight(), null, 0, img.getWidth());
    }
}
