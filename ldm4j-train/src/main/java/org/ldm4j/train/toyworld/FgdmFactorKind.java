package org.ldm4j.train.toyworld;

import java.util.Arrays;
import java.util.List;

/**
 * The ToyWorld FG-DM's factors (the FG-DM folder spec): {@code seg} (root condition factor, TimeAdapter on its own
 * noisy latent), {@code depth} (child of seg, TimeAdapter on the seg latent) and {@code image} (ControlNet on the
 * rendered seg map). Each row carries its fgdm.json entry's fixed fields.
 */
public enum FgdmFactorKind {
    SEG("seg", "condition", "segmentation", List.of(), "noisy_latent_adapter", "seg/adapter.safetensors"),
    DEPTH("depth", "condition", "depth", List.of("seg"), "parent_latent_adapter", "depth/adapter.safetensors"),
    IMAGE("image", "image", null, List.of("seg"), "controlnet_on_maps", "image");

    private final String id, role, map, conditioning, weights;
    private final List<String> parents;

    FgdmFactorKind(String id, String role, String map, List<String> parents, String conditioning, String weights) {
        this.id = id;
        this.role = role;
        this.map = map;
        this.parents = parents;
        this.conditioning = conditioning;
        this.weights = weights;
    }

    public String id() { return id; }

    public String role() { return role; }

    /** How the factor's output is read (segmentation, depth), null for the image factor. */
    public String map() { return map; }

    public List<String> parents() { return parents; }

    public String conditioning() { return conditioning; }

    /** The weights' path inside the FG-DM folder (a file for adapters, a folder for the ControlNet). */
    public String weights() { return weights; }

    public boolean isRoot() { return parents.isEmpty(); }

    /** The factor named {@code id}, or an exception listing the names. */
    public static FgdmFactorKind of(String id) {
        for (FgdmFactorKind k : values()) if (k.id.equals(id)) return k;
        throw new IllegalArgumentException("unknown FG-DM factor '" + id + "' (factors: "
                + String.join(", ", Arrays.stream(values()).map(FgdmFactorKind::id).toList()) + ")");
    }
}
