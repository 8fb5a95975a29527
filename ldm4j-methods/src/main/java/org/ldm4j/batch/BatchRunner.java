package org.ldm4j.batch;

import org.ldm4j.nn.Engine;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.function.Consumer;

/**
 * Runs a whole {@link BatchSpec} in this process ({@code ldm4j batch}): the model once, then every item, by
 * {@code workers} threads sharing it, then the index {@code index.jsonl} (one {@link BatchRow} per line, in item
 * order). Produces the same images as the Spark job, byte for byte.
 */
public final class BatchRunner {
    public static final String INDEX = "index.jsonl";

    private BatchRunner() {}

    /** What a run did. */
    public record Summary(List<BatchRow> rows, int generated, int reused, int failed, double seconds) {
        static Summary of(List<BatchRow> rows, double seconds) {
            int reused = (int) rows.stream().filter(BatchRow::reused).count();
            int failed = (int) rows.stream().filter(r -> !r.ok()).count();
            return new Summary(rows, rows.size() - reused - failed, reused, failed, seconds);
        }
    }

    /**
     * @param spec     a spec with its prompts resolved ({@link BatchSpec#resolvePrompts})
     * @param workers  items generated at once (each with {@code spec.threads} libtorch threads)
     * @param progress told of each row as it is done (any thread), or null
     */
    public static Summary run(BatchSpec spec, BatchStore store, int workers, Consumer<BatchRow> progress)
            throws IOException, InterruptedException {
        if (workers < 1) throw new IllegalArgumentException("workers must be >= 1, got " + workers);
        long t0 = System.nanoTime();
        Engine.threads(spec.threads() != null ? spec.threads() : 1);
        store.sweepTemporaries();
        ModelCache.Key key = ModelCache.key(spec, null);
        BatchGenerator generator = new BatchGenerator(() -> ModelCache.get(key), store, "local");
        List<BatchItem> items = spec.items();
        List<BatchRow> rows = new ArrayList<>(items.size());
        if (workers == 1) {
            for (BatchItem item : items) rows.add(report(generator.run(item), progress));
        } else {
            ExecutorService pool = Executors.newFixedThreadPool(workers, r -> {
                Thread t = new Thread(r);
                t.setDaemon(true);
                return t;
            });
            try {
                List<Future<BatchRow>> futures = new ArrayList<>();
                for (BatchItem item : items) futures.add(pool.submit(() -> report(generator.run(item), progress)));
                for (Future<BatchRow> f : futures) rows.add(f.get());
            } catch (ExecutionException e) {
                if (e.getCause() instanceof RuntimeException re) throw re;
                if (e.getCause() instanceof Error err) throw err;
                throw new IllegalStateException(e.getCause());
            } finally {
                pool.shutdownNow();
            }
        }
        store.write(INDEX, jsonLines(rows));
        return Summary.of(rows, (System.nanoTime() - t0) / 1e9);
    }

    private static BatchRow report(BatchRow row, Consumer<BatchRow> progress) {
        if (progress != null) progress.accept(row);
        return row;
    }

    static byte[] jsonLines(List<BatchRow> rows) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        for (BatchRow r : rows) {
            out.writeBytes(r.toJson());
            out.write('\n');
        }
        return out.toByteArray();
    }
}
