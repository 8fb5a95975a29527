package org.ldm4j.methods.fgdm;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;

/**
 * The {@code fgdm.json} of an FG-DM folder (docs/fgdm-folder.md): the base model and the factors in
 * declaration (topological) order. The record checks what the manifest alone can tell (names, parent order, which
 * conditioning fits which factor); {@link FgdmFolder} checks the files it names. A parent that no factor provides is
 * allowed (factors are trained and exported one at a time, see {@link #withFactor}), but {@link FgdmFolder#load}
 * refuses to build such a graph. Unknown keys are errors, so a typo
 * ("guidance" for "guidance_scale") never silently becomes a default.
 *
 * @param baseModel the frozen base LDM's diffusers folder, relative to the FG-DM folder or absolute
 * @param mapVae    optional: a VAE folder (relative to the FG-DM folder) whose decoder reads the condition factors'
 *                  latents back to maps: the base VAE's encoder with a decoder fine-tuned on maps, for a base VAE that
 *                  never saw flat palette colours; null = the base model's VAE decodes maps too (the paper's setting)
 */
public record FgdmManifest(String baseModel, List<Entry> factors, String mapVae) {
    public static final String CLASS_NAME = "FactorGraph";
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final Set<String> TOP_KEYS = Set.of("_class_name", "base_model", "map_vae", "factors");
    private static final Set<String> FACTOR_KEYS = Set.of("name", "role", "map", "parents", "conditioning", "weights", "scale",
            "width", "height", "steps", "guidance_scale", "map_guidance", "hint_unlabeled", "min_region_pixels", "min_object_pixels", "unet");

    /** How a condition factor's decoded output is read and drawn (brief section 6). */
    public enum MapKind {
        SEGMENTATION, DEPTH, SKETCH, NORMAL;

        public String key() { return name().toLowerCase(Locale.ROOT); }
    }

    /** The conditioning branch a factor was trained with (see {@link FactorConditioning}). */
    public enum Conditioning {
        TEXT_ONLY, NOISY_LATENT_ADAPTER, PARENT_LATENT_ADAPTER, CONTROLNET_ON_MAPS, OWN_UNET;

        public String key() { return name().toLowerCase(Locale.ROOT); }
    }

    /**
     * What an image factor's hint shows where a generated segmentation map decodes to no class (key
     * "hint_unlabeled"): {@code keep} draws those pixels in the unlabeled colour (the released hand-off; the default),
     * {@code fill} gives them the class around them first, an object's class before a background's
     * ({@link HintRenderer#segmentation(Palette, int, boolean)}).
     */
    public enum HintUnlabeled {
        KEEP, FILL;

        public String key() { return name().toLowerCase(Locale.ROOT); }
    }

    /**
     * Regions smaller than these many pixels (8-connected components of one class, at the factor's generated size)
     * that a segmentation factor's map loses when it is read ({@link MapReadout#withoutSmallRegions}): background
     * classes (keys "min_region_pixels") and object classes ("min_object_pixels"); 0 keeps every region.
     */
    public record SmallRegions(int backgroundPixels, int objectPixels) {
        public static final SmallRegions KEEP = new SmallRegions(0, 0);

        public SmallRegions {
            if (backgroundPixels < 0 || objectPixels < 0) {
                throw new IllegalArgumentException("\"min_region_pixels\" and \"min_object_pixels\" must be >= 0, got " + backgroundPixels + " and " + objectPixels);
            }
        }

        public boolean keepsAll() { return backgroundPixels == 0 && objectPixels == 0; }
    }

    /**
     * One factor.
     *
     * @param map     null for the image factor
     * @param weights file (adapters) or folder (ControlNet, own UNet) relative to the FG-DM folder; null for text_only
     * @param width   default output size in pixels (condition factors: half the image side in ToyWorld)
     * @param mapGuidance guidance toward the parents' maps ({@link FactorSettings#mapGuidance}; key "map_guidance",
     *                    1 when absent)
     * @param hintUnlabeled how a ControlNet image factor's hint draws unlabeled map pixels (key "hint_unlabeled", keep
     *                      when absent)
     * @param smallRegions  the regions a segmentation factor's map loses when read (keys "min_region_pixels",
     *                      "min_object_pixels"; all kept when absent)
     * @param unet          a controlnet_on_maps image factor trained with the UNet's decoder unlocked (ControlNet's
     *                      {@code sd_locked=False}): the diffusers UNet folder (relative to the FG-DM folder) it denoises
     *                      with instead of the base model's (key "unet"; null when absent: the frozen base UNet)
     */
    public record Entry(String name, Factor.Role role, MapKind map, List<String> parents, Conditioning conditioning,
                        String weights, double scale, int width, int height, int steps, double guidanceScale, double mapGuidance,
                        HintUnlabeled hintUnlabeled, SmallRegions smallRegions, String unet) {
        public Entry {
            if (name == null || name.isBlank()) throw new IllegalArgumentException("a factor needs a \"name\"");
            if (!name.matches("[A-Za-z0-9_-]+")) {
                throw new IllegalArgumentException("factor name '" + name + "' must be letters, digits, '_' or '-' (it names files)");
            }
            String where = "factor '" + name + "': ";
            if (role == null) throw new IllegalArgumentException(where + "needs a \"role\" (condition or image)");
            if (conditioning == null) throw new IllegalArgumentException(where + "needs a \"conditioning\"");
            parents = parents == null ? List.of() : List.copyOf(parents);
            if (role == Factor.Role.CONDITION && map == null) {
                throw new IllegalArgumentException(where + "a condition factor needs a \"map\" (" + keys(MapKind.values()) + ")");
            }
            if (role == Factor.Role.IMAGE && map != null) throw new IllegalArgumentException(where + "the image factor has no \"map\"");
            boolean root = parents.isEmpty();
            switch (conditioning) {
                case NOISY_LATENT_ADAPTER, OWN_UNET -> {
                    if (!root) throw new IllegalArgumentException(where + conditioning.key() + " is for the root factor, but it has parents " + parents);
                    if (role != Factor.Role.CONDITION) throw new IllegalArgumentException(where + conditioning.key() + " is for a condition factor (role condition)");
                }
                case PARENT_LATENT_ADAPTER -> {
                    if (root) throw new IllegalArgumentException(where + "parent_latent_adapter needs \"parents\"");
                }
                case CONTROLNET_ON_MAPS -> {
                    if (role != Factor.Role.IMAGE) throw new IllegalArgumentException(where + "controlnet_on_maps is for the image factor (role image)");
                    if (root) throw new IllegalArgumentException(where + "controlnet_on_maps needs \"parents\" (the maps it is drawn from)");
                }
                case TEXT_ONLY -> { }
            }
            if (conditioning == Conditioning.TEXT_ONLY && weights != null) {
                throw new IllegalArgumentException(where + "text_only has no \"weights\", got '" + weights + "'");
            }
            if (conditioning != Conditioning.TEXT_ONLY && (weights == null || weights.isBlank())) {
                throw new IllegalArgumentException(where + conditioning.key() + " needs \"weights\"");
            }
            if (!(Math.abs(scale) < 1e6)) throw new IllegalArgumentException(where + "\"scale\" must be a finite number, got " + scale);
            if (mapGuidance != 1.0 && root) throw new IllegalArgumentException(where + "\"map_guidance\" needs \"parents\" (the maps it guides toward)");
            if (hintUnlabeled == null) hintUnlabeled = HintUnlabeled.KEEP;
            if (hintUnlabeled != HintUnlabeled.KEEP && conditioning != Conditioning.CONTROLNET_ON_MAPS) {
                throw new IllegalArgumentException(where + "\"hint_unlabeled\" is for a controlnet_on_maps image factor (it draws the hint)");
            }
            if (unet != null && (unet.isBlank() || conditioning != Conditioning.CONTROLNET_ON_MAPS)) {
                throw new IllegalArgumentException(where + "\"unet\" is for a controlnet_on_maps image factor trained with the UNet's decoder"
                        + " (a folder name; leave the key out for the base model's UNet)");
            }
            if (smallRegions == null) smallRegions = SmallRegions.KEEP;
            if (!smallRegions.keepsAll() && map != MapKind.SEGMENTATION) {
                throw new IllegalArgumentException(where + "\"min_region_pixels\" and \"min_object_pixels\" are for a segmentation factor (regions are classes)");
            }
            try {   // the parameters, not settings(): a compact constructor has not assigned the fields yet
                new FactorSettings(width, height, steps, guidanceScale, "ddim", 0, "", "", mapGuidance);
            } catch (IllegalArgumentException e) {
                throw new IllegalArgumentException(where + e.getMessage(), e);
            }
        }

        /** The factor's default sampling settings: DDIM, eta 0, "" as the negative text, no prompt suffix. */
        public FactorSettings settings() { return new FactorSettings(width, height, steps, guidanceScale, "ddim", 0, "", "", mapGuidance); }

        /** The base model's UNet (no "unet" of its own). */
        public Entry(String name, Factor.Role role, MapKind map, List<String> parents, Conditioning conditioning,
                     String weights, double scale, int width, int height, int steps, double guidanceScale, double mapGuidance,
                     HintUnlabeled hintUnlabeled, SmallRegions smallRegions) {
            this(name, role, map, parents, conditioning, weights, scale, width, height, steps, guidanceScale, mapGuidance, hintUnlabeled,
                    smallRegions, null);
        }

        /** Every region of the map kept. */
        public Entry(String name, Factor.Role role, MapKind map, List<String> parents, Conditioning conditioning,
                     String weights, double scale, int width, int height, int steps, double guidanceScale, double mapGuidance,
                     HintUnlabeled hintUnlabeled) {
            this(name, role, map, parents, conditioning, weights, scale, width, height, steps, guidanceScale, mapGuidance, hintUnlabeled,
                    SmallRegions.KEEP);
        }

        /** Unlabeled hint pixels kept as they are. */
        public Entry(String name, Factor.Role role, MapKind map, List<String> parents, Conditioning conditioning,
                     String weights, double scale, int width, int height, int steps, double guidanceScale, double mapGuidance) {
            this(name, role, map, parents, conditioning, weights, scale, width, height, steps, guidanceScale, mapGuidance, HintUnlabeled.KEEP);
        }

        /** Map guidance 1 (plain text guidance). */
        public Entry(String name, Factor.Role role, MapKind map, List<String> parents, Conditioning conditioning,
                     String weights, double scale, int width, int height, int steps, double guidanceScale) {
            this(name, role, map, parents, conditioning, weights, scale, width, height, steps, guidanceScale, 1.0);
        }
    }

    public FgdmManifest {
        if (baseModel == null || baseModel.isBlank()) throw new IllegalArgumentException("\"base_model\" is missing");
        if (mapVae != null && mapVae.isBlank()) throw new IllegalArgumentException("\"map_vae\" is empty: name a VAE folder or leave the key out");
        factors = List.copyOf(factors);
        if (factors.isEmpty()) throw new IllegalArgumentException("\"factors\" is empty: a factor graph needs at least one factor");
        Set<String> listed = new HashSet<>();
        for (Entry e : factors) listed.add(e.name());
        Map<String, Entry> declared = new HashMap<>();
        for (Entry e : factors) {
            if (declared.containsKey(e.name())) throw new IllegalArgumentException("two factors are named '" + e.name() + "'");
            for (String p : e.parents()) {
                Entry parent = declared.get(p);
                if (parent == null && !listed.contains(p)) continue;   // not trained yet: see missingParents()
                if (parent == null) {
                    throw new IllegalArgumentException("factor '" + e.name() + "' names parent '" + p + "', which is not declared before it"
                            + " (parents are listed first; declared so far: " + declared.keySet() + ")");
                }
                if (parent.role() == Factor.Role.IMAGE) throw new IllegalArgumentException("factor '" + e.name() + "' names the image factor '" + p + "' as a parent");
            }
            if (e.parents().size() != e.parents().stream().distinct().count()) {
                throw new IllegalArgumentException("factor '" + e.name() + "' lists a parent twice: " + e.parents());
            }
            declared.put(e.name(), e);
        }
    }

    /** A manifest whose maps are decoded by the base model's VAE. */
    public FgdmManifest(String baseModel, List<Entry> factors) { this(baseModel, factors, null); }

    /** This manifest with its maps decoded by the VAE folder {@code mapVae} (relative to the FG-DM folder). */
    public FgdmManifest withMapVae(String mapVae) { return new FgdmManifest(baseModel, factors, mapVae); }

    /**
     * This manifest with {@code entry} added, or in place of the factor of its name; the other factors are kept and
     * the list is reordered parents first (stably: otherwise the order stays). What an exporter writes after training
     * one factor; the base model is kept (the caller checks the factor was trained on it, see
     * {@link FgdmFolder#manifestWith}).
     */
    public FgdmManifest withFactor(Entry entry) {
        List<Entry> list = new ArrayList<>(factors);
        int at = names().indexOf(entry.name());
        if (at >= 0) list.set(at, entry);
        else list.add(entry);
        return new FgdmManifest(baseModel, parentsFirst(list), mapVae);
    }

    /**
     * Parents that no factor of this manifest provides, by factor: allowed in the file while the factors are trained
     * one at a time (depth before seg), but such a graph cannot be sampled ({@link FgdmFolder#load} refuses it).
     */
    public Map<String, List<String>> missingParents() {
        Map<String, List<String>> out = new LinkedHashMap<>();
        Set<String> listed = new HashSet<>(names());
        for (Entry e : factors) {
            List<String> missing = e.parents().stream().filter(p -> !listed.contains(p)).toList();
            if (!missing.isEmpty()) out.put(e.name(), missing);
        }
        return out;
    }

    /** Stable topological order: each factor after those of its parents that are listed; a cycle is an error. */
    private static List<Entry> parentsFirst(List<Entry> factors) {
        Set<String> listed = new HashSet<>(), placed = new HashSet<>();
        for (Entry e : factors) listed.add(e.name());
        List<Entry> out = new ArrayList<>(), pending = new ArrayList<>(factors);
        while (!pending.isEmpty()) {
            Entry ready = null;
            for (Entry e : pending) {   // the first ready one, so the given order wins among ready factors
                if (e.parents().stream().allMatch(p -> placed.contains(p) || !listed.contains(p))) {
                    ready = e;
                    break;
                }
            }
            if (ready == null) throw new IllegalArgumentException("the factors' parents form a cycle: " + pending.stream().map(Entry::name).toList());
            out.add(ready);
            placed.add(ready.name());
            pending.remove(ready);
        }
        return out;
    }

    public Entry factor(String name) {
        for (Entry e : factors) if (e.name().equals(name)) return e;
        throw new IllegalArgumentException("no factor named '" + name + "'; factors: " + names());
    }

    public List<String> names() { return factors.stream().map(Entry::name).toList(); }

    /** The first factor drawing {@code kind} maps, or null. */
    public Entry firstOf(MapKind kind) {
        for (Entry e : factors) if (e.map() == kind) return e;
        return null;
    }

    /** The manifest as JSON (what {@link #parse} reads back). */
    public String toJson() {
        ObjectNode root = JSON.createObjectNode();
        root.put("_class_name", CLASS_NAME);
        root.put("base_model", baseModel);
        if (mapVae != null) root.put("map_vae", mapVae);
        ArrayNode list = root.putArray("factors");
        for (Entry e : factors) {
            ObjectNode n = list.addObject();
            n.put("name", e.name());
            n.put("role", e.role().name().toLowerCase(Locale.ROOT));
            if (e.map() != null) n.put("map", e.map().key());
            ArrayNode parents = n.putArray("parents");
            e.parents().forEach(parents::add);
            n.put("conditioning", e.conditioning().key());
            if (e.weights() != null) n.put("weights", e.weights());
            n.put("scale", e.scale());
            n.put("width", e.width());
            n.put("height", e.height());
            n.put("steps", e.steps());
            n.put("guidance_scale", e.guidanceScale());
            if (e.mapGuidance() != 1.0) n.put("map_guidance", e.mapGuidance());
            if (e.hintUnlabeled() != HintUnlabeled.KEEP) n.put("hint_unlabeled", e.hintUnlabeled().key());
            if (e.smallRegions().backgroundPixels() > 0) n.put("min_region_pixels", e.smallRegions().backgroundPixels());
            if (e.smallRegions().objectPixels() > 0) n.put("min_object_pixels", e.smallRegions().objectPixels());
            if (e.unet() != null) n.put("unet", e.unet());
        }
        return root.toPrettyString() + "\n";
    }

    /**
     * Parses a manifest; every problem is an {@link IllegalArgumentException} starting with {@code source} and naming
     * the key (and the factor) at fault.
     */
    public static FgdmManifest parse(String json, String source) {
        JsonNode root;
        try {
            root = JSON.readTree(json);
        } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
            throw new IllegalArgumentException(source + ": not valid JSON: " + e.getOriginalMessage());
        }
        if (root == null || !root.isObject()) throw new IllegalArgumentException(source + ": expected a JSON object");
        unknownKeys(root, TOP_KEYS, source, "at the top level");
        JsonNode cls = root.get("_class_name");
        if (cls != null && !CLASS_NAME.equals(cls.asText())) {
            throw new IllegalArgumentException(source + ": \"_class_name\" is '" + cls.asText() + "', expected '" + CLASS_NAME + "'");
        }
        String base = text(root, "base_model", true, source, "");
        String mapVae = text(root, "map_vae", false, source, "");
        JsonNode list = root.get("factors");
        if (list == null || !list.isArray()) throw new IllegalArgumentException(source + ": \"factors\" must be an array of factor objects");
        List<Entry> entries = new ArrayList<>();
        for (int i = 0; i < list.size(); i++) {
            JsonNode f = list.get(i);
            String at = "factors[" + i + "]";
            if (!f.isObject()) throw new IllegalArgumentException(source + ": " + at + " must be an object");
            JsonNode nameNode = f.get("name");
            if (nameNode != null && nameNode.isTextual()) at += " ('" + nameNode.asText() + "')";
            unknownKeys(f, FACTOR_KEYS, source, "in " + at);
            try {
                entries.add(new Entry(text(f, "name", true, source, at),
                        parseEnum(Factor.Role.class, text(f, "role", true, source, at), "role", source, at),
                        f.has("map") ? parseEnum(MapKind.class, text(f, "map", true, source, at), "map", source, at) : null,
                        strings(f, "parents", source, at),
                        parseEnum(Conditioning.class, text(f, "conditioning", true, source, at), "conditioning", source, at),
                        text(f, "weights", false, source, at),
                        number(f, "scale", 1.0, source, at),
                        (int) integer(f, "width", source, at), (int) integer(f, "height", source, at), (int) integer(f, "steps", source, at),
                        number(f, "guidance_scale", Double.NaN, source, at),
                        number(f, "map_guidance", 1.0, source, at),
                        f.has("hint_unlabeled") ? parseEnum(HintUnlabeled.class, text(f, "hint_unlabeled", true, source, at), "hint_unlabeled", source, at) : HintUnlabeled.KEEP,
                        new SmallRegions(f.has("min_region_pixels") ? (int) integer(f, "min_region_pixels", source, at) : 0,
                                f.has("min_object_pixels") ? (int) integer(f, "min_object_pixels", source, at) : 0),
                        text(f, "unet", false, source, at)));
            } catch (IllegalArgumentException e) {
                if (e.getMessage().startsWith(source)) throw e;
                throw new IllegalArgumentException(source + ": " + at + ": " + e.getMessage(), e);
            }
        }
        try {
            return new FgdmManifest(base, entries, mapVae);
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException(source + ": " + e.getMessage(), e);
        }
    }

    private static void unknownKeys(JsonNode node, Set<String> known, String source, String where) {
        for (Iterator<String> it = node.fieldNames(); it.hasNext(); ) {
            String key = it.next();
            if (!known.contains(key)) {
                throw new IllegalArgumentException(source + ": unknown key \"" + key + "\" " + where + "; known keys: "
                        + known.stream().sorted().toList());
            }
        }
    }

    private static String text(JsonNode node, String key, boolean required, String source, String at) {
        JsonNode v = node.get(key);
        if (v == null || v.isNull()) {
            if (required) throw new IllegalArgumentException(source + ": " + (at.isEmpty() ? "" : at + ": ") + "\"" + key + "\" is missing");
            return null;
        }
        if (!v.isTextual()) throw new IllegalArgumentException(source + ": " + (at.isEmpty() ? "" : at + ": ") + "\"" + key + "\" must be a string, got " + v);
        return v.asText();
    }

    private static double number(JsonNode node, String key, double fallback, String source, String at) {
        JsonNode v = node.get(key);
        if (v == null) {
            if (Double.isNaN(fallback)) throw new IllegalArgumentException(source + ": " + at + ": \"" + key + "\" is missing");
            return fallback;
        }
        if (!v.isNumber()) throw new IllegalArgumentException(source + ": " + at + ": \"" + key + "\" must be a number, got " + v);
        return v.asDouble();
    }

    private static long integer(JsonNode node, String key, String source, String at) {
        JsonNode v = node.get(key);
        if (v == null) throw new IllegalArgumentException(source + ": " + at + ": \"" + key + "\" is missing");
        if (!v.isIntegralNumber() || !v.canConvertToInt()) throw new IllegalArgumentException(source + ": " + at + ": \"" + key + "\" must be an integer, got " + v);
        return v.asLong();
    }

    private static List<String> strings(JsonNode node, String key, String source, String at) {
        JsonNode v = node.get(key);
        if (v == null) return List.of();
        if (!v.isArray()) throw new IllegalArgumentException(source + ": " + at + ": \"" + key + "\" must be an array of factor names, got " + v);
        List<String> out = new ArrayList<>();
        for (JsonNode s : v) {
            if (!s.isTextual()) throw new IllegalArgumentException(source + ": " + at + ": \"" + key + "\" must hold factor names, got " + s);
            out.add(s.asText());
        }
        return out;
    }

    private static <E extends Enum<E>> E parseEnum(Class<E> type, String value, String key, String source, String at) {
        for (E e : type.getEnumConstants()) if (e.name().equalsIgnoreCase(value)) return e;
        throw new IllegalArgumentException(source + ": " + at + ": unknown " + key + " '" + value + "'; known: " + keys(type.getEnumConstants()));
    }

    private static String keys(Enum<?>[] values) {
        List<String> out = new ArrayList<>();
        for (Enum<?> v : values) out.add(v.name().toLowerCase(Locale.ROOT));
        return String.join(", ", out);
    }
}
