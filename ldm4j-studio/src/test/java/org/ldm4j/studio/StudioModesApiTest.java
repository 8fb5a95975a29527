package org.ldm4j.studio;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.ldm4j.image.PngParameters;

import javax.imageio.ImageIO;
import java.awt.Color;
import java.awt.Graphics2D;
import java.awt.image.BufferedImage;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.ldm4j.studio.StudioFixture.assertError;
import static org.ldm4j.studio.StudioFixture.json;

/** The stroke-to-image (GradOP) and edit (Blended Latent Diffusion) modes on the tiny random model. */
class StudioModesApiTest {
    @TempDir static Path dir;
    static StudioFixture studio;

    @BeforeAll
    static void start() throws Exception {
        studio = StudioFixture.startTiny(dir, 5);
    }

    @AfterAll
    static void stop() {
        if (studio != null) studio.close();
    }

    /** White canvas, a red block top-left and a blue block bottom-right. */
    static String painting(int w, int h) throws IOException {
        BufferedImage img = new BufferedImage(w, h, BufferedImage.TYPE_INT_RGB);
        Graphics2D g = img.createGraphics();
        g.setColor(Color.WHITE);
        g.fillRect(0, 0, w, h);
        g.setColor(new Color(0xD03020));
        g.fillRect(0, 0, w / 2, h / 2);
        g.setColor(new Color(0x1040C0));
        g.fillRect(w / 2, h / 2, w / 2, h / 2);
        g.dispose();
        return DataUrls.png(StudioFixture.png(img));
    }

    /** A mask PNG: white inside the rectangle, black elsewhere. */
    static String mask(int w, int h, int x, int y, int rw, int rh) throws IOException {
        BufferedImage img = new BufferedImage(w, h, BufferedImage.TYPE_INT_RGB);
        Graphics2D g = img.createGraphics();
        g.setColor(Color.WHITE);
        g.fillRect(x, y, rw, rh);
        g.dispose();
        return DataUrls.png(StudioFixture.png(img));
    }

    static ObjectNode stroke(String method) throws IOException {
        ObjectNode n = StudioFixture.JSON.createObjectNode();
        n.put("mode", "stroke2img").put("prompt", "a red house by a blue lake").put("steps", 4).put("seed", 9)
                .put("method", method).put("painting", painting(16, 16));
        if (method.startsWith("gradop")) n.put("gradSteps", 2).put("blurKernel", 5).put("blurSigma", 1.0);
        return n;
    }

    static ArrayNode regions(String colour, String phrase) {
        ArrayNode list = StudioFixture.JSON.createArrayNode();
        list.addObject().put("colour", colour).put("phrase", phrase).put("weight", 1.5);
        return list;
    }

    static ObjectNode edit(int samples) throws IOException {
        ObjectNode n = StudioFixture.JSON.createObjectNode();
        n.put("mode", "edit").put("prompt", "a boat").put("steps", 4).put("seed", 21).put("count", samples)
                .put("image", StudioApiTest.initImage(16, 16)).put("mask", mask(16, 16, 4, 4, 8, 8));
        return n;
    }

    @Test
    void theServerListsTheNewModes() throws Exception {
        List<String> modes = new ArrayList<>();
        json(studio.get("/api/models")).get("modes").forEach(m -> modes.add(m.get("name").asText()));
        assertEquals(List.of("txt2img", "img2img", "stroke2img", "edit", "factorgraph", "mapedit", "maptext"), modes);
    }

    @Test
    void gradopPlusWithARegionWritesTheMethodAndItsSettingsIntoThePng() throws Exception {
        ObjectNode body = stroke("gradop+").put("iterations", 1).put("strength", 0.75).put("count", 2);
        body.set("regions", regions("#D03020", "red house"));
        List<StudioFixture.Event> events = studio.events(studio.submit(body.toString()));
        JsonNode done = events.get(events.size() - 1).data();
        assertEquals("done", done.get("state").asText(), done.toString());
        assertEquals(2, done.get("results").size());
        assertEquals("gradop+ (official)", done.at("/outputs/0/label").asText());
        boolean previewed = events.stream().anyMatch(e -> e.name().equals("progress") && e.data().has("preview"));
        assertTrue(previewed, "predicted-x0 previews are streamed");
        assertEquals(1.0, done.at("/progress/fraction").asDouble(), 1e-9);

        byte[] png = studio.getBytes(done.at("/results/1").asText()).body();
        assertEquals(16, ImageIO.read(new ByteArrayInputStream(png)).getWidth());
        JsonNode record = PngParameters.read(png, "result").request();
        assertEquals("gradop+", record.get("method").asText());
        assertEquals("official", record.get("preset").asText());
        assertEquals("stroke2img", record.at("/generation/mode").asText());
        assertEquals(10, record.at("/generation/seed").asLong(), "the second image has seed + 1");
        assertEquals("ddim", record.at("/generation/scheduler").asText(), "GradOP's own DDIM is recorded");
        assertEquals(0.75, record.at("/generation/strength").asDouble(), 1e-12);
        assertEquals(4, record.at("/settings/steps").asInt());
        assertEquals(2, record.at("/settings/gradSteps").asInt());
        assertEquals(1, record.at("/settings/iterations").asInt());
        assertEquals(5, record.at("/settings/painting/blurKernel").asInt());
        assertEquals("NOISY_LATENT", record.at("/settings/optimised").asText());
        assertEquals("#D03020=red house:1.5", record.at("/regions/0").asText());
        assertEquals(Stroke2ImgMode.BACKGROUND, record.get("background").asText());
        assertEquals("DDIM", PngParameters.read(png, "result").fields().get("Sampler"), "A1111 infotext names the sampler run");
        assertEquals(done.at("/parameters/settings"), record.get("settings"), "the job shows what the PNG records");
    }

    @Test
    void everyMethodRunsAndRecordsItsOwnSettings() throws Exception {
        ObjectNode recommended = stroke("gradop+").put("preset", "recommended").put("iterations", 1);
        JsonNode r = PngParameters.read(studio.getBytes(run(recommended).at("/results/0").asText()).body(), "r").request();
        assertEquals("PREDICTED_X0", r.at("/settings/optimised").asText());

        JsonNode gradop = run(stroke("gradop").put("strength", 0.5));
        assertEquals(0.5, gradop.at("/parameters/settings/projectionStrength").asDouble(), 1e-12);
        assertEquals(1.0, gradop.at("/progress/fraction").asDouble(), 1e-9, "two loops per image add up to 1");

        JsonNode iterative = run(stroke("iterative-sdedit").put("iterations", 2).put("strength", 0.5));
        assertEquals(2, iterative.at("/parameters/settings/iterations").asInt());
        assertEquals(1.0, iterative.at("/progress/fraction").asDouble(), 1e-9);

        JsonNode sdedit = run(stroke("sdedit").put("strength", 0.5));
        JsonNode text = run(stroke("text").put("count", 2));
        assertEquals(2, text.get("results").size());
        assertTrue(text.at("/parameters/generation/strength").isMissingNode(), "the text-only preview has no strength");
        assertNotEquals(pixels(sdedit), pixels(text), "SDEdit starts from the painting, the text-only preview does not");
    }

    private static JsonNode run(ObjectNode body) throws Exception {
        JsonNode done = studio.await(studio.submit(body.toString()));
        assertEquals("done", done.get("state").asText(), done.toString());
        return done;
    }

    private static List<Integer> pixels(JsonNode job) throws Exception {
        BufferedImage img = ImageIO.read(new ByteArrayInputStream(studio.getBytes(job.at("/results/0").asText()).body()));
        List<Integer> out = new ArrayList<>();
        for (int y = 0; y < img.getHeight(); y++) for (int x = 0; x < img.getWidth(); x++) out.add(img.getRGB(x, y));
        return out;
    }

    @Test
    void badStrokeInputsAre400sNamingTheProblem() throws Exception {
        ObjectNode notInPrompt = stroke("gradop+");
        notInPrompt.set("regions", regions("#D03020", "castle"));
        assertError(studio.postJson("/api/jobs", notInPrompt.toString()), 400, "phrase \"castle\" does not occur in prompt");
        ObjectNode notPainted = stroke("gradop+");
        notPainted.set("regions", regions("#00FF00", "house"));
        assertError(studio.postJson("/api/jobs", notPainted.toString()), 400, "#00FF00 (\"house\") does not occur in the painting");
        ObjectNode twice = stroke("gradop+");
        twice.set("regions", regions("#D03020", "house").add(regions("#d03020", "lake").get(0)));
        assertError(studio.postJson("/api/jobs", twice.toString()), 400, "mapped twice");
        ObjectNode badColour = stroke("gradop+");
        badColour.set("regions", regions("red", "house"));
        assertError(studio.postJson("/api/jobs", badColour.toString()), 400, "#RRGGBB");
        ObjectNode sdeditRegions = stroke("sdedit");
        sdeditRegions.set("regions", regions("#D03020", "house"));
        assertError(studio.postJson("/api/jobs", sdeditRegions.toString()), 400, "regions apply to gradop+ and gradop only");
        assertError(studio.postJson("/api/jobs", stroke("gradop++").toString()), 400, "unknown method 'gradop++'");
        assertError(studio.postJson("/api/jobs", stroke("gradop+").put("preset", "fastest").toString()), 400, "unknown preset 'fastest'");
        assertError(studio.postJson("/api/jobs", stroke("gradop+").put("strength", 1.5).toString()), 400, "strength must be in [0, 1]");
        assertError(studio.postJson("/api/jobs", stroke("gradop+").put("gradSteps", 5000).toString()), 400, "gradSteps must be in 0..1000");
        assertError(studio.postJson("/api/jobs", stroke("gradop+").put("lr", -1).toString()), 400, "lr must be > 0");
        assertError(studio.postJson("/api/jobs", stroke("gradop+").put("paintingFunction", "oil").toString()), 400, "unknown painting function 'oil'");
        assertError(studio.postJson("/api/jobs", stroke("gradop+").put("blurKernel", 35).toString()), 400, "blur kernel 35 needs a painting larger");
        assertError(studio.postJson("/api/jobs", stroke("gradop").put("iterations", 2).toString()), 400, "not gradop");
        assertError(studio.postJson("/api/jobs", stroke("sdedit").put("preset", "official").toString()), 400, "preset applies to gradop+ only");
        assertError(studio.postJson("/api/jobs", stroke("gradop+").put("regionTolerance", 10).toString()), 400, "need regions");
        assertError(studio.postJson("/api/jobs", stroke("sdedit").put("lr", 0.1).toString()), 400, "apply to gradop+ and gradop only");
        assertError(studio.postJson("/api/jobs", stroke("gradop+").put("eta", 0.5).toString()), 400, "eta is not supported");
        assertError(studio.postJson("/api/jobs", stroke("gradop+").put("width", 32).toString()), 400, "painting is 16x16");
        assertError(studio.postJson("/api/jobs", stroke("gradop+").put("painting", painting(15, 16)).toString()), 400, "multiple of 2");
        assertError(studio.postJson("/api/jobs", stroke("gradop+").put("initImage", painting(16, 16)).toString()), 400, "unknown field(s) [initImage]");
        ObjectNode missing = stroke("gradop+");
        missing.remove("painting");
        assertError(studio.postJson("/api/jobs", missing.toString()), 400, "painting is missing");
    }

    @Test
    void cancellingAnEditDuringItsRepairStopsTheRepair() throws Exception {
        String id = studio.submit(edit(1).put("repairSteps", EditMode.MAX_REPAIR_STEPS).toString());
        long deadline = System.nanoTime() + java.time.Duration.ofSeconds(30).toNanos();
        JsonNode job = json(studio.get("/api/jobs/" + id));
        while (!job.at("/progress/phase").asText().equals("repair") && System.nanoTime() < deadline) {
            Thread.sleep(5);
            job = json(studio.get("/api/jobs/" + id));
        }
        assertEquals("repair", job.at("/progress/phase").asText(), "the job reached its repair: " + job);
        assertEquals(202, studio.delete("/api/jobs/" + id).statusCode());
        JsonNode end = studio.await(id);
        assertEquals("cancelled", end.get("state").asText(), end.toString());
        assertEquals("repair", end.at("/progress/phase").asText());
        assertTrue(end.at("/progress/step").asInt() < EditMode.MAX_REPAIR_STEPS, "stopped within the repair: " + end.get("progress"));
        assertEquals(0, end.get("results").size());
    }

    @Test
    void editRanksTheSamplesBestFirstAndWritesTheRepairedBest() throws Exception {
        List<StudioFixture.Event> events = studio.events(studio.submit(edit(3).put("repairSteps", 2).toString()));
        JsonNode done = events.get(events.size() - 1).data();
        assertEquals("done", done.get("state").asText(), done.toString());
        assertTrue(events.stream().anyMatch(e -> e.name().equals("progress") && e.data().has("preview")), "previews are streamed");
        // the samples' denoising steps, then the repair's two steps as their own phase, the fraction growing to 1
        List<JsonNode> progress = events.stream().filter(e -> e.name().equals("progress")).map(StudioFixture.Event::data).toList();
        List<JsonNode> repair = progress.stream().filter(p -> p.get("phase").asText().equals("repair")).toList();
        assertEquals(List.of(1, 2), repair.stream().map(p -> p.get("step").asInt()).toList(), progress.toString());
        assertEquals(2, repair.get(0).get("total").asInt());
        assertEquals(repair, progress.subList(progress.size() - 2, progress.size()), "the repair comes after every denoising step");
        assertEquals(0.875, repair.get(0).get("fraction").asDouble(), 1e-9, "3 samples and the repair: 4 units, half the last");
        assertEquals(1.0, repair.get(1).get("fraction").asDouble(), 1e-9);
        double grown = -1;
        for (JsonNode p : progress) {
            assertTrue(p.get("fraction").asDouble() >= grown, "progress only grows: " + progress);
            grown = p.get("fraction").asDouble();
        }
        assertEquals(0.75, progress.get(progress.size() - 3).get("fraction").asDouble(), 1e-9, "the denoising ends at 3 of 4 units");
        assertEquals("denoise", progress.get(0).get("phase").asText());
        JsonNode outputs = done.get("outputs");
        assertEquals(4, outputs.size(), "the repaired best, then 3 samples: " + outputs);
        assertTrue(outputs.get(0).get("label").asText().startsWith("best, repaired"), outputs.toString());

        List<JsonNode> records = new ArrayList<>();
        for (JsonNode o : outputs) records.add(PngParameters.read(studio.getBytes(o.get("url").asText()).body(), "r").request());
        JsonNode best = records.get(0);
        assertTrue(best.get("repaired").asBoolean());
        assertEquals(1, best.get("rank").asInt());
        assertEquals(2, best.at("/blended/repair/steps").asInt());
        assertEquals("SOURCE", best.at("/blended/start").asText(), "the recommended preset");
        assertEquals("background-psnr", best.get("scorer").asText());
        double previous = Double.POSITIVE_INFINITY;
        List<Long> seeds = new ArrayList<>();
        for (int k = 1; k < records.size(); k++) {
            JsonNode r = records.get(k);
            assertEquals(k, r.get("rank").asInt());
            assertEquals(false, r.get("repaired").asBoolean());
            double score = r.get("score").asDouble();
            assertTrue(score <= previous, "samples are best first: " + records);
            assertTrue(outputs.get(k).get("label").asText().startsWith("#" + k + " background-psnr"), outputs.toString());
            previous = score;
            seeds.add(r.at("/request/seed").asLong());
            assertEquals("edit", r.at("/request/mode").asText());
            assertEquals(EditMode.MASK_FROM_PAGE, r.get("mask").asText());
        }
        assertEquals(List.of(21L, 22L, 23L), seeds.stream().sorted().toList(), "one sample per seed");
        assertEquals(records.get(1).at("/request/seed"), best.at("/request/seed"), "the repaired image is the top sample's");

        // the gallery lists the job's files in the same order, best first
        JsonNode items = json(studio.get("/api/gallery")).get("items");
        assertEquals(outputs.get(0).get("url"), items.get(0).get("url"));
        assertEquals(outputs.get(1).get("url"), items.get(1).get("url"));
        assertEquals(1, items.get(1).at("/parameters/rank").asInt());
    }

    @Test
    void anEditWithoutRepairOrPasteShowsOnlyTheRankedSamples() throws Exception {
        JsonNode done = studio.await(studio.submit(edit(2).put("preset", "official").toString()));
        assertEquals("done", done.get("state").asText(), done.toString());
        assertEquals(2, done.get("outputs").size(), done.toString());
        assertEquals("NOISE", done.at("/parameters/blended/start").asText());
    }

    @Test
    void badEditInputsAre400sNamingTheProblem() throws Exception {
        assertError(studio.postJson("/api/jobs", edit(1).put("mask", mask(8, 8, 0, 0, 4, 4)).toString()), 400,
                "mask is 8x8 but the image is 16x16");
        assertError(studio.postJson("/api/jobs", edit(1).put("mask", mask(16, 16, 0, 0, 0, 0)).toString()), 400, "mask is empty");
        assertError(studio.postJson("/api/jobs", edit(1).put("mask", mask(16, 16, 4, 4, 1, 1)).toString()), 400, "vanishes at latent resolution");
        assertError(studio.postJson("/api/jobs", edit(1).put("preset", "best").toString()), 400, "unknown preset 'best'");
        assertError(studio.postJson("/api/jobs", edit(1).put("repair", false).put("repairSteps", 3).toString()), 400, "contradict");
        assertError(studio.postJson("/api/jobs", edit(1).put("repairSteps", 100000).toString()), 400, "repairSteps must be in 1..1000");
        assertError(studio.postJson("/api/jobs", edit(1).put("maskAttention", -1).toString()), 400, "maskAttention must be in 0..10");
        assertError(studio.postJson("/api/jobs", edit(1).put("maskAttention", "strong").toString()), 400, "maskAttention");
        assertError(studio.postJson("/api/jobs", edit(1).put("repair", "yes").toString()), 400, "repair must be true or false");
        assertError(studio.postJson("/api/jobs", edit(1).put("count", 9).toString()), 400, "count must be in 1..4");
        assertError(studio.postJson("/api/jobs", edit(1).put("width", 32).toString()), 400, "image is 16x16");
        ObjectNode noMask = edit(1);
        noMask.remove("mask");
        assertError(studio.postJson("/api/jobs", noMask.toString()), 400, "mask is missing");
    }

    @Test
    void aCancelledEditLeavesNoFiles() throws Exception {
        String id = studio.submit(edit(1).put("steps", 999).toString());
        studio.awaitRunning(id);
        assertEquals(202, studio.delete("/api/jobs/" + id).statusCode());
        JsonNode end = studio.await(id);
        assertEquals("cancelled", end.get("state").asText());
        try (Stream<Path> files = Files.list(studio.server.gallery().dir())) {
            assertEquals(List.of(), files.filter(p -> p.getFileName().toString().contains(id)).toList());
        }
    }
}
