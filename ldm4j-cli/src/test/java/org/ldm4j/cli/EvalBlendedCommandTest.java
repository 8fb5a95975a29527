package org.ldm4j.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.bytedeco.pytorch.global.torch;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.ldm4j.pipeline.TinyStableDiffusion;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.*;

/** {@code eval blended} end to end on the tiny model (16x16 noise images) and the committed ToyWorld segmenter. */
class EvalBlendedCommandTest {
    @TempDir static Path dir;
    static Path model;
    /** Tests run in the module folder; the segmenter is committed at the repository root. */
    static final Path SEGMENTER = Path.of("..", "models", "toyworld-segmenter");

    @BeforeAll static void setUp() throws Exception {
        torch.set_num_threads(1);
        model = TinyStableDiffusion.write(dir.resolve("tiny"), 0);
    }

    @Test void reportsEveryPresetAndEditKindWithFiniteFigures() throws Exception {
        Path json = dir.resolve("blended.json");
        CliTest.Result r = CliTest.run("eval", "blended", "--model", model.toString(), "--segmenter", SEGMENTER.toString(),
                "--size", "16", "--n", "2", "--samples", "2", "--steps", "3", "--repair-steps", "2", "--json", json.toString());
        assertEquals(0, r.code(), r.err());
        assertTrue(r.out().contains("time/t2i"), r.out());
        JsonNode report = new ObjectMapper().readTree(Files.readString(json));
        assertEquals(2, report.get("n").asInt());
        assertTrue(report.get("txt2img_ms").asDouble() > 0);
        JsonNode rows = report.get("rows");
        assertEquals(EvalBlendedCommand.PRESETS.size() * EvalBlendedCommand.KINDS.size(), rows.size());
        Map<String, JsonNode> byKey = new HashMap<>();
        for (JsonNode row : rows) byKey.put(row.get("preset").asText() + "/" + row.get("kind").asText(), row);
        for (String kind : EvalBlendedCommand.KINDS) {
            for (String preset : EvalBlendedCommand.PRESETS) {
                JsonNode row = byKey.get(preset + "/" + kind);
                assertNotNull(row, preset + "/" + kind);
                assertEquals(2, row.get("edits").asInt() + row.get("skipped").asInt(), "one edit of each kind per scene: " + row);
                if (row.get("edits").asInt() == 0) continue;
                for (String f : new String[]{"psnr_outside", "ssim_outside", "recall_inside", "recall_inside_unranked", "time_ratio"}) {
                    assertTrue(row.get(f).isNumber() && Double.isFinite(row.get(f).asDouble()), preset + "/" + kind + " " + f + ": " + row);
                }
                double recall = row.get("recall_inside").asDouble();
                assertTrue(recall >= 0 && recall <= 1, row.toString());
                assertTrue(row.get("ssim_outside").asDouble() <= 1 + 1e-9, row.toString());
                assertTrue(row.get("time_ratio").asDouble() > 0, row.toString());
            }
            // Without repair the kept image is the top-ranked sample, so its recall is the best of the samples': never below their mean.
            for (String preset : new String[]{"recommended-no-repair", "official"}) {
                JsonNode row = byKey.get(preset + "/" + kind);
                if (row.get("edits").asInt() == 0) continue;
                assertTrue(row.get("recall_inside").asDouble() >= row.get("recall_inside_unranked").asDouble() - 1e-9, row.toString());
            }
            JsonNode plain = byKey.get("recommended-no-repair/" + kind), repaired = byKey.get("recommended/" + kind);
            assertEquals(plain.get("edits").asInt(), repaired.get("edits").asInt());
            if (plain.get("edits").asInt() > 0) {
                assertTrue(repaired.get("time_ratio").asDouble() >= plain.get("time_ratio").asDouble(), "the repair costs time");
            }
        }
        assertTrue(byKey.get("recommended/add").get("edits").asInt() + byKey.get("recommended/replace").get("edits").asInt() > 0,
                "some add/replace edits ran: " + rows);
    }

    @Test void badArgumentsAreOneLineErrors() {
        CliTest.Result r = CliTest.run("eval", "blended", "--model", model.toString(), "--segmenter", SEGMENTER.toString(), "--samples", "0");
        assertEquals(2, r.code());
        assertTrue(r.err().contains("--samples"), r.err());
        CliTest.Result m = CliTest.run("eval", "blended", "--model", dir.resolve("missing").toString(), "--segmenter", SEGMENTER.toString(), "--size", "16");
        assertEquals(2, m.code());
        assertTrue(m.err().startsWith("ldm4j: ") && m.err().strip().lines().count() == 1, m.err());
    }
}
