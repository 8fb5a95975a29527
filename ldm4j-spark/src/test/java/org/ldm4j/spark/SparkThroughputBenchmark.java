package org.ldm4j.spark;

import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.bytedeco.pytorch.global.torch;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.condition.EnabledIfSystemProperty;
import org.junit.jupiter.api.io.TempDir;
import org.ldm4j.batch.BatchRunner;
import org.ldm4j.batch.BatchSpec;
import org.ldm4j.batch.LocalBatchStore;
import org.ldm4j.batch.ModelCache;
import org.ldm4j.pipeline.TinyStableDiffusion;

import java.nio.file.Path;
import java.util.List;
import java.util.Locale;

import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * The figures of docs/spark.md, run once by hand (not part of the build):
 * {@code ./mvnw -q -B -o test -pl ldm4j-spark -Dtest=SparkThroughputBenchmark -Dldm4j.bench=true}.
 * 64 tiny-model items (16x16, 3 DDIM steps), each mode into a fresh folder with a cold model cache.
 */
@EnabledIfSystemProperty(named = "ldm4j.bench", matches = "true")
class SparkThroughputBenchmark {
    @TempDir Path dir;

    @Test
    void throughput() throws Exception {
        torch.set_num_threads(1);
        Path model = TinyStableDiffusion.write(dir.resolve("tiny-sd"), 42);
        String json = """
                {"model": "%s", "method": "txt2img", "prompts": ["a red house", "a blue boat", "a tall tree", "a small lake"],
                 "parameters": {"steps": 3, "width": 16, "height": 16, "scheduler": "ddim", "cfg": 5.0},
                 "seeds": {"first": 0, "count": 16}, "output": "unused", "threads": 1}
                """.formatted(model);
        BatchSpec spec = BatchSpec.parse(json, "bench");
        BatchRunner.run(spec.withOutput(dir.resolve("warmup").toString()), new LocalBatchStore(dir.resolve("warmup")), 1, null);

        for (int workers : List.of(1, 2)) {
            ModelCache.clear();
            Path out = dir.resolve("in-process-" + workers);
            long t0 = System.nanoTime();
            BatchRunner.Summary s = BatchRunner.run(spec.withOutput(out.toString()), new LocalBatchStore(out), workers, null);
            double sec = (System.nanoTime() - t0) / 1e9;
            assertEquals(64, s.generated());
            System.out.printf(Locale.ROOT, "BENCH in-process workers=%d: %.2f s, %.1f images/s, model load %d ms, mean generate %.1f ms%n",
                    workers, sec, 64 / sec, s.rows().get(0).modelLoadMillis(),
                    s.rows().stream().mapToLong(org.ldm4j.batch.BatchRow::generateMillis).average().orElse(0));
        }

        long t0 = System.nanoTime();
        SparkSession spark = SparkSession.builder().master("local[2]").appName("ldm4j-bench")
                .config("spark.ui.enabled", "false").config("spark.driver.host", "127.0.0.1")
                .config("spark.driver.bindAddress", "127.0.0.1").getOrCreate();
        System.out.printf(Locale.ROOT, "BENCH spark session start: %.2f s%n", (System.nanoTime() - t0) / 1e9);
        try {
            for (int run = 0; run < 2; run++) {
                for (int partitions : List.of(2, 8)) {
                    ModelCache.clear();
                    String out = dir.resolve("spark-" + run + "-" + partitions).toString();
                    long t1 = System.nanoTime();
                    SparkBatchJob.Result r = SparkBatchJob.run(spark, spec.withOutput(out), partitions);
                    double sec = (System.nanoTime() - t1) / 1e9;
                    assertEquals(64, r.generated());
                    Row stats = spark.read().parquet(r.index()).selectExpr("max(model_load_ms)", "avg(generate_ms)").first();
                    System.out.printf(Locale.ROOT, "BENCH spark local[2] run %d partitions=%d: %.2f s, %.1f images/s, model load %d ms, mean generate %.1f ms%n",
                            run, partitions, sec, 64 / sec, stats.getLong(0), stats.getDouble(1));
                }
            }
        } finally {
            spark.stop();
        }
    }
}
