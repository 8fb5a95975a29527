package org.ldm4j.batch;

import com.fasterxml.jackson.annotation.JsonCreator;
import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonValue;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.json.JsonMapper;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;

/**
 * A batch generation job, the same JSON for {@code ldm4j batch --spec FILE} (one process) and the Spark job:
 * <pre>{@code
 * {"model": "models/toyworld-ldm", "method": "txt2img",
 *  "prompts": ["a red house", "a blue boat"],            (or "promptFile": "prompts.txt", one per line, # comments)
 *  "parameters": {"steps": 25, "cfg": 5.0},              (fixed for every item)
 *  "grid": {"cfg": [3.0, 7.5], "scheduler": ["ddim", "euler"]},   (every combination, last key fastest)
 *  "seeds": {"first": 0, "count": 4},                    (per prompt and grid point; or a list: [1, 5, 9])
 *  "output": "out/batch-1",                              (a folder, or a Hadoop FileSystem URI for Spark)
 *  "threads": 1, "device": "cpu", "dtype": "fp32"}
 * }</pre>
 * Items are numbered prompt-major, then grid point, then seed ({@link #items()}); the spec and an item's index fully
 * determine that item's output, which is what lets a Spark job partition the indexes any way it likes.
 *
 * @param threads libtorch threads per worker; null = 1 in process, the task's CPUs ({@code spark.task.cpus}) on Spark
 * @param device  cpu, cuda, cuda:N, or auto (a GPU where the worker has one)
 */
@JsonInclude(JsonInclude.Include.NON_NULL)
public record BatchSpec(String model, String method, List<String> prompts, String promptFile,
                        Map<String, Object> parameters, Map<String, List<Object>> grid, Seeds seeds, String output,
                        Integer threads, String device, String dtype) {

    /** Methods a batch can run now; fgdm needs FG-DM weights and comes later. */
    public static final List<String> METHODS = List.of("txt2img", "img2img", "stroke2img", "edit");

    static final ObjectMapper JSON = JsonMapper.builder()
            .enable(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES)   // a typo in a key must not be silently ignored
            .build();

    /** The seeds of every prompt and grid point: {@code {"first": s, "count": n}} or a list of seeds. */
    public record Seeds(List<Long> values) {
        public Seeds {
            if (values == null || values.isEmpty()) throw new IllegalArgumentException("seeds: at least one seed is needed");
            values = List.copyOf(values);
        }

        public static Seeds range(long first, int count) {
            if (count < 1) throw new IllegalArgumentException("seeds.count must be >= 1, got " + count);
            List<Long> v = new ArrayList<>(count);
            for (int k = 0; k < count; k++) v.add(first + k);
            return new Seeds(v);
        }

        @JsonCreator
        static Seeds fromJson(JsonNode node) {
            if (node.isArray()) {
                List<Long> v = new ArrayList<>();
                for (JsonNode n : node) {
                    if (!n.canConvertToLong() || !n.isIntegralNumber()) throw new IllegalArgumentException("seeds: not an integer: " + n);
                    v.add(n.asLong());
                }
                return new Seeds(v);
            }
            if (node.isObject()) {
                for (var it = node.fieldNames(); it.hasNext(); ) {
                    String k = it.next();
                    if (!Set.of("first", "count").contains(k)) throw new IllegalArgumentException("seeds: unknown key '" + k + "' (expected first, count)");
                }
                return range(node.path("first").asLong(0), node.path("count").asInt(1));
            }
            if (node.isIntegralNumber()) return new Seeds(List.of(node.asLong()));
            throw new IllegalArgumentException("seeds must be {\"first\": s, \"count\": n} or a list of integers, got " + node);
        }

        @JsonValue
        List<Long> json() { return values; }
    }

    /** Reads and checks a spec file; every problem is an IllegalArgumentException naming the file. */
    public static BatchSpec read(Path file) throws IOException {
        return parse(Files.readString(file, StandardCharsets.UTF_8), file.toString());
    }

    /** Parses and checks spec JSON; {@code source} names it in errors. */
    public static BatchSpec parse(String json, String source) {
        try {
            return JSON.readValue(json, BatchSpec.class).validate();
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException(source + ": " + e.getMessage(), e);
        } catch (IOException e) {
            Throwable cause = e.getCause() instanceof IllegalArgumentException iae ? iae : e;
            String msg = cause.getMessage() == null ? cause.toString() : cause.getMessage().lines().findFirst().orElse("");
            throw new IllegalArgumentException(source + ": not a valid batch spec: " + msg, e);
        }
    }

    public String toJson() {
        try {
            return JSON.writeValueAsString(this);
        } catch (IOException e) {
            throw new IllegalStateException(e);
        }
    }

    public BatchSpec validate() {
        if (model == null || model.isBlank()) throw new IllegalArgumentException("model is missing");
        if (method == null) throw new IllegalArgumentException("method is missing (one of " + METHODS + ")");
        String m = method.toLowerCase(Locale.ROOT);
        if (m.equals("fgdm")) throw new IllegalArgumentException("method fgdm is not supported by batch jobs yet (needs FG-DM weights)");
        if (!METHODS.contains(m)) throw new IllegalArgumentException("unknown method '" + method + "' (expected one of " + METHODS + ")");
        if ((prompts == null) == (promptFile == null)) throw new IllegalArgumentException("give exactly one of prompts and promptFile");
        if (prompts != null && prompts.isEmpty()) throw new IllegalArgumentException("prompts is empty");
        if (seeds == null) throw new IllegalArgumentException("seeds is missing ({\"first\": 0, \"count\": 1} or a list)");
        if (output == null || output.isBlank()) throw new IllegalArgumentException("output is missing");
        if (threads != null && threads < 1) throw new IllegalArgumentException("threads must be >= 1, got " + threads);
        Map<String, Object> fixed = parameters == null ? Map.of() : parameters;
        Map<String, List<Object>> g = grid == null ? Map.of() : grid;
        for (String key : fixed.keySet()) MethodParameters.check(m, key);
        for (Map.Entry<String, List<Object>> e : g.entrySet()) {
            MethodParameters.check(m, e.getKey());
            if (e.getValue() == null || e.getValue().isEmpty()) throw new IllegalArgumentException("grid." + e.getKey() + " has no values");
            if (fixed.containsKey(e.getKey())) throw new IllegalArgumentException("'" + e.getKey() + "' is both in parameters and in grid");
        }
        return this;
    }

    public String methodName() { return method.toLowerCase(Locale.ROOT); }

    /**
     * The spec with {@link #promptFile} read into {@link #prompts}: what the Spark driver ships to executors, which
     * may not see the driver's files. A relative file is resolved against {@code baseDir} (null: the working
     * directory). Lines are stripped; blank lines and lines starting with # are skipped.
     */
    public BatchSpec resolvePrompts(Path baseDir) throws IOException {
        if (promptFile == null) return this;
        Path file = baseDir == null ? Path.of(promptFile) : baseDir.resolve(promptFile);
        return withPromptText(Files.readString(file, StandardCharsets.UTF_8), file.toString());
    }

    /** The spec with the prompts of a prompt file's text (read wherever it lies; {@code source} names it). */
    public BatchSpec withPromptText(String text, String source) {
        List<String> lines = new ArrayList<>();
        for (String line : text.split("\\R")) {
            String s = line.strip();
            if (!s.isEmpty() && !s.startsWith("#")) lines.add(s);
        }
        if (lines.isEmpty()) throw new IllegalArgumentException("prompt file " + source + " holds no prompt");
        return new BatchSpec(model, method, lines, null, parameters, grid, seeds, output, threads, device, dtype);
    }

    /** The same spec writing elsewhere (tests, reruns into a fresh folder). */
    public BatchSpec withOutput(String out) {
        return new BatchSpec(model, method, prompts, promptFile, parameters, grid, seeds, out, threads, device, dtype);
    }

    /** Every point of the grid, in order (the last key varies fastest); one empty point without a grid. */
    public List<Map<String, Object>> gridPoints() {
        List<Map<String, Object>> points = new ArrayList<>();
        points.add(new LinkedHashMap<>());
        if (grid != null) {
            for (Map.Entry<String, List<Object>> axis : grid.entrySet()) {
                List<Map<String, Object>> next = new ArrayList<>();
                for (Map<String, Object> p : points) {
                    for (Object v : axis.getValue()) {
                        Map<String, Object> q = new LinkedHashMap<>(p);
                        q.put(axis.getKey(), v);
                        next.add(q);
                    }
                }
                points = next;
            }
        }
        return points;
    }

    /** Number of items: prompts x grid points x seeds (prompts must be resolved). */
    public int itemCount() {
        requireResolved();
        long n = (long) prompts.size() * gridPoints().size() * seeds.values().size();
        if (n > Integer.MAX_VALUE) throw new IllegalArgumentException("too many items: " + n);
        return (int) n;
    }

    /** Item {@code index}, computed from the spec alone (prompt-major, then grid point, then seed). */
    public BatchItem item(int index) {
        requireResolved();
        List<Map<String, Object>> points = gridPoints();
        int perPrompt = points.size() * seeds.values().size();
        if (index < 0 || index >= prompts.size() * perPrompt) throw new IndexOutOfBoundsException("item " + index + " of " + itemCount());
        String prompt = prompts.get(index / perPrompt);
        int rest = index % perPrompt;
        Map<String, Object> params = new TreeMap<>();
        if (parameters != null) params.putAll(parameters);
        params.putAll(points.get(rest / seeds.values().size()));
        long seed = seeds.values().get(rest % seeds.values().size());
        return BatchItem.of(index, methodName(), model, prompt, seed, params);
    }

    /** All items in index order. */
    public List<BatchItem> items() {
        int n = itemCount();
        List<BatchItem> out = new ArrayList<>(n);
        for (int i = 0; i < n; i++) out.add(item(i));
        return out;
    }

    private void requireResolved() {
        if (prompts == null) throw new IllegalStateException("prompt file not read yet: call resolvePrompts first");
    }
}
