package org.ldm4j.studio;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.ldm4j.studio.StudioFixture.assertError;
import static org.ldm4j.studio.StudioFixture.json;

/** Servers without a model, with a token, and the configurations that must not start. */
class StudioAccessTest {
    @TempDir Path dir;

    @Test
    void withoutAModelTheServerStartsAndSaysSo() throws Exception {
        // the default ToyWorld model may not exist yet: not required, so the server runs without it
        StudioConfig config = new StudioConfig("127.0.0.1", 0, null, dir.resolve("models/toyworld-ldm").toString(), false,
                dir.resolve("gallery"), "cpu", "fp32", 1, StudioFixture.testLimits());
        try (StudioFixture studio = new StudioFixture(StudioServer.start(config))) {
            var models = json(studio.get("/api/models"));
            assertFalse(models.get("loaded").asBoolean());
            assertEquals(0, models.get("models").size());
            assertTrue(models.get("message").asText().startsWith("no model loaded"), models.toString());
            assertError(studio.postJson("/api/jobs", "{\"mode\": \"txt2img\", \"prompt\": \"a boat\"}"), 503, "no model loaded");
            assertError(studio.postJson("/api/jobs", "{not json"), 400, "malformed JSON");
            assertEquals(200, studio.get("/").statusCode());
            assertEquals(0, json(studio.get("/api/gallery")).get("items").size());
        }
    }

    @Test
    void aModelTheUserNamedMustLoad() {
        StudioConfig config = new StudioConfig("127.0.0.1", 0, null, dir.resolve("missing").toString(), true,
                dir.resolve("gallery"), "cpu", "fp32", 1, StudioFixture.testLimits());
        IOException e = assertThrows(IOException.class, () -> StudioServer.start(config));
        assertTrue(e.getMessage().contains("cannot load model"), e.getMessage());
    }

    @Test
    void withATokenEveryApiAndGalleryCallMustPresentIt() throws Exception {
        StudioConfig config = StudioFixture.config(null, dir.resolve("gallery"), StudioFixture.testLimits()).withToken("s3cret-t0ken");
        Files.createDirectories(dir.resolve("gallery"));
        Files.write(dir.resolve("gallery/20260101-000000-abc-0.png"), StudioFixture.png(StudioFixture.picture(8, 8)));
        try (StudioFixture studio = new StudioFixture(StudioServer.start(config))) {
            assertTrue(studio.server.url().endsWith("/#token=s3cret-t0ken"), studio.server.url());
            for (String path : new String[]{"/api/models", "/api/gallery", "/api/jobs/abc", "/gallery/20260101-000000-abc-0.png"}) {
                HttpResponse<String> r = studio.get(path);
                assertError(r, 401, "requires a token");
                assertEquals("Bearer", r.headers().firstValue("WWW-Authenticate").orElse(""));
            }
            assertError(studio.postJson("/api/jobs", "{}"), 401, "requires a token");
            assertError(studio.delete("/api/jobs/abc"), 401, "requires a token");
            studio.token = "wrong";
            assertError(studio.get("/api/models"), 401, "requires a token");
            studio.token = "s3cret-t0ken";
            assertEquals(200, studio.get("/api/models").statusCode());
            assertEquals(200, studio.getBytes("/gallery/20260101-000000-abc-0.png").statusCode());
            assertError(studio.get("/api/jobs/abc"), 404, "no such job");
            // the page itself carries no data and loads without the token (it reads it from the URL fragment)
            studio.token = null;
            assertEquals(200, studio.get("/").statusCode());
        }
    }

    @Test
    void networkBindingsNeedAToken() {
        StudioConfig open = new StudioConfig("0.0.0.0", 0, null, null, false, dir, "cpu", "fp32", 1, Limits.defaults());
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, open::validate);
        assertTrue(e.getMessage().contains("--token"), e.getMessage());
        open.withToken("t").validate();
        new StudioConfig("127.0.0.1", 7860, null, null, false, dir, "cpu", "fp32", 1, Limits.defaults()).validate();
        new StudioConfig("localhost", 7860, null, null, false, dir, "cpu", "fp32", 1, Limits.defaults()).validate();
        assertThrows(IllegalArgumentException.class, () -> open.withToken(" ").validate());
        assertThrows(IllegalArgumentException.class,
                () -> new StudioConfig("127.0.0.1", 70000, null, null, false, dir, "cpu", "fp32", 1, Limits.defaults()).validate());
    }
}
