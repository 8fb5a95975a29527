package org.ldm4j.cli;

import org.ldm4j.batch.BatchRow;
import org.ldm4j.batch.BatchRunner;
import org.ldm4j.batch.BatchSpec;
import org.ldm4j.batch.LocalBatchStore;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Locale;
import java.util.concurrent.Callable;
import java.util.concurrent.atomic.AtomicInteger;

@Command(name = "batch", mixinStandardHelpOptions = true,
        description = "Generate a dataset from a JSON job spec in this process (the same spec runs on Spark: module ldm4j-spark).",
        footer = {"", "Writes OUTPUT/images/<id>.png, OUTPUT/rows/<id>.json and OUTPUT/index.jsonl. A rerun skips items",
                "already done; failed items are reported per item (exit code 1 if any failed). See docs/spark.md for the spec.",
                "", "Examples:",
                "  ldm4j batch --spec job.json",
                "  ldm4j batch --spec job.json --workers 2 --out /data/run2"})
final class BatchCommand implements Callable<Integer> {
    @Option(names = "--spec", required = true, description = "The job spec (JSON).")
    Path spec;

    @Option(names = "--workers", defaultValue = "1", description = "Items generated at once, sharing the model (default ${DEFAULT-VALUE}).")
    int workers;

    @Option(names = {"-o", "--out"}, description = "Output folder, overriding the spec's output.")
    Path out;

    @Override
    public Integer call() throws Exception {
        Ldm4j.requireFile("spec", spec);
        if (workers < 1) throw new Ldm4j.UsageError("--workers must be >= 1, got " + workers);
        BatchSpec s;
        try {
            s = BatchSpec.read(spec);
            if (out != null) s = s.withOutput(out.toString());
            s = s.resolvePrompts(null);
        } catch (IOException e) {
            throw new Ldm4j.UsageError("cannot read " + spec + ": " + e.getMessage());
        }
        String output = s.output();
        if (output.contains("://") && !output.startsWith("file:")) {
            throw new Ldm4j.UsageError("output " + output + " is not a local folder: run this spec with the Spark job (docs/spark.md)");
        }
        Path root = output.startsWith("file:") ? Path.of(URI.create(output)) : Path.of(output);
        int total = s.itemCount();
        AtomicInteger done = new AtomicInteger();
        BatchRunner.Summary summary;
        try {
            summary = BatchRunner.run(s, new LocalBatchStore(root), workers, row -> {
                int n = done.incrementAndGet();
                String what = !row.ok() ? "FAILED " + row.error() : row.reused() ? "exists" : row.generateMillis() + " ms";
                System.out.printf(Locale.ROOT, "[%d/%d] %s %s%n", n, total, row.id(), what);
            });
        } catch (UncheckedIOException e) {
            throw new Ldm4j.UsageError(e.getMessage());
        }
        System.out.printf(Locale.ROOT, "%d items: %d generated, %d already done, %d failed in %.1f s; index %s%n",
                summary.rows().size(), summary.generated(), summary.reused(), summary.failed(), summary.seconds(),
                root.resolve(BatchRunner.INDEX));
        for (BatchRow r : summary.rows()) if (!r.ok()) System.err.println("ldm4j: item " + r.id() + " failed: " + r.error());
        return summary.failed() > 0 ? 1 : 0;
    }
}
