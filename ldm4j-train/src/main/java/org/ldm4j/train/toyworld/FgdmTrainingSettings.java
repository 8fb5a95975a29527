package org.ldm4j.train.toyworld;

import com.fasterxml.jackson.databind.JsonNode;
import org.ldm4j.methods.fgdm.FgdmManifest;
import org.ldm4j.methods.fgdm.FgdmManifest.HintUnlabeled;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.Iterator;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import java.util.TreeSet;

/**
 * What one FG-DM factor's training needs beyond the shared trainer keys, read from a
 * {@code configs/train/toyworld-fgdm-<factor>.json} (unknown keys are errors naming the key and the file).
 *
 * @param imageSize           ToyWorld scene side in pixels (the base model's image size, 64)
 * @param factorSize          this factor's map/output side (condition factors: half the image side by default)
 * @param hintMapSize         image factor: the side its segmentation parent is generated at (the hint is that map
 *                            resized nearest to the image side, as at sampling time)
 * @param nullDropout         fraction of examples given a null condition (paper 3.3: 20%)
 * @param nullModes           what such an example loses, drawn uniformly: the caption, the parents, or both
 * @param distillWeight       lambda_KL of the attention distillation loss; 0 = off (the ablation)
 * @param distillEvery        distil on every n-th step (official: 10)
 * @param distillSamples      at most this many examples of the batch are distilled (official: 8)
 * @param teacherScale        the teacher runs at this multiple of the factor's size (2: the base model's own size
 *                            for a half-size factor); 1 = on the student's very noisy latent
 * @param adapterBlocks       TimeAdapter blocks per level (paper: 2)
 * @param hintChannels        image factor: ControlNet hint-encoder widths (one stride-2 conv per step, so
 *                            2^(n-1) must be the VAE factor)
 * @param sampleSteps         the factor's default DDIM steps, written to fgdm.json
 * @param sampleGuidance      the factor's default guidance scale, written to fgdm.json
 * @param sampleScale         the factor's default conditioning scale (the branch's residuals are multiplied by it),
 *                            written to fgdm.json; training always runs the branch at 1
 * @param sampleMapGuidance   the factor's default guidance toward its parents' maps (DualGuidance's s_C; 1 = off),
 *                            written to fgdm.json as "map_guidance"
 * @param objectWeighting     per-object balancing of the ε loss over the factor's latent cells ({@link ObjectWeighting};
 *                            keys {@code object_loss_weight}, {@code object_reference_cells}); NONE = the paper's mean
 * @param ownUnet             root factor, key {@code "branch": "unet"}: instead of an adapter over the frozen UNet, a copy
 *                            of the base UNet fine-tuned whole on the maps (fgdm.json conditioning {@code own_unet},
 *                            weights {@code <factor>/unet/}); default {@code "adapter"}
 * @param sampleHintUnlabeled image factor: how its hint draws a map's unlabeled pixels (key
 *                            {@code sample.hint_unlabeled}, written to fgdm.json; keep when absent)
 * @param sampleSmallRegions  segmentation factor: the regions its map loses when read (keys
 *                            {@code sample.min_region_pixels}, {@code sample.min_object_pixels}, written to fgdm.json)
 * @param unetCopy            image factor: what of a copy of the base UNet trains beside the ControlNet
 *                            ({@link ControlNetWithUnetCopy}; exported to {@code image/unet/}, fgdm.json key "unet"):
 *                            {@code "branch": "controlnet_decoder"} its decoder (up blocks and output layers, ControlNet's
 *                            {@code sd_locked=False}), {@code "controlnet_unet"} all of it; default {@code "controlnet"},
 *                            no copy, the frozen base UNet
 */
public record FgdmTrainingSettings(FgdmFactorKind kind, int imageSize, int factorSize, int hintMapSize, double nullDropout,
                                   List<NullMode> nullModes, double distillWeight, int distillEvery, int distillSamples,
                                   int teacherScale, int adapterBlocks, List<Integer> hintChannels, int sampleSteps,
                                   double sampleGuidance, double sampleScale, double sampleMapGuidance, ObjectWeighting objectWeighting,
                                   boolean ownUnet, HintUnlabeled sampleHintUnlabeled, FgdmManifest.SmallRegions sampleSmallRegions,
                                   UnetCopy unetCopy) {

    /** What of a copy of the base UNet an image factor trains, by its config's "branch". */
    public enum UnetCopy {
        NONE("controlnet"), DECODER("controlnet_decoder"), WHOLE("controlnet_unet");

        private final String branch;

        UnetCopy(String branch) { this.branch = branch; }

        public String branch() { return branch; }

        /** The copy a config's "branch" asks for: NONE for any branch that names no copy. */
        static UnetCopy ofBranch(String branch) {
            return Arrays.stream(values()).filter(u -> u.branch.equals(branch)).findFirst().orElse(NONE);
        }
    }

    /** What a null-condition example loses. */
    public enum NullMode {
        TEXT, PARENTS, BOTH;

        boolean text() { return this != PARENTS; }

        boolean parents() { return this != TEXT; }
    }

    private static final Set<String> COMMON = Set.of("_comment", "factor", "size", "factor_size", "null_condition_dropout",
            "null_condition_modes", "sample", "object_loss_weight", "object_reference_cells", "branch");
    /**
     * Keys the command reads itself: {@code init} (an FG-DM folder whose factor of this kind starts the run),
     * {@code first_seed}, {@code batch_size}.
     */
    public static final Set<String> COMMAND_KEYS = Set.of("init", "first_seed", "batch_size");
    private static final Set<String> DISTILL_KEYS = Set.of("enabled", "weight", "every", "max_samples", "teacher_scale");

    public FgdmTrainingSettings {
        nullModes = List.copyOf(nullModes);
        hintChannels = List.copyOf(hintChannels);
        if (objectWeighting == null) throw new IllegalArgumentException("object weighting must be given (ObjectWeighting.NONE for the plain mean)");
        if (!(nullDropout >= 0 && nullDropout <= 1)) throw new IllegalArgumentException("null_condition_dropout must be in [0, 1], got " + nullDropout);
        if (nullModes.isEmpty()) throw new IllegalArgumentException("null_condition_modes must name at least one of text, parents, both");
        if (kind.isRoot() && nullModes.stream().anyMatch(NullMode::parents)) {
            throw new IllegalArgumentException("factor " + kind.id() + " has no parents: null_condition_modes may only be [\"text\"]");
        }
        if (distillWeight < 0 || distillEvery < 1 || distillSamples < 1 || teacherScale < 1) {
            throw new IllegalArgumentException("attention_distillation needs weight >= 0, every >= 1, max_samples >= 1, teacher_scale >= 1");
        }
        if (distillWeight > 0 && !kind.isRoot()) {
            throw new IllegalArgumentException("attention distillation is for the root factor (seg) only (paper 3.3), not " + kind.id());
        }
        if (!(sampleScale > 0 && sampleScale <= 10)) throw new IllegalArgumentException("sample.scale must be in (0, 10], got " + sampleScale);
        if (factorSize < 1 || imageSize < 1 || hintMapSize < 1 || adapterBlocks < 1) {
            throw new IllegalArgumentException("sizes and adapter blocks must be positive");
        }
        if (ownUnet && !kind.isRoot()) {
            throw new IllegalArgumentException("\"branch\": \"unet\" is for the root factor (seg) only, not " + kind.id());
        }
        if (unetCopy == null) throw new IllegalArgumentException("unetCopy must be given (UnetCopy.NONE: the frozen base UNet)");
        if (unetCopy != UnetCopy.NONE && kind != FgdmFactorKind.IMAGE) {
            throw new IllegalArgumentException("\"branch\": \"" + unetCopy.branch() + "\" is for the image factor only, not " + kind.id());
        }
    }

    /** How the trained factor conditions the model (its fgdm.json "conditioning"). */
    public org.ldm4j.methods.fgdm.FgdmManifest.Conditioning conditioning() {
        return ownUnet ? org.ldm4j.methods.fgdm.FgdmManifest.Conditioning.OWN_UNET : kind.conditioning();
    }

    /** The trained weights' path inside the FG-DM folder (its fgdm.json "weights"). */
    public String weights() { return ownUnet ? kind.id() + "/unet" : kind.weights(); }

    /** The image factor's unlocked UNet folder inside the FG-DM folder (its fgdm.json "unet"), or null: the base UNet. */
    public String unetWeights() { return trainsUnetCopy() ? kind.id() + "/unet" : null; }

    /** True when a copy of the base UNet trains beside the image factor's ControlNet ({@link ControlNetWithUnetCopy}). */
    public boolean trainsUnetCopy() { return unetCopy != UnetCopy.NONE; }

    /** True when step {@code step} adds the distillation loss. */
    public boolean distillAt(long step) { return distillWeight > 0 && step % distillEvery == 0; }

    /**
     * Reads the factor's keys. {@code imageSize} and {@code vaeFactor} come from the base model (its default image side
     * and VAE factor) and set the defaults.
     */
    public static FgdmTrainingSettings parse(JsonNode c, String source, FgdmFactorKind kind, int imageSize, int vaeFactor) {
        if (c == null || !c.isObject()) throw new IllegalArgumentException(source + ": not a JSON object");
        if (c.has("factor") && !c.get("factor").asText().equals(kind.id())) {
            throw new IllegalArgumentException(source + ": is a config for factor '" + c.get("factor").asText() + "', not '" + kind.id() + "'");
        }
        Set<String> known = new TreeSet<>(org.ldm4j.train.Trainer.Options.CONFIG_KEYS);   // read by the shared trainer
        known.addAll(COMMON);
        known.addAll(COMMAND_KEYS);
        if (kind.isRoot()) known.add("attention_distillation");
        if (kind == FgdmFactorKind.IMAGE) known.add("controlnet");
        else known.add("adapter");
        requireKnown(c, known, source, "");
        int size = c.path("size").asInt(imageSize);
        int factorSize = c.path("factor_size").asInt(kind == FgdmFactorKind.IMAGE ? size : size / 2);
        if (factorSize % vaeFactor != 0) {
            throw new IllegalArgumentException(source + ": factor_size " + factorSize + " must be a multiple of the VAE factor " + vaeFactor);
        }
        List<NullMode> modes = new ArrayList<>();
        JsonNode m = c.get("null_condition_modes");
        if (m == null) {
            modes.add(NullMode.TEXT);
            if (!kind.isRoot()) modes.addAll(List.of(NullMode.PARENTS, NullMode.BOTH));
        } else {
            if (!m.isArray()) throw new IllegalArgumentException(source + ": null_condition_modes must be a list of text, parents, both");
            for (JsonNode n : m) {
                try {
                    modes.add(NullMode.valueOf(n.asText().toUpperCase(Locale.ROOT)));
                } catch (IllegalArgumentException e) {
                    throw new IllegalArgumentException(source + ": null_condition_modes: unknown mode '" + n.asText() + "' (text, parents, both)");
                }
            }
        }
        JsonNode d = c.path("attention_distillation");
        if (d.isObject()) requireKnown(d, DISTILL_KEYS, source, "attention_distillation.");
        boolean distill = kind.isRoot() && d.path("enabled").asBoolean(d.isObject());
        JsonNode a = c.path("adapter");
        if (a.isObject()) requireKnown(a, Set.of("num_res_blocks"), source, "adapter.");
        JsonNode cn = c.path("controlnet");
        if (cn.isObject()) requireKnown(cn, Set.of("conditioning_embedding_out_channels", "hint_map_size"), source, "controlnet.");
        List<Integer> hint = new ArrayList<>();
        if (cn.has("conditioning_embedding_out_channels")) cn.get("conditioning_embedding_out_channels").forEach(n -> hint.add(n.asInt()));
        else for (int w : new int[]{16, 32, 96, 256}) if (hint.isEmpty() || 1 << (hint.size() - 1) < vaeFactor) hint.add(w);
        if (kind == FgdmFactorKind.IMAGE && (hint.isEmpty() || 1 << (hint.size() - 1) != vaeFactor)) {
            throw new IllegalArgumentException(source + ": controlnet.conditioning_embedding_out_channels " + hint + " downsamples by "
                    + (hint.isEmpty() ? 0 : 1 << (hint.size() - 1)) + ", the VAE factor is " + vaeFactor + " (give log2(factor) + 1 widths)");
        }
        String branch = c.path("branch").asText(kind == FgdmFactorKind.IMAGE ? "controlnet" : "adapter");
        List<String> branches = kind == FgdmFactorKind.IMAGE ? Arrays.stream(UnetCopy.values()).map(UnetCopy::branch).toList()
                : List.of("adapter", "unet");
        if (!branches.contains(branch)) {
            throw new IllegalArgumentException(source + ": \"branch\" of factor " + kind.id() + " must be one of " + branches + ", got '" + branch + "'");
        }
        JsonNode s = c.path("sample");
        if (s.isObject()) requireKnown(s, Set.of("steps", "guidance_scale", "scale", "map_guidance", "hint_unlabeled",
                "min_region_pixels", "min_object_pixels"), source, "sample.");
        try {
            FgdmTrainingSettings settings = new FgdmTrainingSettings(kind, size, factorSize, cn.path("hint_map_size").asInt(size / 2),
                    c.path("null_condition_dropout").asDouble(0.2), modes,
                    distill ? d.path("weight").asDouble(0.1) : 0.0, d.path("every").asInt(10), d.path("max_samples").asInt(8),
                    d.path("teacher_scale").asInt(2), a.path("num_res_blocks").asInt(2), hint,
                    s.path("steps").asInt(25), s.path("guidance_scale").asDouble(5.0), s.path("scale").asDouble(1.0),
                    s.path("map_guidance").asDouble(1.0),
                    new ObjectWeighting(c.path("object_loss_weight").asDouble(0), c.path("object_reference_cells").asDouble(16)),
                    branch.equals("unet"), hintUnlabeled(s.path("hint_unlabeled").asText("keep")),
                    new FgdmManifest.SmallRegions(s.path("min_region_pixels").asInt(0), s.path("min_object_pixels").asInt(0)),
                    UnetCopy.ofBranch(branch));
            FgdmExport.entry(settings);   // the fgdm.json entry it will export (e.g. hint_unlabeled, map_guidance) is checked now, not after training
            return settings;
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException(source + ": " + e.getMessage(), e);
        }
    }

    private static HintUnlabeled hintUnlabeled(String key) {
        for (var h : HintUnlabeled.values()) if (h.key().equals(key)) return h;
        throw new IllegalArgumentException("sample.hint_unlabeled must be one of "
                + java.util.Arrays.stream(HintUnlabeled.values()).map(HintUnlabeled::key).toList() + ", got '" + key + "'");
    }

    private static void requireKnown(JsonNode node, Set<String> known, String source, String prefix) {
        for (Iterator<String> it = node.fieldNames(); it.hasNext(); ) {
            String key = it.next();
            if (!known.contains(key)) {
                throw new IllegalArgumentException(source + ": unknown key '" + prefix + key + "' (known: " + String.join(", ", new TreeSet<>(known)) + ")");
            }
        }
    }
}
