package org.ldm4j.train.toyworld;

import org.ldm4j.methods.fgdm.Factor;
import org.ldm4j.methods.fgdm.FgdmManifest.Conditioning;
import org.ldm4j.methods.fgdm.FgdmManifest.MapKind;

import java.util.Arrays;
import java.util.List;

/**
 * The ToyWorld FG-DM's factors (the FG-DM folder spec): {@code seg} (root condition factor, TimeAdapter on its own
 * noisy latent), {@code depth} and {@code sketch} (children of seg, TimeAdapters on the seg latent), {@code normal}
 * (child of depth) and {@code image} (ControlNet on the rendered seg map). Each row carries its fgdm.json entry's fixed fields.
 */
public enum FgdmFactorKind {
    SEG("seg", Factor.Role.CONDITION, MapKind.SEGMENTATION, List.of(), Conditioning.NOISY_LATENT_ADAPTER, "seg/adapter.safetensors"),
    DEPTH("depth", Factor.Role.CONDITION, MapKind.DEPTH, List.of("seg"), Conditioning.PARENT_LATENT_ADAPTER, "depth/adapter.safetensors"),
    /** Outlines follow the region boundaries of the segmentation, so the segmentation is the sketch's parent. */
    SKETCH("sketch", Factor.Role.CONDITION, MapKind.SKETCH, List.of("seg"), Conditioning.PARENT_LATENT_ADAPTER, "sketch/adapter.safetensors"),
    /** Normals are the depth's geometry (its gradient, in ToyWorld exactly), so the depth is their parent. */
    NORMAL("normal", Factor.Role.CONDITION, MapKind.NORMAL, List.of("depth"), Conditioning.PARENT_LATENT_ADAPTER, "normal/adapter.safetensors"),
    IMAGE("image", Factor.Role.IMAGE, null, List.of("seg"), Conditioning.CONTROLNET_ON_MAPS, "image");

    private final String id, weights;
    private final Factor.Role role;
    private final MapKind map;
    private final Conditioning conditioning;
    private final List<String> parents;

    FgdmFactorKind(String id, Factor.Role role, MapKind map, List<String> parents, Conditioning conditioning, String weights) {
        this.id = id;
        this.role = role;
        this.map = map;
        this.parents = parents;
        this.conditioning = conditioning;
        this.weights = weights;
    }

    public String id() { return id; }

    public Factor.Role role() { return role; }

    /** How the factor's output is read (segmentation, depth), null for the image factor. */
    public MapKind map() { return map; }

    public List<String> parents() { return parents; }

    public Conditioning conditioning() { return conditioning; }

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
