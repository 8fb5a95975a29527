package org.ldm4j.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.ldm4j.nn.Engine;
import org.ldm4j.train.LrSchedule;
import org.ldm4j.train.Trainer;
import picocli.CommandLine.Option;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Locale;

/** The options and set-up every {@code ldm4j train ...} recipe shares: config file, run folder, stop step, threads. */
final class TrainRun {
    @Option(names = "--config", required = true, description = "Training config (JSON, under configs/train/).") Path config;
    @Option(names = "--run", required = true, description = "Run folder (checkpoints, metrics.jsonl); resumed if it has a checkpoint.") Path run;
    @Option(names = "--until", description = "Stop at this step (default: the config's total).") Long until;
    @Option(names = "--threads", defaultValue = "1", description = "libtorch threads (default ${DEFAULT-VALUE}).") int threads;

    /**
     * Sets the threads and reads the config, requiring the given top-level objects and refusing any key that neither
     * the trainer ({@link Trainer.Options#CONFIG_KEYS}) nor the recipe ({@code recipeKeys}) reads, so a misspelt key is
     * an error naming it instead of a silent default; keys starting with '_' are comments. Bad files are usage errors.
     */
    JsonNode start(java.util.Set<String> recipeKeys, String... requiredObjects) throws IOException {
        JsonNode c = start();
        requireKnownKeys(c, recipeKeys, config.toString());   // first: a misspelt required object is named as such
        requireObjects(c, requiredObjects);
        return c;
    }

    /** Every top-level key of {@code c} is a trainer or recipe key (or a '_' comment); else a usage error naming it. */
    static void requireKnownKeys(JsonNode c, java.util.Set<String> recipeKeys, String source) {
        java.util.Set<String> known = new java.util.TreeSet<>(Trainer.Options.CONFIG_KEYS);
        known.addAll(recipeKeys);
        for (java.util.Iterator<String> it = c.fieldNames(); it.hasNext(); ) {
            String key = it.next();
            if (!key.startsWith("_") && !known.contains(key)) {
                throw new Ldm4j.UsageError(source + ": unknown key '" + key + "' (known: " + String.join(", ", known) + ")");
            }
        }
    }

    /**
     * Sets the threads and reads the config, requiring the given top-level objects; bad files are usage errors. For a
     * recipe whose settings check their own keys (FG-DM's {@code FgdmTrainingSettings}).
     */
    JsonNode start(String... requiredObjects) throws IOException {
        Engine.threads(threads);
        if (!Files.isRegularFile(config)) throw new Ldm4j.UsageError("no such config file: " + config);
        JsonNode c;
        try {
            c = new ObjectMapper().readTree(Files.readString(config));
        } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
            throw new Ldm4j.UsageError(config + ": not valid JSON: " + e.getOriginalMessage());
        }
        requireObjects(c, requiredObjects);
        if (!c.path("steps").canConvertToLong() || !c.path("lr").isNumber()) {
            throw new Ldm4j.UsageError(config + ": 'steps' and 'lr' are required numbers");
        }
        checkValues(c, config.toString());
        return c;
    }

    /** The shared keys' values: steps and sizes whole numbers >= 1 (warm-up >= 0), lr finite and > 0. */
    static void checkValues(JsonNode c, String source) {
        if (c.path("steps").asLong() < 1) throw new Ldm4j.UsageError(source + ": steps must be >= 1, got " + c.get("steps"));
        double lr = c.path("lr").asDouble();
        if (!(lr > 0) || Double.isInfinite(lr)) throw new Ldm4j.UsageError(source + ": lr must be a finite number > 0, got " + c.get("lr"));
        for (String key : new String[]{"batch_size", "size", "warmup_steps", "checkpoint_every", "log_every"}) {
            JsonNode v = c.get(key);
            boolean zeroOk = key.equals("warmup_steps");
            if (v != null && (!v.canConvertToInt() || !v.isIntegralNumber() || v.asInt() < (zeroOk ? 0 : 1))) {
                throw new Ldm4j.UsageError(source + ": " + key + " must be a whole number >= " + (zeroOk ? 0 : 1) + ", got " + v);
            }
        }
    }

    private void requireObjects(JsonNode c, String... keys) {
        for (String key : keys) {
            if (!c.path(key).isObject()) throw new Ldm4j.UsageError(config + ": missing object '" + key + "'");
        }
    }

    /** The trainer's settings from the config's shared keys (steps, lr, warm-up, cosine, clipping, EMA, cadence, seed). */
    Trainer.Options options(JsonNode c) {
        long total = c.get("steps").asLong();
        return new Trainer.Options(total,
                new LrSchedule(c.get("lr").asDouble(), c.path("warmup_steps").asInt(0), (int) total,
                        c.path("cosine").asBoolean(true), c.path("min_lr_factor").asDouble(0.0)),
                c.path("clip_norm").asDouble(1.0), c.path("ema_decay").asDouble(0.999), c.path("weight_decay").asDouble(0),
                c.path("checkpoint_every").asInt(100), c.path("log_every").asInt(20), c.path("seed").asLong(0), run);
    }

    long lastStep(JsonNode c) { return until != null ? until : c.get("steps").asLong(); }

    /**
     * A training command's closing line: the step reached and the last logged mean loss. A run resumed at its last
     * step (or stopped before its first log window) logs none, which the line says instead of printing "loss NaN".
     */
    static String closingLine(long step, double loss) {
        return Double.isNaN(loss)
                ? String.format(Locale.ROOT, "step %d (no loss logged by this run: it resumed at or near its last step)", step)
                : String.format(Locale.ROOT, "step %d, loss %.5f", step, loss);
    }
}
