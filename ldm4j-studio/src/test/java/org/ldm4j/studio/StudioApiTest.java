package org.ldm4j.studio;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.ldm4j.image.PngParameters;

import javax.imageio.ImageIO;
import java.awt.image.BufferedImage;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.ldm4j.studio.StudioFixture.assertError;
import static org.ldm4j.studio.StudioFixture.json;

/** Every endpoint of the JSON API against a server running the tiny random model. */
class StudioApiTest {
    @TempDir static Path dir;
    static StudioFixture studio;

    @BeforeAll
    static void start() throws Exception {
        studio = StudioFixture.startTiny(dir, 7);
    }

    @AfterAll
    static void stop() {
        if (studio != null) studio.close();
    }

    static ObjectNode job(String mode, int steps) {
        ObjectNode n = StudioFixture.JSON.createObjectNode();
        n.put("mode", mode).put("prompt", "a red house").put("steps", steps).put("seed", 42);
        return n;
    }

    static String initImage(int w, int h) throws IOException {
        return DataUrls.png(StudioFixture.png(StudioFixture.picture(w, h)));
    }

    @Test
    void modelsDescribesTheLoadedModelAndModes() throws Exception {
        JsonNode m = json(studio.get("/api/models"));
        assertTrue(m.get("loaded").asBoolean());
        assertEquals(16, m.at("/models/0/defaultSize").asInt());
        assertEquals(2, m.at("/models/0/vaeScaleFactor").asInt());
        assertEquals("pndm", m.at("/models/0/defaultScheduler").asText());
        List<String> modes = new ArrayList<>();
        m.get("modes").forEach(x -> modes.add(x.get("name").asText()));
        assertEquals(List.of("txt2img", "img2img", "stroke2img", "edit", "factorgraph", "mapedit", "maptext"), modes);
        assertEquals(2, m.at("/limits/queueCapacity").asInt());
    }

    @Test
    void txt2imgWritesAPngWithItsParametersIntoTheGallery() throws Exception {
        String id = studio.submit(job("txt2img", 3).put("negativePrompt", "blue").toString());
        JsonNode done = studio.await(id);
        assertEquals("done", done.get("state").asText(), done.toString());
        assertEquals(1.0, done.at("/progress/fraction").asDouble(), 1e-9);
        String url = done.at("/results/0").asText();
        assertTrue(url.startsWith("/gallery/") && url.contains(id), url);

        HttpResponse<byte[]> png = studio.getBytes(url);
        assertEquals(200, png.statusCode());
        assertEquals("image/png", png.headers().firstValue("Content-Type").orElse(""));
        BufferedImage img = ImageIO.read(new ByteArrayInputStream(png.body()));
        assertEquals(16, img.getWidth());
        JsonNode embedded = PngParameters.read(png.body(), url).request();
        assertEquals("txt2img", embedded.get("mode").asText());
        assertEquals("a red house", embedded.get("prompt").asText());
        assertEquals("blue", embedded.get("negativePrompt").asText());
        assertEquals(42, embedded.get("seed").asLong());
        assertEquals(3, embedded.get("steps").asInt());
        assertEquals(done.get("parameters"), embedded, "the job's parameters are what the PNG records");
        assertEquals("3", PngParameters.read(png.body(), url).fields().get("Steps"), "A1111 infotext written too");

        // The gallery lists it with its parameters, and the parameters endpoint reads them back from the upload.
        JsonNode items = json(studio.get("/api/gallery")).get("items");
        JsonNode item = null;
        for (JsonNode i : items) if (i.get("url").asText().equals(url)) item = i;
        assertNotNull(item, items.toString());
        assertEquals(embedded, item.get("parameters"));
        HttpResponse<String> restored = studio.http.send(studio.request("/api/parameters").header("Content-Type", "image/png")
                .POST(HttpRequest.BodyPublishers.ofByteArray(png.body())).build(), HttpResponse.BodyHandlers.ofString());
        assertEquals(200, restored.statusCode(), restored.body());
        assertEquals(embedded, json(restored).get("parameters"));
        assertEquals("a red house", json(restored).at("/infotext/Prompt").asText());
    }

    @Test
    void sameSeedSameImage() throws Exception {
        String a = studio.await(studio.submit(job("txt2img", 2).toString())).at("/results/0").asText();
        String b = studio.await(studio.submit(job("txt2img", 2).toString())).at("/results/0").asText();
        assertFalse(a.equals(b));
        BufferedImage x = ImageIO.read(new ByteArrayInputStream(studio.getBytes(a).body()));
        BufferedImage y = ImageIO.read(new ByteArrayInputStream(studio.getBytes(b).body()));
        for (int i = 0; i < 16; i++) for (int j = 0; j < 16; j++) assertEquals(x.getRGB(i, j), y.getRGB(i, j));
    }

    @Test
    void img2imgUsesTheInitImageAndRecordsStrength() throws Exception {
        ObjectNode body = job("img2img", 4).put("strength", 0.5).put("initImage", initImage(16, 16));
        JsonNode done = studio.await(studio.submit(body.toString()));
        assertEquals("done", done.get("state").asText(), done.toString());
        // strength 0.5: only the last part of the 4-step schedule runs
        int total = done.at("/progress/total").asInt();
        assertTrue(total > 0 && total < 4, "part of the schedule runs: " + total);
        byte[] png = studio.getBytes(done.at("/results/0").asText()).body();
        JsonNode embedded = PngParameters.read(png, "result").request();
        assertEquals("img2img", embedded.get("mode").asText());
        assertEquals(0.5, embedded.get("strength").asDouble());
        assertEquals(16, embedded.get("width").asInt());
        assertEquals(Img2ImgMode.FROM_CANVAS, embedded.get("initImage").asText());
        assertFalse(embedded.toString().contains("base64"), "the data URL is not copied into the PNG");

        // strength 0: the result is the init image's VAE round trip, so it differs from a strength-1 result
        JsonNode zero = studio.await(studio.submit(job("img2img", 4).put("strength", 0.0).put("initImage", initImage(16, 16)).toString()));
        assertEquals("done", zero.get("state").asText());
        assertTrue(zero.at("/progress/total").asInt() <= 1, "at most PNDM's extra warm-up step runs: " + zero);
    }

    @Test
    void eventsStreamProgressPreviewsAndTheFinalState() throws Exception {
        String id = studio.submit(job("txt2img", 5).put("count", 2).toString());
        List<StudioFixture.Event> events = studio.events(id);
        assertEquals("state", events.get(0).name());
        StudioFixture.Event last = events.get(events.size() - 1);
        assertEquals("state", last.name());
        assertEquals("done", last.data().get("state").asText());
        assertEquals(2, last.data().get("results").size());
        List<JsonNode> progress = new ArrayList<>();
        for (StudioFixture.Event e : events) if (e.name().equals("progress")) progress.add(e.data());
        // 2 images x 5 steps (PNDM's PLMS runs one extra warm-up step), the last of the second image reported last
        JsonNode lastProgress = progress.get(progress.size() - 1);
        assertTrue(lastProgress.get("total").asInt() >= 5, lastProgress.toString());
        assertEquals(lastProgress.get("total").asInt(), lastProgress.get("step").asInt());
        assertEquals(1, lastProgress.get("image").asInt());
        assertEquals(2, lastProgress.get("images").asInt());
        double previous = -1;
        int previews = 0;
        for (JsonNode p : progress) {
            assertTrue(p.get("fraction").asDouble() > previous, "progress only grows: " + progress);
            previous = p.get("fraction").asDouble();
            if (p.has("preview")) {
                String url = p.get("preview").asText();
                assertTrue(url.startsWith("data:image/png;base64,"));
                BufferedImage img = ImageIO.read(new ByteArrayInputStream(Base64.getDecoder().decode(url.substring(22))));
                assertEquals(16, img.getWidth());
                previews++;
            }
        }
        assertTrue(previews >= 1, "previews of the predicted x0 are sent");
        // A finished job's stream sends the final state and closes.
        List<StudioFixture.Event> after = studio.events(id);
        assertEquals(1, after.size());
        assertEquals("done", after.get(0).data().get("state").asText());
    }

    @Test
    void malformedOrInvalidRequestsGet4xxWithAMessage() throws Exception {
        assertError(studio.postJson("/api/jobs", "{\"mode\": \"txt2img\", \"prompt\": "), 400, "malformed JSON");
        assertError(studio.postJson("/api/jobs", "[1, 2]"), 400, "JSON object");
        assertError(studio.postJson("/api/jobs", ""), 400, "empty");
        assertError(studio.postJson("/api/jobs", "{\"prompt\": \"a\"}"), 400, "mode is missing");
        assertError(studio.postJson("/api/jobs", job("paint-by-numbers", 2).toString()), 400, "unknown mode 'paint-by-numbers'");
        assertError(studio.postJson("/api/jobs", "{\"mode\": 3}"), 400, "mode must be a string");
        assertError(studio.postJson("/api/jobs", job("txt2img", 2).put("stepz", 3).toString()), 400, "unknown field(s) [stepz]");
        assertError(studio.postJson("/api/jobs", job("txt2img", 2).put("initImage", initImage(16, 16)).toString()), 400, "unknown field(s) [initImage]");
        assertError(studio.postJson("/api/jobs", job("txt2img", 2).put("steps", "ten").toString()), 400, "steps must be an integer");
        assertError(studio.postJson("/api/jobs", job("txt2img", 2).put("steps", 2.5).toString()), 400, "steps must be an integer");
        assertError(studio.postJson("/api/jobs", job("txt2img", 2).put("prompt", 5).toString()), 400, "prompt must be a string");
        assertError(studio.postJson("/api/jobs", "{\"mode\":\"txt2img\"}"), 400, "prompt is missing");
        assertError(studio.postJson("/api/jobs", job("txt2img", 1001).toString()), 400, "steps must be in 1..1000");
        assertError(studio.postJson("/api/jobs", job("txt2img", 0).toString()), 400, "steps must be in 1..1000");
        assertError(studio.postJson("/api/jobs", job("txt2img", 2).put("count", 5).toString()), 400, "count must be in 1..4");
        assertError(studio.postJson("/api/jobs", job("txt2img", 2).put("prompt", "a".repeat(201)).toString()), 400, "limit is 200");
        assertError(studio.postJson("/api/jobs", job("txt2img", 2).put("width", 15).toString()), 400, "multiple of 2");
        assertError(studio.postJson("/api/jobs", job("txt2img", 2).put("width", 128).toString()), 413, "exceeds the limit of 64");
        assertError(studio.postJson("/api/jobs", job("txt2img", 2).put("guidanceScale", -1).toString()), 400, "guidance scale");
        assertError(studio.postJson("/api/jobs", job("txt2img", 2).put("scheduler", "warp-drive").toString()), 400, "scheduler");
        assertError(studio.postJson("/api/jobs", job("txt2img", 2).put("eta", 0.5).toString()), 400, "eta applies to the ddim");
        assertError(studio.postJson("/api/jobs", job("txt2img", 2).put("model", "sd-xl").toString()), 409, "not loaded");
        assertError(studio.http.send(studio.request("/api/jobs").header("Content-Type", "text/plain")
                .POST(HttpRequest.BodyPublishers.ofString(job("txt2img", 2).toString())).build(),
                HttpResponse.BodyHandlers.ofString()), 415, "application/json");
        // img2img inputs
        assertError(studio.postJson("/api/jobs", job("img2img", 2).toString()), 400, "initImage is missing");
        assertError(studio.postJson("/api/jobs", job("img2img", 2).put("initImage", "data:image/jpeg;base64,AAAA").toString()), 400, "data URL");
        assertError(studio.postJson("/api/jobs", job("img2img", 2).put("initImage", "data:image/png;base64,!!!").toString()), 400, "base64");
        assertError(studio.postJson("/api/jobs", job("img2img", 2).put("initImage", "data:image/png;base64,AAAA").toString()), 400, "not a readable PNG");
        assertError(studio.postJson("/api/jobs", job("img2img", 2).put("initImage", initImage(16, 16)).put("width", 32).toString()), 400, "initImage is 16x16");
        assertError(studio.postJson("/api/jobs", job("img2img", 2).put("initImage", initImage(128, 16)).toString()), 413, "larger than the limit of 64");
        assertError(studio.postJson("/api/jobs", job("img2img", 2).put("initImage", initImage(16, 16)).put("strength", 2).toString()), 400, "strength");
        // oversized body (limit 256 KiB)
        assertError(studio.postJson("/api/jobs", job("txt2img", 2).put("negativePrompt", "x".repeat(300_000)).toString()), 413, "exceeds the limit");
        // unknown ids and endpoints
        assertError(studio.get("/api/jobs/0123456789abcdef"), 404, "no such job");
        assertError(studio.delete("/api/jobs/0123456789abcdef"), 404, "no such job");
        assertError(studio.get("/api/nothing-here"), 404, "not found");
        assertError(studio.get("/api/jobs/" + studio.submit(job("txt2img", 1).toString()) + "/events"), 406, "text/event-stream");
        // parameters from something that is not a PNG, or a PNG without parameters
        assertError(studio.http.send(studio.request("/api/parameters").POST(HttpRequest.BodyPublishers.ofString("hello")).build(),
                HttpResponse.BodyHandlers.ofString()), 400, "not a PNG");
        assertError(studio.http.send(studio.request("/api/parameters").POST(HttpRequest.BodyPublishers.ofByteArray(
                StudioFixture.png(StudioFixture.picture(8, 8)))).build(), HttpResponse.BodyHandlers.ofString()), 422, "no generation parameters");
    }

    @Test
    void aFullQueueAnswers429AndCancelledJobsLeaveNoFiles() throws Exception {
        // capacity 2: of 5 simultaneous submissions of slow jobs, exactly 2 are taken (one running, one queued)
        ExecutorService pool = Executors.newFixedThreadPool(5);
        List<Future<HttpResponse<String>>> answers = new ArrayList<>();
        try {
            for (int i = 0; i < 5; i++) {
                Callable<HttpResponse<String>> c = () -> studio.postJson("/api/jobs", job("txt2img", 999).toString());
                answers.add(pool.submit(c));
            }
            List<String> accepted = new ArrayList<>();
            int refused = 0;
            for (Future<HttpResponse<String>> f : answers) {
                HttpResponse<String> r = f.get();
                if (r.statusCode() == 202) accepted.add(json(r).get("id").asText());
                else {
                    assertError(r, 429, "queue is full");
                    refused++;
                }
            }
            assertEquals(2, accepted.size());
            assertEquals(3, refused);
            for (String id : accepted) assertEquals(202, studio.delete("/api/jobs/" + id).statusCode());
            for (String id : accepted) {
                JsonNode end = studio.await(id);
                assertEquals("cancelled", end.get("state").asText());
                assertEquals(0, end.get("results").size());
                assertNoFilesOf(id);
            }
            // the slots are free again
            String next = studio.submit(job("txt2img", 1).toString());
            assertEquals("done", studio.await(next).get("state").asText());
        } finally {
            pool.shutdownNow();
        }
    }

    @Test
    void cancellingARunningJobStopsItBetweenSteps() throws Exception {
        String id = studio.submit(job("txt2img", 999).toString());
        studio.awaitRunning(id);
        HttpResponse<String> r = studio.delete("/api/jobs/" + id);
        assertEquals(202, r.statusCode(), r.body());
        JsonNode end = studio.await(id);
        assertEquals("cancelled", end.get("state").asText());
        assertTrue(end.at("/progress/step").asInt() < 1000, "stopped early: " + end.get("progress"));
        assertNoFilesOf(id);
        assertError(studio.delete("/api/jobs/" + id), 409, "already finished");
    }

    private static void assertNoFilesOf(String id) throws IOException {
        try (Stream<Path> files = Files.list(studio.server.gallery().dir())) {
            List<Path> left = files.filter(p -> p.getFileName().toString().contains(id) || p.getFileName().toString().endsWith(".tmp")).toList();
            assertEquals(List.of(), left);
        }
    }

    @Test
    void galleryServesOnlyResultFiles() throws Exception {
        Path secret = studio.server.gallery().dir().getParent().resolve("secret.png");
        Files.writeString(secret, "top secret");
        Path link = studio.server.gallery().dir().resolve("link.png");
        Files.createSymbolicLink(link, secret);
        Path temp = studio.server.gallery().dir().resolve(".partial.png.123.tmp");
        Files.writeString(temp, "half");
        try {
            assertOnlyResultsServed();
        } finally {
            Files.delete(link);
            Files.delete(temp);
        }
    }

    private static void assertOnlyResultsServed() throws Exception {
        for (String path : List.of("/gallery/..%2Fsecret.png", "/gallery/%2e%2e%2fsecret.png", "/gallery/..%5Csecret.png",
                "/gallery/link.png", "/gallery/.partial.png.123.tmp", "/gallery/nothing.png", "/gallery/%2e%2e",
                "/gallery/..%252Fsecret.png", "/gallery/secret.png")) {
            HttpResponse<String> r = studio.get(path);
            assertTrue(r.statusCode() >= 400 && r.statusCode() < 500, path + " -> " + r.statusCode());
            assertFalse(r.body().contains("top secret"), path);
        }
        // a raw request with dot segments, which java.net.URI would not send as such
        String raw = rawRequest("GET /gallery/../secret.png HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n");
        assertFalse(raw.contains("top secret"), raw);
        assertFalse(raw.startsWith("HTTP/1.1 200"), raw);
        // and the listing shows neither the link nor the temporary
        String listing = studio.get("/api/gallery").body();
        assertFalse(listing.contains("link.png") || listing.contains(".tmp"), listing);
    }

    @Test
    void crossOriginAndForeignHostRequestsAreRefused() throws Exception {
        HttpResponse<String> r = studio.http.send(studio.request("/api/models").header("Origin", "http://evil.example").GET().build(),
                HttpResponse.BodyHandlers.ofString());
        assertError(r, 403, "cross-origin");
        assertTrue(r.headers().firstValue("Access-Control-Allow-Origin").isEmpty(), "no CORS headers");
        assertEquals(200, studio.http.send(studio.request("/api/models").header("Origin", studio.base).GET().build(),
                HttpResponse.BodyHandlers.ofString()).statusCode(), "same origin is fine");
        String rebinding = rawRequest("GET /api/models HTTP/1.1\r\nHost: evil.example:" + studio.server.port() + "\r\nConnection: close\r\n\r\n");
        assertTrue(rebinding.startsWith("HTTP/1.1 403"), rebinding);
        // the page itself is served, with a policy that keeps it offline
        HttpResponse<String> page = studio.get("/");
        assertEquals(200, page.statusCode());
        assertTrue(page.body().contains("<canvas"), "the page has a canvas");
        assertTrue(page.headers().firstValue("Content-Security-Policy").orElse("").contains("connect-src 'self'"));
        assertEquals(200, studio.get("/studio.js").statusCode());
        assertEquals(200, studio.get("/paint.js").statusCode());
        assertEquals(200, studio.get("/modes.js").statusCode());
        assertEquals(200, studio.get("/studio.css").statusCode());
    }

    static String rawRequest(String request) throws IOException {
        try (java.net.Socket s = new java.net.Socket("127.0.0.1", studio.server.port())) {
            s.getOutputStream().write(request.getBytes(java.nio.charset.StandardCharsets.US_ASCII));
            s.getOutputStream().flush();
            return new String(s.getInputStream().readAllBytes(), java.nio.charset.StandardCharsets.UTF_8);
        }
    }
}
