package org.ldm4j.train.toyworld;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import org.bytedeco.pytorch.NoGradGuard;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch;
import org.ldm4j.image.AtomicFiles;
import org.ldm4j.models.controlnet.ControlNetModel;
import org.ldm4j.nn.Block;
import org.ldm4j.nn.Param;
import org.ldm4j.weights.SafetensorsWriter;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;

/**
 * Writes trained factors into an FG-DM folder ({@code models/toyworld-fgdm/}, the lead's FG-DM folder spec):
 * {@code seg/adapter.safetensors} and {@code depth/adapter.safetensors} hold the adapter tensors alone under the names
 * {@code AdapterLoader.loadFgdm} reads ({@code conv_in.weight}, {@code body.N...}); {@code image/} is a diffusers
 * ControlNetModel folder for {@code ControlNetLoader.load}; {@code fgdm.json} lists the factors. All weights fp16, all
 * files written atomically. Exporting one factor adds or replaces its entry and keeps the others, in parents-first
 * order.
 */
public final class FgdmFolder {
    public static final String MANIFEST = "fgdm.json";
    public static final String CLASS_NAME = "FactorGraph";
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final Set<String> TOP_KEYS = Set.of("_class_name", "base_model", "factors");
    private static final Set<String> FACTOR_KEYS = Set.of("name", "role", "map", "parents", "conditioning", "weights", "scale",
            "width", "height", "steps", "guidance_scale");

    private FgdmFolder() {}

    /**
     * Exports a trained branch (its current weights; copy the EMA in first) and updates fgdm.json.
     *
     * @param baseModel the frozen base model's folder, written relative to {@code folder} when both are relative to
     *                  the same place
     */
    public static void export(Path folder, FgdmTrainingSettings settings, Block branch, Path baseModel, Map<String, String> metadata)
            throws IOException {
        FgdmFactorKind kind = settings.kind();
        Files.createDirectories(folder);
        Map<String, Tensor> half = new LinkedHashMap<>();
        try (NoGradGuard g = new NoGradGuard()) {
            for (Map.Entry<String, Param> e : branch.namedParameters().entrySet()) {
                half.put(e.getKey(), e.getValue().t().detach().to(torch.ScalarType.Half).contiguous());
            }
        }
        Map<String, String> meta = new LinkedHashMap<>(metadata);
        meta.put("format", "pt");
        meta.put("fgdm_factor", kind.id());
        if (kind == FgdmFactorKind.IMAGE) {
            Path dir = folder.resolve(kind.weights());
            Files.createDirectories(dir);
            AtomicFiles.write(dir.resolve("config.json"), ((ControlNetModel) branch).config.toJson().getBytes(StandardCharsets.UTF_8));
            SafetensorsWriter.write(dir.resolve("diffusion_pytorch_model.safetensors"), half, meta);
        } else {
            Path file = folder.resolve(kind.weights());
            Files.createDirectories(file.getParent());
            SafetensorsWriter.write(file, half, meta);
        }
        putFactor(folder, entry(settings), baseModel);
    }

    /** The fgdm.json entry of a trained factor. */
    public static ObjectNode entry(FgdmTrainingSettings s) {
        FgdmFactorKind kind = s.kind();
        ObjectNode e = JSON.createObjectNode();
        e.put("name", kind.id()).put("role", kind.role());
        if (kind.map() != null) e.put("map", kind.map());
        ArrayNode parents = e.putArray("parents");
        kind.parents().forEach(parents::add);
        e.put("conditioning", kind.conditioning()).put("weights", kind.weights()).put("scale", 1.0)
                .put("width", s.factorSize()).put("height", s.factorSize())
                .put("steps", s.sampleSteps()).put("guidance_scale", s.sampleGuidance());
        return e;
    }

    /** fgdm.json of {@code folder}, checked (unknown keys name the key and the file); an empty manifest if there is none. */
    public static ObjectNode read(Path folder) throws IOException {
        Path file = folder.resolve(MANIFEST);
        if (!Files.isRegularFile(file)) {
            ObjectNode empty = JSON.createObjectNode();
            empty.put("_class_name", CLASS_NAME);
            empty.putArray("factors");
            return empty;
        }
        JsonNode n;
        try {
            n = JSON.readTree(Files.readString(file));
        } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
            throw new IllegalArgumentException(file + ": not valid JSON: " + e.getOriginalMessage());
        }
        if (!(n instanceof ObjectNode obj)) throw new IllegalArgumentException(file + ": not a JSON object");
        requireKnown(obj, TOP_KEYS, file + "");
        if (!obj.path("_class_name").asText(CLASS_NAME).equals(CLASS_NAME)) {
            throw new IllegalArgumentException(file + ": _class_name is '" + obj.get("_class_name").asText() + "', not " + CLASS_NAME);
        }
        if (!obj.path("factors").isArray()) throw new IllegalArgumentException(file + ": 'factors' must be a list");
        Set<String> names = new HashSet<>();
        for (JsonNode f : obj.get("factors")) {
            if (!f.isObject() || !f.path("name").isTextual()) throw new IllegalArgumentException(file + ": every factor needs a 'name'");
            requireKnown(f, FACTOR_KEYS, file + " factor '" + f.get("name").asText() + "'");
            if (!names.add(f.get("name").asText())) throw new IllegalArgumentException(file + ": factor '" + f.get("name").asText() + "' is listed twice");
        }
        return obj;
    }

    /** Adds or replaces {@code entry} (by name) in fgdm.json, keeping the other factors, parents listed first. */
    public static void putFactor(Path folder, ObjectNode entry, Path baseModel) throws IOException {
        ObjectNode manifest = read(folder);
        String base = relativeBase(folder, baseModel);
        if (manifest.hasNonNull("base_model")) {
            Path had = folder.resolve(manifest.get("base_model").asText()).toAbsolutePath().normalize();
            if (!had.equals(folder.resolve(base).toAbsolutePath().normalize())) {
                throw new IllegalArgumentException(folder.resolve(MANIFEST) + ": its factors were trained on base_model " + had
                        + ", not " + baseModel.toAbsolutePath().normalize() + " (use another FG-DM folder)");
            }
        }
        List<JsonNode> factors = new ArrayList<>();
        boolean replaced = false;
        for (JsonNode f : manifest.get("factors")) {
            if (f.get("name").asText().equals(entry.get("name").asText())) {
                factors.add(entry);
                replaced = true;
            } else {
                factors.add(f);
            }
        }
        if (!replaced) factors.add(entry);
        ObjectNode out = JSON.createObjectNode();
        out.put("_class_name", CLASS_NAME);
        out.put("base_model", base);
        ArrayNode list = out.putArray("factors");
        parentsFirst(factors).forEach(list::add);
        AtomicFiles.write(folder.resolve(MANIFEST), JSON.writerWithDefaultPrettyPrinter().writeValueAsBytes(out));
    }

    /** Stable topological order: a factor after every listed parent present in the list (absent parents are ignored). */
    static List<JsonNode> parentsFirst(List<JsonNode> factors) {
        Set<String> present = new HashSet<>();
        factors.forEach(f -> present.add(f.get("name").asText()));
        List<JsonNode> out = new ArrayList<>(), pending = new ArrayList<>(factors);
        Set<String> placed = new HashSet<>();
        while (!pending.isEmpty()) {
            boolean progress = false;
            for (Iterator<JsonNode> it = pending.iterator(); it.hasNext(); ) {
                JsonNode f = it.next();
                boolean ready = true;
                for (JsonNode p : f.path("parents")) if (present.contains(p.asText()) && !placed.contains(p.asText())) ready = false;
                if (ready) {
                    out.add(f);
                    placed.add(f.get("name").asText());
                    it.remove();
                    progress = true;
                    break;   // restart from the front so the original order wins among ready factors
                }
            }
            if (!progress) throw new IllegalArgumentException("fgdm.json factors form a cycle: " + pending.stream().map(f -> f.get("name").asText()).toList());
        }
        return out;
    }

    private static String relativeBase(Path folder, Path baseModel) {
        Path f = folder.toAbsolutePath().normalize(), b = baseModel.toAbsolutePath().normalize();
        try {
            return f.relativize(b).toString().replace('\\', '/');
        } catch (IllegalArgumentException differentRoots) {
            return b.toString();
        }
    }

    private static void requireKnown(JsonNode node, Set<String> known, String where) {
        for (Iterator<String> it = node.fieldNames(); it.hasNext(); ) {
            String key = it.next();
            if (!known.contains(key)) {
                throw new IllegalArgumentException(where + ": unknown key '" + key + "' (known: " + String.join(", ", new TreeSet<>(known)) + ")");
            }
        }
    }
}
