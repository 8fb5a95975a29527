package org.ldm4j.studio;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.bytedeco.pytorch.global.torch;
import org.ldm4j.pipeline.ModelLoader;
import org.ldm4j.pipeline.TinyStableDiffusion;

import javax.imageio.ImageIO;
import java.awt.Color;
import java.awt.Graphics2D;
import java.awt.image.BufferedImage;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** A studio server for tests (127.0.0.1, ephemeral port) and a small HTTP client for its API. */
final class StudioFixture implements AutoCloseable {
    static final ObjectMapper JSON = new ObjectMapper();
    final StudioServer server;
    final HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();
    final String base;
    String token;

    StudioFixture(StudioServer server) {
        this.server = server;
        this.base = "http://127.0.0.1:" + server.port();
    }

    /** A studio on the tiny random model (written to {@code dir/tiny} with {@code seed}), gallery {@code dir/gallery}, test limits. */
    static StudioFixture startTiny(Path dir, long seed) throws IOException {
        torch.set_num_threads(1);
        Path model = TinyStableDiffusion.write(dir.resolve("tiny"), seed);
        return new StudioFixture(StudioServer.start(config(model, dir.resolve("gallery"), testLimits())));
    }

    /**
     * The embedded ToyWorld model as {@link ModelLoader#defaultModel()} names it, seen from this module's folder (the
     * tests' working directory; {@code ldm4j.home}/{@code LDM4J_HOME} unset means the repository root, one up). It is
     * committed, so a missing folder fails the test rather than skipping it.
     */
    static Path toyWorldModel() {
        Path model = Path.of("..").resolve(ModelLoader.defaultModel()).normalize();
        assertTrue(Files.isRegularFile(model.resolve("model_index.json")),
                () -> "the embedded ToyWorld model is missing: " + model.toAbsolutePath() + " (models/toyworld-ldm8 in the repository)");
        return model;
    }

    /**
     * The ToyWorld FG-DM beside {@link #toyWorldModel()} ({@code models/toyworld-fgdm}, as {@code ldm4j studio --fgdm}
     * defaults to). Committed too, so a missing folder fails the test.
     */
    static Path toyWorldFgdm() {
        Path fgdm = toyWorldModel().resolveSibling("toyworld-fgdm");
        assertTrue(Files.isRegularFile(fgdm.resolve("fgdm.json")),
                () -> "the ToyWorld FG-DM is missing: " + fgdm.toAbsolutePath().normalize() + " (models/toyworld-fgdm in the repository, with its fgdm.json)");
        return fgdm;
    }

    static StudioConfig config(Path model, Path gallery, Limits limits) {
        return new StudioConfig("127.0.0.1", 0, null, model == null ? null : model.toString(), model != null, gallery,
                "cpu", "fp32", 1, limits);
    }

    /** Test limits: small sides, fast previews, room for slow 1000-step jobs used to test queueing and cancelling. */
    static Limits testLimits() {
        return new Limits(64, 1000, 4, 200, 256 * 1024, 2, 1);
    }

    HttpRequest.Builder request(String path) {
        HttpRequest.Builder b = HttpRequest.newBuilder(URI.create(base + path)).timeout(Duration.ofSeconds(30));
        if (token != null) b.header("Authorization", "Bearer " + token);
        return b;
    }

    HttpResponse<String> get(String path) throws IOException, InterruptedException {
        return http.send(request(path).GET().build(), HttpResponse.BodyHandlers.ofString());
    }

    HttpResponse<byte[]> getBytes(String path) throws IOException, InterruptedException {
        return http.send(request(path).GET().build(), HttpResponse.BodyHandlers.ofByteArray());
    }

    HttpResponse<String> postJson(String path, String body) throws IOException, InterruptedException {
        return http.send(request(path).header("Content-Type", "application/json")
                .POST(HttpRequest.BodyPublishers.ofString(body)).build(), HttpResponse.BodyHandlers.ofString());
    }

    HttpResponse<String> delete(String path) throws IOException, InterruptedException {
        return http.send(request(path).DELETE().build(), HttpResponse.BodyHandlers.ofString());
    }

    static JsonNode json(HttpResponse<String> r) throws IOException {
        return JSON.readTree(r.body());
    }

    /** Asserts a refusal: the status, a JSON body with an "error" naming the problem, and no Java internals. */
    static JsonNode assertError(HttpResponse<String> r, int status, String mentions) throws IOException {
        assertEquals(status, r.statusCode(), () -> "body: " + r.body());
        assertTrue(r.headers().firstValue("Content-Type").orElse("").startsWith("application/json"), r.headers().toString());
        JsonNode body = JSON.readTree(r.body());
        String error = body.path("error").asText();
        assertTrue(error.toLowerCase().contains(mentions.toLowerCase()), () -> "error '" + error + "' should mention '" + mentions + "'");
        assertFalse(r.body().contains("Exception") || r.body().contains("\tat ") || r.body().contains("org.ldm4j"),
                () -> "internals leaked: " + r.body());
        return body;
    }

    /** Submits a job and returns its id, failing on anything but 202. */
    String submit(String body) throws IOException, InterruptedException {
        HttpResponse<String> r = postJson("/api/jobs", body);
        assertEquals(202, r.statusCode(), () -> "submit failed: " + r.body());
        return json(r).get("id").asText();
    }

    /** Polls the job until it reaches a final state (30 s at most). */
    JsonNode await(String id) throws Exception {
        long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
        while (System.nanoTime() < deadline) {
            JsonNode job = json(get("/api/jobs/" + id));
            String state = job.get("state").asText();
            if (state.equals("done") || state.equals("failed") || state.equals("cancelled")) return job;
            Thread.sleep(20);
        }
        throw new AssertionError("job " + id + " did not finish in time");
    }

    /** Polls until the job is running (its first step done). */
    void awaitRunning(String id) throws Exception {
        long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
        while (System.nanoTime() < deadline) {
            JsonNode job = json(get("/api/jobs/" + id));
            if (job.get("state").asText().equals("running") && job.at("/progress/step").asInt() > 0) return;
            Thread.sleep(10);
        }
        throw new AssertionError("job " + id + " did not start in time");
    }

    /** One server-sent event. */
    record Event(String name, JsonNode data) {}

    /** Reads the job's event stream until the server closes it (after the final state). */
    List<Event> events(String id) throws Exception {
        HttpResponse<Stream<String>> r = http.send(request("/api/jobs/" + id + "/events").header("Accept", "text/event-stream").GET().build(),
                HttpResponse.BodyHandlers.ofLines());
        assertEquals(200, r.statusCode());
        assertTrue(r.headers().firstValue("Content-Type").orElse("").startsWith("text/event-stream"), r.headers().toString());
        List<Event> events = new ArrayList<>();
        String name = null;
        StringBuilder data = new StringBuilder();
        for (String line : (Iterable<String>) r.body()::iterator) {
            if (line.startsWith("event:")) name = line.substring(6).trim();
            else if (line.startsWith("data:")) data.append(line.substring(5).trim());
            else if (line.isEmpty() && name != null) {
                events.add(new Event(name, JSON.readTree(data.toString())));
                name = null;
                data.setLength(0);
            }
        }
        return events;
    }

    static byte[] png(BufferedImage image) throws IOException {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        ImageIO.write(image, "png", out);
        return out.toByteArray();
    }

    /** A w x h test picture: a blue sky over green ground with a red square. */
    static BufferedImage picture(int w, int h) {
        BufferedImage img = new BufferedImage(w, h, BufferedImage.TYPE_INT_RGB);
        Graphics2D g = img.createGraphics();
        g.setColor(new Color(90, 150, 230));
        g.fillRect(0, 0, w, h / 2);
        g.setColor(new Color(60, 160, 70));
        g.fillRect(0, h / 2, w, h - h / 2);
        g.setColor(Color.RED);
        g.fillRect(w / 4, h / 4, w / 4, h / 4);
        g.dispose();
        return img;
    }

    @Override
    public void close() {
        server.close();
    }
}
