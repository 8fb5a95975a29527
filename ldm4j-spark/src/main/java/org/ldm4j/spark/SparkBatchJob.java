package org.ldm4j.spark;

import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.FSDataInputStream;
import org.apache.hadoop.fs.Path;
import org.apache.spark.api.java.JavaRDD;
import org.apache.spark.api.java.JavaSparkContext;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SaveMode;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.util.SerializableConfiguration;
import org.ldm4j.batch.BatchSpec;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

import static org.apache.spark.sql.functions.col;

/**
 * A batch spec ({@link BatchSpec}, the same JSON as {@code ldm4j batch}) as a Spark job: the item indexes are
 * partitioned, each partition generates its items on an executor ({@link PartitionGenerator}: the model loaded once
 * per executor JVM, each image written atomically beside its JSON row), and the index is written as Parquet,
 * one row per sample ({@link IndexSchema}). Outputs may be on any Hadoop FileSystem.
 *
 * <p>Since an item's output depends only on the spec and its index, the images are byte-identical to the
 * in-process run's whatever the partitioning; a rerun skips the items already done.
 *
 * <pre>spark-submit --class org.ldm4j.spark.SparkBatchJob --jars LIBS ldm4j-spark.jar --spec job.json [--partitions N] [--out URI]</pre>
 */
public final class SparkBatchJob {
    public static final String INDEX = "index.parquet";

    private SparkBatchJob() {}

    /** What a run did, counted from the index it wrote. */
    public record Result(String index, long items, long generated, long reused, long failed, double seconds) {}

    public static void main(String[] args) throws IOException {
        String specPath = null, out = null;
        int partitions = 0;
        for (int i = 0; i < args.length; i++) {
            switch (args[i]) {
                case "--spec" -> specPath = value(args, ++i);
                case "--out" -> out = value(args, ++i);
                case "--partitions" -> partitions = Integer.parseInt(value(args, ++i));
                default -> usage("unknown argument " + args[i]);
            }
        }
        if (specPath == null) usage("--spec is required");
        SparkSession spark = SparkSession.builder().appName("ldm4j batch").getOrCreate();
        Result r;
        try {
            BatchSpec spec = readSpec(specPath, spark.sparkContext().hadoopConfiguration());
            if (out != null) spec = spec.withOutput(out);
            r = run(spark, spec, partitions);
        } finally {
            spark.stop();
        }
        System.out.printf(Locale.ROOT, "%d items: %d generated, %d already done, %d failed in %.1f s; index %s%n",
                r.items(), r.generated(), r.reused(), r.failed(), r.seconds(), r.index());
        if (r.failed() > 0) System.exit(1);
    }

    /** Reads a spec from a local path or any Hadoop URI; a prompt file is read the same way, here on the driver. */
    public static BatchSpec readSpec(String location, Configuration conf) throws IOException {
        BatchSpec spec = BatchSpec.parse(readText(location, conf), location);
        return spec.promptFile() == null ? spec : spec.withPromptText(readText(spec.promptFile(), conf), spec.promptFile());
    }

    /**
     * Runs the spec (prompts resolved) on {@code spark}.
     * @param partitions number of partitions, 0 = the context's default parallelism (at most one per item)
     */
    public static Result run(SparkSession spark, BatchSpec spec, int partitions) throws IOException {
        long t0 = System.nanoTime();
        spec.validate();
        int n = spec.itemCount();
        Configuration conf = spark.sparkContext().hadoopConfiguration();
        HadoopBatchStore store = new HadoopBatchStore(spec.output(), conf);
        store.sweepTemporaries();   // what killed tasks of an earlier run left behind
        int p = Math.max(1, Math.min(n, partitions > 0 ? partitions : spark.sparkContext().defaultParallelism()));
        List<Integer> indexes = new ArrayList<>(n);
        for (int i = 0; i < n; i++) indexes.add(i);
        JavaRDD<Row> rows = JavaSparkContext.fromSparkContext(spark.sparkContext())
                .parallelize(indexes, p)
                .mapPartitions(new PartitionGenerator(spec.toJson(), new SerializableConfiguration(conf)));
        String index = store.location(INDEX);
        // partitions are contiguous index ranges, so the part files hold the rows in item order
        spark.createDataFrame(rows, IndexSchema.SCHEMA).write().mode(SaveMode.Overwrite).parquet(index);
        Dataset<Row> written = spark.read().parquet(index);
        long items = written.count();
        long failed = written.filter(col("status").notEqual("ok")).count();
        long reused = written.filter(col("reused")).count();
        return new Result(index, items, items - failed - reused, reused, failed, (System.nanoTime() - t0) / 1e9);
    }

    private static String readText(String location, Configuration conf) throws IOException {
        Path path = new Path(location);
        try (FSDataInputStream in = path.getFileSystem(conf).open(path)) {
            return new String(in.readAllBytes(), StandardCharsets.UTF_8);
        }
    }

    private static String value(String[] args, int i) {
        if (i >= args.length) usage(args[i - 1] + " needs a value");
        return args[i];
    }

    private static void usage(String problem) {
        System.err.println("ldm4j-spark: " + problem);
        System.err.println("usage: spark-submit --class org.ldm4j.spark.SparkBatchJob [spark options] ldm4j-spark.jar --spec FILE [--partitions N] [--out URI]");
        System.exit(2);
    }
}
