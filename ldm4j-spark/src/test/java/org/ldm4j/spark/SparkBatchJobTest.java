package org.ldm4j.spark;

import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.bytedeco.pytorch.global.torch;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.ldm4j.batch.BatchRow;
import org.ldm4j.batch.BatchRunner;
import org.ldm4j.batch.BatchSpec;
import org.ldm4j.batch.ModelCache;
import org.ldm4j.cli.Ldm4j;
import org.ldm4j.pipeline.TinyStableDiffusion;

import javax.imageio.ImageIO;
import java.awt.image.BufferedImage;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.stream.Collectors;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The Spark job on local[2] against the in-process {@code ldm4j batch}, on the tiny random model (16x16, 3 DDIM
 * steps). One SparkSession serves every test: starting Spark costs seconds.
 */
class SparkBatchJobTest {
    @TempDir static Path dir;
    static Path model;
    static SparkSession spark;

    @BeforeAll
    static void start() throws IOException {
        torch.set_num_threads(1);
        model = TinyStableDiffusion.write(dir.resolve("tiny-sd"), 42);
        spark = SparkSession.builder().master("local[2]").appName("ldm4j-spark-test")
                .config("spark.ui.enabled", "false")
                .config("spark.driver.host", "127.0.0.1")
                .config("spark.driver.bindAddress", "127.0.0.1")
                .config("spark.sql.shuffle.partitions", "2")
                .getOrCreate();
    }

    @AfterAll
    static void stop() {
        if (spark != null) spark.stop();
    }

    static String spec(String method, List<String> prompts, String fixed, String grid, String seeds, Path out) {
        String quoted = prompts.stream().map(p -> "\"" + p + "\"").collect(Collectors.joining(", "));
        return """
                {"model": "%s", "method": "%s", "prompts": [%s],
                 "parameters": {"steps": 3, "width": 16, "height": 16, "scheduler": "ddim"%s},
                 "grid": {%s}, "seeds": %s, "output": "%s", "threads": 1}
                """.formatted(model, method, quoted, fixed, grid, seeds, out);
    }

    static Map<String, byte[]> files(Path folder) throws IOException {
        Map<String, byte[]> out = new TreeMap<>();
        try (Stream<Path> s = Files.list(folder)) {
            for (Path p : s.toList()) out.put(p.getFileName().toString(), Files.readAllBytes(p));
        }
        return out;
    }

    static Map<Integer, Row> index(String location) {
        Map<Integer, Row> rows = new TreeMap<>();
        for (Row r : spark.read().parquet(location).collectAsList()) rows.put(r.getInt(r.fieldIndex("index")), r);
        return rows;
    }

    static void assertNoTemporaries(Path out) throws IOException {
        try (Stream<Path> s = Files.walk(out)) {
            assertEquals(List.of(), s.filter(p -> p.getFileName().toString().endsWith(".tmp")
                    || p.getFileName().toString().endsWith(".crc") && !p.toString().contains(SparkBatchJob.INDEX)).toList());
        }
    }

    @Test
    void sparkJobEqualsInProcessBatchByteForByte() throws Exception {
        // 4 prompts x 2 CFG values x 4 seeds = 32 items over 5 partitions (boundaries cut through prompts)
        List<String> prompts = List.of("a red house", "a blue boat", "a tall tree", "a small lake");
        Path sparkOut = dir.resolve("spark-out"), cliOut = dir.resolve("cli-out");
        String json = spec("txt2img", prompts, "", "\"cfg\": [3.0, 5.0]", "{\"first\": 7, \"count\": 4}", sparkOut);
        Path specFile = Files.writeString(dir.resolve("job.json"), json);

        ModelCache.clear();
        int loadsBefore = ModelCache.loads();
        SparkBatchJob.Result r = SparkBatchJob.run(spark, SparkBatchJob.readSpec(specFile.toString(),
                spark.sparkContext().hadoopConfiguration()), 5);
        assertEquals(1, ModelCache.loads() - loadsBefore, "one executor JVM loads the model once for all its tasks");
        assertEquals(32, r.items());
        assertEquals(32, r.generated());
        assertEquals(0, r.failed());

        assertEquals(0, Ldm4j.run("batch", "--spec", specFile.toString(), "--out", cliOut.toString()));

        Map<String, byte[]> sparkImages = files(sparkOut.resolve("images")), cliImages = files(cliOut.resolve("images"));
        assertEquals(32, sparkImages.size());
        assertEquals(cliImages.keySet(), sparkImages.keySet());
        for (String name : cliImages.keySet()) assertArrayEquals(cliImages.get(name), sparkImages.get(name), name);
        // different seeds and CFG values do give different images (the comparison above is not vacuous)
        assertEquals(32, sparkImages.values().stream().map(java.util.Arrays::hashCode).collect(Collectors.toSet()).size());

        Map<Integer, Row> rows = index(r.index());
        List<String> cliLines = Files.readAllLines(cliOut.resolve(BatchRunner.INDEX));
        assertEquals(32, rows.size());
        assertEquals(32, cliLines.size());
        Set<Long> loadCosts = new java.util.HashSet<>();
        for (int i = 0; i < 32; i++) {
            Row row = rows.get(i);
            BatchRow cli = BatchRow.fromJson(cliLines.get(i).getBytes(), "cli index line " + i);
            assertEquals(cli.id(), row.getString(row.fieldIndex("id")));
            assertEquals(cli.seed(), row.getLong(row.fieldIndex("seed")));
            assertEquals(cli.parameters(), row.getString(row.fieldIndex("parameters")));
            assertEquals("ok", row.getString(row.fieldIndex("status")));
            assertTrue(Files.isRegularFile(sparkOut.resolve("rows").resolve(cli.id() + ".json")));
            loadCosts.add(row.getLong(row.fieldIndex("model_load_ms")));
        }
        assertEquals(1, loadCosts.size(), "every row reports the same (single) model load");
        assertEquals(List.of(7L, 8L, 9L, 10L), List.of(0, 1, 2, 3).stream().map(i -> rows.get(i).getLong(rows.get(i).fieldIndex("seed"))).toList());
        assertNoTemporaries(sparkOut);
    }

    @Test
    void rerunRegeneratesExactlyTheDeletedOutputs() throws Exception {
        Path out = dir.resolve("rerun");
        BatchSpec spec = BatchSpec.parse(spec("txt2img", List.of("a red boat", "a sky"), "", "", "[3, 1, 4, 1000]", out), "test");
        SparkBatchJob.Result first = SparkBatchJob.run(spark, spec, 4);
        assertEquals(8, first.generated());
        List<String> ids = spec.items().stream().map(i -> i.id()).toList();
        Map<String, byte[]> bytes = new HashMap<>();
        Map<String, FileTime> times = new HashMap<>();
        for (String id : ids) {
            for (Path p : List.of(out.resolve("images/" + id + ".png"), out.resolve("rows/" + id + ".json"))) {
                bytes.put(p.toString(), Files.readAllBytes(p));
                times.put(p.toString(), Files.getLastModifiedTime(p));
            }
        }
        // an image lost, another image lost, a row lost (an item killed between its two writes looks like this)
        Files.delete(out.resolve("images/" + ids.get(1) + ".png"));
        Files.delete(out.resolve("images/" + ids.get(4) + ".png"));
        Files.delete(out.resolve("rows/" + ids.get(6) + ".json"));
        Thread.sleep(20);   // so a rewritten file cannot keep its old modification time

        SparkBatchJob.Result second = SparkBatchJob.run(spark, spec, 3);
        assertEquals(8, second.items());
        assertEquals(3, second.generated());
        assertEquals(5, second.reused());
        Set<Integer> regenerated = Set.of(1, 4, 6);
        Map<Integer, Row> rows = index(second.index());
        for (int i = 0; i < 8; i++) {
            String id = ids.get(i);
            assertEquals(!regenerated.contains(i), rows.get(i).getBoolean(rows.get(i).fieldIndex("reused")), "item " + i);
            Path png = out.resolve("images/" + id + ".png");
            assertArrayEquals(bytes.get(png.toString()), Files.readAllBytes(png), "item " + i + " image");
            if (regenerated.contains(i)) {
                assertNotEquals(times.get(png.toString()), Files.getLastModifiedTime(png), "item " + i + " rewritten");
            } else {
                assertEquals(times.get(png.toString()), Files.getLastModifiedTime(png), "item " + i + " untouched");
                Path row = out.resolve("rows/" + id + ".json");
                assertEquals(times.get(row.toString()), Files.getLastModifiedTime(row), "item " + i + " row untouched");
                assertArrayEquals(bytes.get(row.toString()), Files.readAllBytes(row));
            }
        }
        assertNoTemporaries(out);
    }

    @Test
    void aBadItemIsReportedPerItemWithoutFailingTheJob() throws Exception {
        BufferedImage init = new BufferedImage(16, 16, BufferedImage.TYPE_INT_RGB);
        for (int y = 0; y < 16; y++) for (int x = 0; x < 16; x++) init.setRGB(x, y, (x * 16) << 16 | (y * 16) << 8 | 128);
        Path good = dir.resolve("init.png");
        ImageIO.write(init, "png", good.toFile());
        Path missing = dir.resolve("no-such-init.png");
        Path out = dir.resolve("bad-item");
        BatchSpec spec = BatchSpec.parse(spec("img2img", List.of("a lake"), ", \"strength\": 0.6",
                "\"init\": [\"" + good + "\", \"" + missing + "\"]", "{\"first\": 0, \"count\": 2}", out), "test");

        SparkBatchJob.Result r = SparkBatchJob.run(spark, spec, 2);
        assertEquals(4, r.items());
        assertEquals(2, r.failed());
        assertEquals(2, r.generated());
        Map<Integer, Row> rows = index(r.index());
        for (int i = 0; i < 4; i++) {
            Row row = rows.get(i);
            boolean bad = row.getString(row.fieldIndex("parameters")).contains("no-such-init");
            assertEquals(bad ? "failed" : "ok", row.getString(row.fieldIndex("status")), "item " + i);
            if (bad) {
                assertTrue(row.getString(row.fieldIndex("error")).contains(missing.toString()), row.getString(row.fieldIndex("error")));
                assertNull(row.get(row.fieldIndex("image")));
                assertTrue(Files.notExists(out.resolve("images/" + row.getString(row.fieldIndex("id")) + ".png")));
            } else {
                assertNull(row.get(row.fieldIndex("error")));
                assertTrue(Files.isRegularFile(out.resolve("images/" + row.getString(row.fieldIndex("id")) + ".png")));
            }
        }
    }
}
