package org.ldm4j.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import me.tongfei.progressbar.ProgressBar;
import me.tongfei.progressbar.ProgressBarBuilder;
import me.tongfei.progressbar.ProgressBarStyle;
import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.InferenceMode;
import org.bytedeco.pytorch.Tensor;
import org.ldm4j.image.AtomicFiles;
import org.ldm4j.image.Images;
import org.ldm4j.image.Infotext;
import org.ldm4j.image.PngParameters;
import org.ldm4j.methods.fgdm.ClassMap;
import org.ldm4j.methods.fgdm.Factor;
import org.ldm4j.methods.fgdm.FactorGraph;
import org.ldm4j.methods.fgdm.FactorGraphRequest;
import org.ldm4j.methods.fgdm.FactorGraphResult;
import org.ldm4j.methods.fgdm.FactorGraphSampler;
import org.ldm4j.methods.fgdm.FactorSettings;
import org.ldm4j.methods.fgdm.FgdmFolder;
import org.ldm4j.methods.fgdm.FgdmManifest;
import org.ldm4j.methods.fgdm.Palette;
import org.ldm4j.train.toyworld.ToyWorldMaps;
import org.ldm4j.toyworld.DatasetWriter;
import org.ldm4j.toyworld.ToyWorld;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

import java.io.IOException;
import java.io.Writer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.Callable;

/**
 * {@code ldm4j fgdm dataset}: labelled-dataset generation with an FG-DM (paper sec. 1 / 9: synthetic (image, seg,
 * depth, ...) pairs for training downstream models), written in the ToyWorld dataset format ({@code DatasetWriter}):
 * {@code index.jsonl} (one object per tuple: seed, size, captions, objects, files), {@code <seed>_image.png},
 * {@code _seg.png} (palette colours), {@code _segidx.png} (grey = class index, 255 = unlabeled), {@code _depth.png},
 * {@code _sketch.png}, {@code _normals.png} (the maps the graph has, all at the image size), vocabulary.txt and
 * palette.json. Tuple i uses seed S + i and the caption of ToyWorld scene S + i as its prompt (ToyWorld's own
 * caption distribution). Resumable: a tuple whose index line and files exist is not generated again.
 */
@Command(name = "dataset", mixinStandardHelpOptions = true,
        description = "Generate N (image, segmentation, depth[, sketch], caption) tuples with an FG-DM, in the ToyWorld "
                + "dataset format (index.jsonl + PNGs); a rerun resumes, generating only the missing tuples.",
        footer = {"", "Examples:", "  ldm4j fgdm dataset --n 1000 --out synthetic",
                "  ldm4j fgdm dataset --n 1000 --out synthetic --seed 5000000 --model models/toyworld-fgdm"})
final class FgdmDatasetCommand implements Callable<Integer> {
    private static final ObjectMapper JSON = new ObjectMapper();

    @Option(names = "--n", required = true, description = "Number of tuples.")
    int n;
    @Option(names = "--out", required = true, description = "Dataset folder.")
    Path out;
    @Mixin FgdmModelOptions fgdm;
    @Option(names = "--seed", defaultValue = "0", description = "First seed: tuple i uses seed S + i and ToyWorld scene S + i's caption (default ${DEFAULT-VALUE}).")
    long seed;

    @Override
    public Integer call() throws IOException {
        if (n < 1) throw new Ldm4j.UsageError("--n must be >= 1, got " + n);
        if (seed < 0) throw new Ldm4j.UsageError("--seed must be >= 0, got " + seed);
        if (Files.exists(out) && !Files.isDirectory(out)) throw new Ldm4j.UsageError("--out " + out + " is a file, not a folder");
        FgdmFolder folder = fgdm.read();
        if (folder.manifest.factors().stream().noneMatch(e -> e.role() == Factor.Role.IMAGE)) {
            throw new Ldm4j.UsageError(folder.folder + " has no image factor: a dataset needs images");
        }
        Map<String, String> fileKeys = fileKeys(folder.manifest);
        Path index = out.resolve("index.jsonl");
        Map<Long, JsonNode> done = complete(index);
        List<Long> todo = new ArrayList<>();
        for (long s = seed; s < seed + n; s++) if (!done.containsKey(s)) todo.add(s);
        // the model loads before anything is written: one that cannot (a missing base model, bad weights) leaves no folder behind
        Palette palette = ToyWorldMaps.palette();
        FactorGraph graph = todo.isEmpty() ? null : fgdm.load(folder, palette);
        Files.createDirectories(out);
        // rewrite the index with the complete entries only (a crash may have left a torn line or a tuple's files half written)
        StringBuilder kept = new StringBuilder();
        for (JsonNode e : done.values()) kept.append(JSON.writeValueAsString(e)).append('\n');
        AtomicFiles.write(index, kept.toString().getBytes(StandardCharsets.UTF_8));
        DatasetWriter.writeMetadata(out);   // vocabulary.txt and palette.json, as ToyWorld's own datasets
        if (todo.isEmpty()) {
            System.out.println("fgdm dataset: all " + n + " tuples already in " + out.toAbsolutePath());
            return 0;
        }

        Factor image = graph.factor(graph.imageFactors().get(0));
        long start = System.nanoTime();
        try (InferenceMode ignored = new InferenceMode();
             Writer lines = Files.newBufferedWriter(index, StandardCharsets.UTF_8, StandardOpenOption.APPEND);
             ProgressBar bar = new ProgressBarBuilder().setTaskName("fgdm dataset").setInitialMax(todo.size())
                     .setStyle(ProgressBarStyle.ASCII).setUnit(" tuples", 1).showSpeed().continuousUpdate().build()) {
            for (long s : todo) {
                try (PointerScope scope = new PointerScope()) {
                    ObjectNode entry = tuple(graph, folder, fileKeys, image, palette, s);
                    lines.write(JSON.writeValueAsString(entry));
                    lines.write('\n');
                    lines.flush();   // the tuple's files are in place: its line may now appear
                }
                bar.step();
            }
        }
        double seconds = (System.nanoTime() - start) / 1e9;
        System.out.println(String.format(Locale.ROOT, "fgdm dataset: wrote %d tuples (%d already there) to %s in %.1f s: %.2f tuples/s, %.2f s per tuple",
                todo.size(), n - todo.size(), out.toAbsolutePath(), seconds, todo.size() / seconds, seconds / todo.size()));
        return 0;
    }

    /** Generates and writes one tuple; returns its index entry. */
    private ObjectNode tuple(FactorGraph graph, FgdmFolder folder, Map<String, String> fileKeys, Factor image, Palette palette, long s)
            throws IOException {
        String caption = ToyWorld.sample(s).caption();
        FactorGraphResult r = FactorGraphSampler.run(graph, FactorGraphRequest.of(caption, s, FactorGraphRequest.Mode.SEQUENTIAL), null, null);
        FactorSettings is = image.settings();
        int w = is.width(), h = is.height();
        String stem = String.format("%07d", s);
        Map<String, String> files = new LinkedHashMap<>();
        Tensor picture = r.decoded(image.name());
        Infotext info = Infotext.of(caption, is.negativePrompt(), is.steps(), "DDIM", is.guidanceScale(), graph.factorSeed(image.name(), s), w, h,
                folder.folder.getFileName().toString());
        ObjectNode request = JSON.createObjectNode().put("mode", "fgdm-dataset").put("model", folder.folder.toString())
                .put("prompt", caption).put("seed", s);
        files.put("image", stem + "_image.png");
        PngParameters.write(out.resolve(files.get("image")), Images.toImage(picture), info, request);
        ClassMap classes = null;
        for (Map.Entry<String, String> e : fileKeys.entrySet()) {
            FgdmManifest.MapKind kind = folder.manifest.factor(e.getKey()).map();
            Tensor decoded = r.decoded(e.getKey());
            String name = stem + "_" + e.getValue() + ".png";
            Images.writePng(FgdmSupport.draw(kind, decoded, palette, w, h), out.resolve(name));
            files.put(e.getValue(), name);
            if (kind == FgdmManifest.MapKind.SEGMENTATION && classes == null) {
                classes = FgdmSupport.classes(decoded, palette).resizeNearest(w, h);
                String idx = stem + "_" + e.getValue() + "idx.png";
                Images.writePng(classes.toLabelImage(), out.resolve(idx));
                files.put(e.getValue() + "idx", idx);
            }
        }
        ObjectNode entry = JSON.createObjectNode();
        entry.put("seed", s);
        entry.put("width", w);
        entry.put("height", h);
        entry.put("generator", "fgdm");
        entry.put("model", folder.folder.toString());
        entry.putArray("captions").add(caption);
        ArrayNode objects = entry.putArray("objects");
        if (classes != null) {
            for (Map.Entry<Integer, Integer> a : new TreeMap<>(classes.areas()).entrySet()) {
                if (a.getKey() == ClassMap.UNLABELED || !palette.isObject(a.getKey())) continue;
                objects.addObject().put("class", palette.name(a.getKey())).put("class_index", a.getKey()).put("pixels", a.getValue());
            }
        }
        ObjectNode f = entry.putObject("files");
        files.forEach(f::put);
        return entry;
    }

    private static String firstLine(IOException e) {
        String m = e instanceof com.fasterxml.jackson.core.JsonProcessingException j ? j.getOriginalMessage() : e.getMessage();
        return m == null ? e.getClass().getSimpleName() : m.lines().findFirst().orElse("");
    }

    /** Condition factor -> file key: ToyWorld's names (seg, depth, sketch, normals); a second factor of a kind by its name. */
    static Map<String, String> fileKeys(FgdmManifest manifest) {
        Map<String, String> out = new LinkedHashMap<>();
        for (FgdmManifest.Entry e : manifest.factors()) {
            if (e.role() != Factor.Role.CONDITION) continue;
            String key = switch (e.map()) {
                case SEGMENTATION -> "seg";
                case DEPTH -> "depth";
                case SKETCH -> "sketch";
                case NORMAL -> "normals";
            };
            if (out.containsValue(key)) key = e.name();
            out.put(e.name(), key);
        }
        return out;
    }

    /**
     * Entries of the index whose files all exist, by seed. Lines are appended once a tuple's files are in place, so a
     * crash can only tear the last line: a last line that does not parse is dropped with a warning (its tuple is
     * generated again). Any other line that is not an index entry is a usage error naming the file and line.
     */
    static Map<Long, JsonNode> complete(Path index) throws IOException {
        Map<Long, JsonNode> out = new TreeMap<>();
        if (!Files.isRegularFile(index)) return out;
        Path dir = index.getParent();
        // not readAllLines: a torn multi-byte character must not make the whole index unreadable
        List<String> lines = new String(Files.readAllBytes(index), StandardCharsets.UTF_8).lines().toList();
        int last = lines.size();
        while (last > 0 && lines.get(last - 1).isBlank()) last--;
        for (int i = 0; i < last; i++) {
            String line = lines.get(i);
            if (line.isBlank()) continue;
            JsonNode e;
            try {
                e = JSON.readTree(line);
            } catch (IOException torn) {
                if (i == last - 1) {
                    System.err.println("ldm4j: warning: " + index + ": line " + (i + 1) + " is torn (an interrupted run?): "
                            + "dropped, its tuple is generated again");
                    continue;
                }
                throw new Ldm4j.UsageError(index + ": line " + (i + 1) + " is not valid JSON (" + firstLine(torn)
                        + "): repair or delete the line, and its tuple is generated again");
            }
            if (e == null || !e.path("seed").canConvertToLong() || !e.path("files").isObject() || e.path("files").isEmpty()) {
                throw new Ldm4j.UsageError(index + ": line " + (i + 1) + " is not a dataset entry (it needs a \"seed\" and "
                        + "\"files\"): repair or delete the line, and its tuple is generated again");
            }
            boolean all = true;
            for (JsonNode file : e.path("files")) all &= Files.isRegularFile(dir.resolve(file.asText()));
            if (all) out.put(e.path("seed").asLong(), e);
        }
        return out;
    }
}
