package org.ldm4j.studio;

import com.fasterxml.jackson.databind.JsonNode;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.ldm4j.image.PngParameters;
import org.ldm4j.models.clip.TinyClip;
import org.ldm4j.pipeline.TinyStableDiffusion;

import java.io.IOException;
import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.*;
import static org.ldm4j.studio.StudioFixture.assertError;
import static org.ldm4j.studio.StudioFixture.json;

/** The edit mode's CLIP ranking: on with --clip (every sample scored by it), a 503 saying how without, a 400 for nonsense. */
class StudioClipRankingTest {
    @TempDir Path dir;

    @Test void editsRankWithTheStudiosClip() throws Exception {
        Path model = TinyStableDiffusion.write(dir.resolve("tiny"), 5);
        TinyClip.write(dir.resolve("clip"));
        StudioConfig base = StudioFixture.config(model, dir.resolve("gallery"), StudioFixture.testLimits());
        StudioConfig withClip = new StudioConfig(base.host(), base.port(), base.token(), base.modelSpec(), base.modelRequired(),
                base.gallery(), base.device(), base.dtype(), base.threads(), base.limits(), null, dir.resolve("clip").toString());
        try (StudioFixture studio = new StudioFixture(StudioServer.start(withClip))) {
            assertTrue(json(studio.get("/api/models")).get("clipRanking").asBoolean());
            JsonNode done = studio.await(studio.submit(StudioModesApiTest.edit(2).put("rankWith", "clip").toString()));
            assertEquals("done", done.get("state").asText(), done.toString());
            JsonNode outputs = done.get("outputs");
            for (int k = 1; k < outputs.size(); k++) {
                JsonNode record = PngParameters.read(studio.getBytes(outputs.get(k).get("url").asText()).body(), "r").request();
                assertEquals("clip", record.get("scorer").asText());
                double cosine = record.get("score").asDouble();
                assertTrue(cosine >= -1 && cosine <= 1, "a cosine: " + cosine);
            }
            assertError(studio.postJson("/api/jobs", StudioModesApiTest.edit(1).put("rankWith", "sharpness").toString()), 400,
                    "rankWith must be background or clip");
        }
    }

    @Test void withoutClipTheRankingIsA503SayingHowToTurnItOn() throws Exception {
        try (StudioFixture studio = StudioFixture.startTiny(dir, 5)) {
            assertFalse(json(studio.get("/api/models")).get("clipRanking").asBoolean());
            assertError(studio.postJson("/api/jobs", StudioModesApiTest.edit(1).put("rankWith", "clip").toString()), 503,
                    "start the studio with --clip");
            JsonNode done = studio.await(studio.submit(StudioModesApiTest.edit(1).put("rankWith", "background").toString()));
            assertEquals("done", done.get("state").asText(), done.toString());
        }
    }

    @Test void aClipThatCannotLoadStopsTheServer() throws IOException {
        Path model = TinyStableDiffusion.write(dir.resolve("tiny2"), 5);
        StudioConfig base = StudioFixture.config(model, dir.resolve("g2"), StudioFixture.testLimits());
        StudioConfig missing = new StudioConfig(base.host(), base.port(), base.token(), base.modelSpec(), base.modelRequired(),
                base.gallery(), base.device(), base.dtype(), base.threads(), base.limits(), null, dir.resolve("no-clip").toString());
        IOException e = assertThrows(IOException.class, () -> StudioServer.start(missing));
        assertTrue(e.getMessage().startsWith("cannot use --clip " + dir.resolve("no-clip")), e.getMessage());
    }
}
