package org.ldm4j.cli;

import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.ldm4j.pipeline.TinyStableDiffusion;

import java.nio.file.Files;
import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.*;

/** {@code ldm4j batch} end to end on the tiny model: the spec's items, the index, a rerun that skips them, bad input. */
class BatchCommandTest {
    @TempDir static Path dir;
    static Path model;

    @BeforeAll static void writeModel() throws Exception {
        model = TinyStableDiffusion.write(dir.resolve("tiny"), 0);
    }

    private static Path spec(String name, String output) throws Exception {
        String json = """
                {"model": "%s", "method": "txt2img", "prompts": ["a red house", "a blue boat"],
                 "parameters": {"steps": 2, "width": 16, "height": 16},
                 "grid": {"cfg": [1.0, 3.0]}, "seeds": [7],
                 "output": "%s", "threads": 1}
                """.formatted(model.toString().replace("\\", "/"), output.replace("\\", "/"));
        return Files.writeString(dir.resolve(name), json);
    }

    @Test void runsEveryItemAndARerunSkipsThem() throws Exception {
        Path out = dir.resolve("run");
        Path spec = spec("job.json", out.toString());
        CliTest.Result first = CliTest.run("batch", "--spec", spec.toString());
        assertEquals(0, first.code(), first.err());
        assertTrue(first.out().contains("4 items: 4 generated, 0 already done, 0 failed"), first.out());
        try (var images = Files.list(out.resolve("images"))) {
            assertEquals(4, images.filter(p -> p.toString().endsWith(".png")).count());
        }
        assertEquals(4, Files.readAllLines(out.resolve("index.jsonl")).stream().filter(l -> !l.isBlank()).count());

        CliTest.Result again = CliTest.run("batch", "--spec", spec.toString());
        assertEquals(0, again.code(), again.err());
        assertTrue(again.out().contains("4 items: 0 generated, 4 already done, 0 failed"), again.out());

        Path elsewhere = dir.resolve("elsewhere");   // --out overrides the spec's output
        CliTest.Result moved = CliTest.run("batch", "--spec", spec.toString(), "--out", elsewhere.toString());
        assertEquals(0, moved.code(), moved.err());
        assertTrue(Files.isRegularFile(elsewhere.resolve("index.jsonl")));
    }

    @Test void badInputIsAOneLineErrorBeforeAnyWork() throws Exception {
        CliTest.Result missing = CliTest.run("batch", "--spec", dir.resolve("nope.json").toString());
        assertEquals(2, missing.code());
        assertTrue(missing.err().contains("spec not found"), missing.err());

        Path spec = spec("job2.json", dir.resolve("run2").toString());
        CliTest.Result workers = CliTest.run("batch", "--spec", spec.toString(), "--workers", "0");
        assertEquals(2, workers.code());
        assertTrue(workers.err().contains("--workers must be >= 1, got 0"), workers.err());

        Path broken = Files.writeString(dir.resolve("broken.json"), "{\"model\": ");
        CliTest.Result garbled = CliTest.run("batch", "--spec", broken.toString());
        assertEquals(2, garbled.code());
        assertTrue(garbled.err().contains(broken + ": not a valid batch spec") && garbled.err().strip().lines().count() == 1, garbled.err());

        Path remote = spec("remote.json", "hdfs://cluster/run");
        CliTest.Result hdfs = CliTest.run("batch", "--spec", remote.toString());
        assertEquals(2, hdfs.code());
        assertTrue(hdfs.err().contains("is not a local folder"), hdfs.err());
        assertFalse(Files.exists(dir.resolve("run2")), "nothing written");
    }
}
