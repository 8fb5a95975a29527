package org.ldm4j.spark;

import org.apache.spark.SparkEnv;
import org.apache.spark.TaskContext;
import org.apache.spark.api.java.function.FlatMapFunction;
import org.apache.spark.resource.ResourceInformation;
import org.apache.spark.sql.Row;
import org.apache.spark.util.SerializableConfiguration;
import org.ldm4j.batch.BatchGenerator;
import org.ldm4j.batch.BatchSpec;
import org.ldm4j.batch.ModelCache;
import org.ldm4j.nn.Engine;

import java.io.IOException;
import java.net.InetAddress;
import java.util.Iterator;

/**
 * The executor side of {@link SparkBatchJob}: turns a partition of item indexes into index rows. The spec travels
 * as JSON (with its prompts resolved on the driver); the model comes from the executor JVM's {@link ModelCache},
 * so it is loaded once per executor (and GPU), not once per task. Rows are produced lazily, one item at a time.
 */
final class PartitionGenerator implements FlatMapFunction<Iterator<Integer>, Row> {
    private static final long serialVersionUID = 1L;

    private final String specJson;
    private final SerializableConfiguration hadoopConf;

    PartitionGenerator(String specJson, SerializableConfiguration hadoopConf) {
        this.specJson = specJson;
        this.hadoopConf = hadoopConf;
    }

    @Override
    public Iterator<Row> call(Iterator<Integer> indexes) throws IOException {
        BatchSpec spec = BatchSpec.parse(specJson, "batch spec");
        TaskContext task = TaskContext.get();
        // threads per task: the spec's, else the CPUs Spark reserved for the task (spark.task.cpus)
        Engine.threads(spec.threads() != null ? spec.threads() : task != null ? Math.max(1, task.cpus()) : 1);
        ModelCache.Key key = ModelCache.key(spec, gpuAddress(task));
        BatchGenerator generator = new BatchGenerator(() -> ModelCache.get(key),
                new HadoopBatchStore(spec.output(), hadoopConf.value()), workerName());
        return new Iterator<>() {
            @Override public boolean hasNext() { return indexes.hasNext(); }

            @Override public Row next() { return IndexSchema.toRow(generator.run(spec.item(indexes.next()))); }
        };
    }

    /** The GPU Spark's resource scheduling gave this task (spark.task.resource.gpu.amount), or null. */
    private static String gpuAddress(TaskContext task) {
        if (task == null) return null;
        ResourceInformation gpu = task.resourcesJMap().get("gpu");
        return gpu == null || gpu.addresses().length == 0 ? null : gpu.addresses()[0];
    }

    private static String workerName() {
        String executor = SparkEnv.get() != null ? SparkEnv.get().executorId() : "?";
        String host;
        try {
            host = InetAddress.getLocalHost().getHostName();
        } catch (IOException e) {
            host = "unknown-host";
        }
        return "executor-" + executor + "@" + host;
    }
}
