package org.ldm4j.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.ldm4j.methods.fgdm.FgdmFolder;
import org.ldm4j.methods.fgdm.FgdmManifest;
import org.ldm4j.methods.fgdm.TinyFgdm;
import org.ldm4j.studio.FactorGraphSource;
import org.ldm4j.studio.StudioServer;
import picocli.CommandLine;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.*;

/** {@code ldm4j studio} loads the FG-DM folder ({@code --fgdm}, default models/toyworld-fgdm under ldm4j.home). */
class StudioCommandTest {
    @TempDir static Path dir;
    static Path models, base, fgdm;

    /** dir/models/tiny-ldm (the base) and dir/models/toyworld-fgdm (the factors, base_model ../tiny-ldm). */
    @BeforeAll static void write() throws Exception {
        models = dir.resolve("models");
        base = models.resolve("tiny-ldm");
        fgdm = Files.move(TinyFgdm.write(models, 0), models.resolve("toyworld-fgdm"));
    }

    /** Starts the studio with these options on an ephemeral port and returns GET /api/models. */
    static JsonNode models(String... options) throws Exception {
        StudioCommand cmd = new StudioCommand();
        List<String> args = new ArrayList<>(List.of("--model", base.toString(), "--port", "0", "--gallery", dir.resolve("gallery").toString()));
        args.addAll(List.of(options));
        new CommandLine(cmd).parseArgs(args.toArray(new String[0]));
        try (StudioServer server = cmd.start()) {
            HttpResponse<String> r = HttpClient.newHttpClient().send(
                    HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + server.port() + "/api/models")).GET().build(),
                    HttpResponse.BodyHandlers.ofString());
            assertEquals(200, r.statusCode(), r.body());
            return new ObjectMapper().readTree(r.body());
        }
    }

    static JsonNode mode(JsonNode models, String name) {
        for (JsonNode m : models.get("modes")) if (m.get("name").asText().equals(name)) return m;
        throw new AssertionError("no mode " + name + " in " + models);
    }

    @Test void vaeSwapsTheServedAutoencoderAndOneThatCannotServeStopsTheStart() throws Exception {
        Path otherVae = org.ldm4j.pipeline.TinyStableDiffusion.write(dir.resolve("other"), 1).resolve("vae");
        JsonNode info = models("--vae", otherVae.toString(), "--fgdm", fgdm.toString());
        assertEquals("other/vae", info.get("models").get(0).get("vae").asText(), info.toString());
        assertTrue(models("--fgdm", fgdm.toString()).get("models").get(0).get("vae").isNull(), "the model's own VAE");

        Path missing = dir.resolve("no-vae");
        StudioCommand cmd = new StudioCommand();
        new CommandLine(cmd).parseArgs("--model", base.toString(), "--port", "0", "--gallery", dir.resolve("gallery").toString(),
                "--vae", missing.toString(), "--fgdm", fgdm.toString());
        Ldm4j.UsageError e = assertThrows(Ldm4j.UsageError.class, cmd::start);
        assertTrue(e.getMessage().contains("cannot use --vae") && e.getMessage().contains("no config.json"), e.getMessage());
    }

    @Test void clipTurnsOnTheEditModesClipRankingAndOneThatCannotLoadStopsTheStart() throws Exception {
        Path clip = dir.resolve("clip");
        org.ldm4j.models.clip.TinyClip.write(clip);
        assertTrue(models("--clip", clip.toString(), "--fgdm", fgdm.toString()).get("clipRanking").asBoolean());
        assertFalse(models("--fgdm", fgdm.toString()).get("clipRanking").asBoolean());

        StudioCommand cmd = new StudioCommand();
        new CommandLine(cmd).parseArgs("--model", base.toString(), "--port", "0", "--gallery", dir.resolve("gallery").toString(),
                "--clip", dir.resolve("no-clip").toString(), "--fgdm", fgdm.toString());
        Ldm4j.UsageError e = assertThrows(Ldm4j.UsageError.class, cmd::start);
        assertTrue(e.getMessage().startsWith("cannot use --clip " + dir.resolve("no-clip")), e.getMessage());
    }

    @Test void segmenterTurnsOnSbpcsImageCheckAndAMissingOneStopsTheStart() throws Exception {
        Path segmenter = TinySegmenter.write(dir.resolve("segmenter"));
        assertTrue(models("--fgdm", fgdm.toString(), "--segmenter", segmenter.toString()).at("/factorGraph/imageCheck").asBoolean());
        // no models/toyworld-segmenter beside the default model there: the check is off
        assertFalse(withHome(dir, () -> models("--fgdm", fgdm.toString())).at("/factorGraph/imageCheck").asBoolean());
        Ldm4j.UsageError e = assertThrows(Ldm4j.UsageError.class, () -> models("--fgdm", fgdm.toString(), "--segmenter", dir.resolve("none").toString()));
        assertEquals("--segmenter: no segmenter folder at " + dir.resolve("none"), e.getMessage());
        // a folder that is not a segmenter leaves the Factor graph mode off, naming it, as a bad FG-DM folder does
        JsonNode off = mode(models("--fgdm", fgdm.toString(), "--segmenter", dir.toString()), "factorgraph");
        assertFalse(off.get("enabled").asBoolean());
        assertTrue(off.get("message").asText().contains("the image check's segmenter " + dir) && off.get("message").asText().contains("not a segmenter folder"),
                off.toString());
    }

    /** {@code call} with ldm4j.home (where the default models are looked for) set to {@code home}. */
    static <T> T withHome(Path home, java.util.concurrent.Callable<T> call) throws Exception {
        String had = System.getProperty("ldm4j.home");
        try {
            System.setProperty("ldm4j.home", home.toString());
            return call.call();
        } finally {
            if (had == null) System.clearProperty("ldm4j.home");
            else System.setProperty("ldm4j.home", had);
        }
    }

    @Test void guideTurnsOnSegmentationGuidanceAndAMissingOneStopsTheStart() throws Exception {
        Path guide = TinySegmenter.write(dir.resolve("guide"));
        assertTrue(models("--fgdm", fgdm.toString(), "--guide", guide.toString()).at("/factorGraph/guide").asBoolean());
        // no models/toyworld-segmenter-guide beside the default model there: guidance is off
        assertFalse(withHome(dir, () -> models("--fgdm", fgdm.toString())).at("/factorGraph/guide").asBoolean());
        Ldm4j.UsageError e = assertThrows(Ldm4j.UsageError.class, () -> models("--fgdm", fgdm.toString(), "--guide", dir.resolve("none").toString()));
        assertEquals("--guide: no segmenter folder at " + dir.resolve("none"), e.getMessage());
        JsonNode off = mode(models("--fgdm", fgdm.toString(), "--guide", dir.toString()), "factorgraph");
        assertFalse(off.get("enabled").asBoolean());
        assertTrue(off.get("message").asText().contains("the guide segmenter " + dir), off.toString());
    }

    @Test void theFgdmFolderEnablesTheFactorGraphModeWithItsSegmentationFactor() throws Exception {
        JsonNode info = models("--fgdm", fgdm.toString());
        assertTrue(mode(info, "factorgraph").get("enabled").asBoolean(), info.get("modes").toString());
        assertTrue(mode(info, "mapedit").get("enabled").asBoolean());
        assertEquals("seg", info.at("/factorGraph/segmentation").asText(), "the factor whose manifest map is segmentation");
        assertEquals("image", info.at("/factorGraph/image").asText());
        assertEquals("house", info.at("/factorGraph/classes/9/name").asText(), "ToyWorld's classes");
    }

    @Test void theDefaultFolderIsFoundUnderTheHomeAndItsAbsenceLeavesTheModeOff() throws Exception {
        String had = System.getProperty("ldm4j.home");
        try {
            System.setProperty("ldm4j.home", dir.toString());
            assertTrue(mode(models(), "factorgraph").get("enabled").asBoolean(), "models/toyworld-fgdm under ldm4j.home");
            System.setProperty("ldm4j.home", dir.resolve("elsewhere").toString());
            JsonNode off = mode(models(), "factorgraph");
            assertFalse(off.get("enabled").asBoolean());
            assertEquals(FactorGraphSource.NO_FACTORS, off.get("message").asText());
        } finally {
            if (had == null) System.clearProperty("ldm4j.home");
            else System.setProperty("ldm4j.home", had);
        }
        Ldm4j.UsageError e = assertThrows(Ldm4j.UsageError.class, () -> models("--fgdm", dir.resolve("nothing").toString()));
        assertTrue(e.getMessage().contains("--fgdm"), e.getMessage());
    }

    @Test void aFolderStillBeingTrainedLeavesTheModeOffSayingWhichParentIsMissing() throws Exception {
        Path partial = TinyFgdm.write(dir.resolve("partial"), 0);
        FgdmManifest full = TinyFgdm.manifest();
        FgdmFolder.write(partial, new FgdmManifest(full.baseModel(), List.of(full.factor("depth"))).withFactor(full.factor("image")));
        JsonNode off = mode(models("--fgdm", partial.toString()), "factorgraph");
        assertFalse(off.get("enabled").asBoolean());
        assertTrue(off.get("message").asText().contains("needs parent [seg]"), off.toString());
    }
}
