package org.ldm4j.weights;

import com.fasterxml.jackson.core.JacksonException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.json.JsonMapper;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * A diffusers pipeline folder ({@code DiffusionPipeline.save_pretrained} layout): {@code model_index.json} naming
 * the components, one sub-folder per component with its {@code config.json} (or {@code scheduler_config.json},
 * {@code tokenizer_config.json}) and weights.
 *
 * <p>Weights are looked up as diffusers does ({@code modeling_utils}, {@code _add_variant}):
 * {@code diffusion_pytorch_model[.variant].safetensors} or {@code model[.variant].safetensors}, else the sharded
 * {@code ...safetensors.index[.variant].json} whose {@code weight_map} names the shard of every tensor; failing those,
 * the PyTorch files {@code diffusion_pytorch_model[.variant].bin} / {@code pytorch_model[.variant].bin} (or their
 * {@code .bin.index.json}), read by {@link TorchCheckpoint} as weights only, never executing the pickle.
 * A VAE saved with pre-0.14 attention names ({@code query/key/value/proj_attn}) is presented under today's names.
 */
public final class DiffusersFolder {
    private static final JsonMapper JSON = new JsonMapper();
    private static final List<String> WEIGHT_STEMS = List.of("diffusion_pytorch_model", "model");
    private static final List<String> PICKLE_STEMS = List.of("diffusion_pytorch_model", "pytorch_model");
    private static final List<String> CONFIG_NAMES =
            List.of("config.json", "scheduler_config.json", "tokenizer_config.json", "preprocessor_config.json");

    private final Path root;
    private final JsonNode modelIndex;

    private DiffusersFolder(Path root, JsonNode modelIndex) {
        this.root = root;
        this.modelIndex = modelIndex;
    }

    public static DiffusersFolder open(Path root) throws IOException {
        Path index = root.resolve("model_index.json");
        if (!Files.isDirectory(root)) throw new WeightFormatException(root + " is not a directory");
        if (!Files.isRegularFile(index)) {
            throw new WeightFormatException(root + " is not a diffusers pipeline folder: model_index.json is missing");
        }
        JsonNode node = readJson(index);
        if (!node.isObject()) throw new WeightFormatException(index + ": not a JSON object");
        return new DiffusersFolder(root, node);
    }

    static JsonNode readJson(Path file) throws IOException {
        try {
            return JSON.readTree(file.toFile());
        } catch (JacksonException e) {
            throw new WeightFormatException(file + ": invalid JSON: " + e.getOriginalMessage(), e);
        }
    }

    public Path root() { return root; }

    public JsonNode modelIndex() { return modelIndex; }

    /** Components listed in model_index.json with a library and class (optional ones saved as [null, null] are left out). */
    public Set<String> components() {
        Set<String> out = new LinkedHashSet<>();
        for (Iterator<Map.Entry<String, JsonNode>> it = modelIndex.fields(); it.hasNext(); ) {
            Map.Entry<String, JsonNode> e = it.next();
            JsonNode v = e.getValue();
            if (!e.getKey().startsWith("_") && v.isArray() && v.size() == 2 && v.get(1).isTextual()) out.add(e.getKey());
        }
        return out;
    }

    /** The class model_index.json gives a component, e.g. "UNet2DConditionModel". */
    public String componentClass(String component) {
        requireComponent(component);
        return modelIndex.get(component).get(1).textValue();
    }

    public Path componentDir(String component) {
        requireComponent(component);
        Path dir = root.resolve(component);
        if (!Files.isDirectory(dir)) {
            throw new WeightFormatException(root + ": component '" + component + "' is listed in model_index.json but folder "
                    + dir.getFileName() + "/ is missing");
        }
        return dir;
    }

    private void requireComponent(String component) {
        if (!components().contains(component)) {
            throw new WeightFormatException(root + ": no component '" + component + "' in model_index.json (has "
                    + components() + ")");
        }
    }

    /** The component's config (config.json, else scheduler_config.json, tokenizer_config.json, preprocessor_config.json). */
    public JsonNode config(String component) throws IOException { return readJson(configFile(component)); }

    /** The file {@link #config} reads, to name in errors about its content. */
    public Path configFile(String component) {
        Path dir = componentDir(component);
        for (String name : CONFIG_NAMES) {
            Path p = dir.resolve(name);
            if (Files.isRegularFile(p)) return p;
        }
        throw new WeightFormatException(dir + ": no config file (looked for " + String.join(", ", CONFIG_NAMES) + ")");
    }

    public WeightSource weights(String component) throws IOException { return weights(component, null); }

    /**
     * The component's weights; {@code variant} ("fp16", ...) or null for the default files. Names are the current
     * diffusers/transformers ones whatever version wrote them: legacy VAE attention names are renamed, and a
     * CLIPTextModel saved by transformers 5 (which dropped the {@code text_model.} prefix of every earlier version
     * and of the SD repositories) gets the prefix back.
     */
    public WeightSource weights(String component, String variant) throws IOException {
        Path dir = componentDir(component);
        WeightSource source = findWeights(dir, variant);
        if (LdmToDiffusers.hasLegacyAttention(source)) source = LdmToDiffusers.modernVae(source);
        return withTextModelPrefix(source);
    }

    static WeightSource withTextModelPrefix(WeightSource source) {
        boolean flat = source.names().contains("embeddings.token_embedding.weight")
                && !source.names().contains("text_model.embeddings.token_embedding.weight");
        return flat ? Renamed.addPrefix(source, "text_model.") : source;
    }

    /** Finds and opens the weights in one model folder (also usable for a standalone model folder). */
    public static WeightSource findWeights(Path dir, String variant) throws IOException {
        List<String> tried = new ArrayList<>();
        for (String stem : WEIGHT_STEMS) {
            Path single = dir.resolve(withVariant(stem + ".safetensors", variant));
            tried.add(single.getFileName().toString());
            if (Files.isRegularFile(single)) return SafetensorsFile.open(single);
            Path index = dir.resolve(withVariant(stem + ".safetensors.index.json", variant));
            tried.add(index.getFileName().toString());
            if (Files.isRegularFile(index)) return openSharded(index);
        }
        for (String stem : PICKLE_STEMS) {   // diffusers' fallback when no safetensors exist
            Path single = dir.resolve(withVariant(stem + ".bin", variant));
            tried.add(single.getFileName().toString());
            if (Files.isRegularFile(single)) return TorchCheckpoint.open(single);
            Path index = dir.resolve(withVariant(stem + ".bin.index.json", variant));
            tried.add(index.getFileName().toString());
            if (Files.isRegularFile(index)) return openSharded(index);
        }
        throw new WeightFormatException(dir + ": no weights found (looked for " + String.join(", ", tried) + ")"
                + (variant != null ? "; variant '" + variant + "' requested" : ""));
    }

    /** diffusers' _add_variant: the variant goes before the last extension ("model.safetensors" to "model.fp16.safetensors"). */
    static String withVariant(String fileName, String variant) {
        if (variant == null || variant.isEmpty()) return fileName;
        int dot = fileName.lastIndexOf('.');
        return fileName.substring(0, dot) + "." + variant + fileName.substring(dot);
    }

    /** A sharded checkpoint: the index's weight_map (tensor to shard file) decides which tensors are read from where. */
    public static WeightSource openSharded(Path index) throws IOException {
        JsonNode map = readJson(index).get("weight_map");
        if (map == null || !map.isObject()) throw new WeightFormatException(index + ": missing weight_map object");
        Map<String, List<String>> byShard = new LinkedHashMap<>();
        for (Iterator<Map.Entry<String, JsonNode>> it = map.fields(); it.hasNext(); ) {
            Map.Entry<String, JsonNode> e = it.next();
            String shard = e.getValue().isTextual() ? e.getValue().textValue() : null;
            if (shard == null || shard.contains("/") || shard.contains("\\") || shard.startsWith(".")) {
                throw new WeightFormatException(index + ": tensor '" + e.getKey() + "' has an invalid shard file name " + e.getValue());
            }
            byShard.computeIfAbsent(shard, k -> new ArrayList<>()).add(e.getKey());
        }
        List<WeightSource> parts = new ArrayList<>();
        try {
            for (Map.Entry<String, List<String>> e : byShard.entrySet()) {
                Path shardPath = index.resolveSibling(e.getKey());
                if (!Files.isRegularFile(shardPath)) {
                    throw new WeightFormatException(index + ": shard " + e.getKey() + " is missing");
                }
                WeightSource shard = WeightSource.open(shardPath);
                parts.add(shard);
                Set<String> wanted = new LinkedHashSet<>(e.getValue());
                for (String name : wanted) {
                    if (!shard.names().contains(name)) {
                        throw new WeightFormatException(index + ": weight_map puts tensor '" + name + "' in " + e.getKey()
                                + " but that shard does not contain it");
                    }
                }
                parts.set(parts.size() - 1, Renamed.only(shard, wanted::contains));
            }
            return new Merged(parts);
        } catch (RuntimeException | IOException e) {
            for (WeightSource p : parts) p.close();
            throw e;
        }
    }
}
