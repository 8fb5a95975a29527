package org.ldm4j.methods.fgdm;

import java.util.List;

/**
 * One factor of an FG-DM (paper eq. 3): the frozen shared UNet, its own conditioning branch, and its own scheduler
 * chain ({@link FactorSettings}). A CONDITION factor samples a map (segmentation, depth, ...); the IMAGE factor
 * samples the image and is nobody's parent.
 *
 * @param parents names of the factors it is conditioned on, declared before it in the graph
 * @param readout how its decoded map is read before it is handed on ({@link MapReadout}; the image factor's is RAW)
 */
public record Factor(String name, Role role, List<String> parents, FactorConditioning conditioning, FactorSettings settings,
                     MapReadout readout) {
    public enum Role { CONDITION, IMAGE }

    public Factor {
        if (name == null || name.isBlank()) throw new IllegalArgumentException("a factor needs a name");
        if (readout == null) readout = MapReadout.RAW;
        if (role == Role.IMAGE && readout != MapReadout.RAW) throw new IllegalArgumentException("image factor '" + name + "' has no map to read");
        parents = List.copyOf(parents);
        if (parents.contains(name)) throw new IllegalArgumentException("factor '" + name + "' lists itself as a parent");
        if (parents.size() != parents.stream().distinct().count()) throw new IllegalArgumentException("factor '" + name + "' lists a parent twice: " + parents);
        boolean root = parents.isEmpty();
        if (conditioning == null) throw new IllegalArgumentException("factor '" + name + "' needs a conditioning branch (TextOnly for none)");
        if (conditioning instanceof FactorConditioning.NoisyLatentAdapter && !root) {
            throw new IllegalArgumentException("factor '" + name + "' has parents " + parents + ": a noisy-latent adapter is for the root factor");
        }
        if (conditioning instanceof FactorConditioning.OwnUnet && (!root || role != Role.CONDITION)) {
            throw new IllegalArgumentException("factor '" + name + "': a UNet of its own is for the root condition factor");
        }
        if (conditioning instanceof FactorConditioning.ParentLatentAdapter && root) {
            throw new IllegalArgumentException("factor '" + name + "' has an adapter over parent latents but no parents");
        }
        if (conditioning instanceof FactorConditioning.ControlNetOnMaps c) {
            if (root) throw new IllegalArgumentException("factor '" + name + "' has a ControlNet over parent maps but no parents");
            if (c.renderers().size() != parents.size()) {
                throw new IllegalArgumentException("factor '" + name + "' has " + parents.size() + " parents but " + c.renderers().size() + " hint renderers");
            }
        }
    }

    /** A factor whose output is handed on as decoded. */
    public Factor(String name, Role role, List<String> parents, FactorConditioning conditioning, FactorSettings settings) {
        this(name, role, parents, conditioning, settings, MapReadout.RAW);
    }

    /** The root condition factor: text only into the UNet, its adapter (null = none) on its own noisy latent. */
    public static Factor root(String name, FactorConditioning.NoisyLatentAdapter adapter, FactorSettings settings) {
        return new Factor(name, Role.CONDITION, List.of(), adapter != null ? adapter : new FactorConditioning.TextOnly(), settings);
    }

    /** A condition factor conditioned on parent latents. */
    public static Factor child(String name, List<String> parents, FactorConditioning.ParentLatentAdapter adapter, FactorSettings settings) {
        return new Factor(name, Role.CONDITION, parents, adapter, settings);
    }

    public static Factor image(String name, List<String> parents, FactorConditioning conditioning, FactorSettings settings) {
        return new Factor(name, Role.IMAGE, parents, conditioning, settings);
    }

    public boolean isRoot() { return parents.isEmpty(); }

    /** The UNet that denoises this factor's latent: its own, or the graph's shared one. */
    public org.ldm4j.models.unet.UNet2DConditionModel unet(org.ldm4j.models.unet.UNet2DConditionModel shared) {
        if (conditioning instanceof FactorConditioning.OwnUnet own) return own.unet();
        if (conditioning instanceof FactorConditioning.ControlNetOnMaps c && c.unet() != null) return c.unet();
        return shared;
    }

    public Factor withSettings(FactorSettings s) { return new Factor(name, role, parents, conditioning, s, readout); }

    public Factor withReadout(MapReadout r) { return new Factor(name, role, parents, conditioning, settings, r); }

    /** The same factor with its branch's residuals scaled by {@code scale} ({@link FactorConditioning#scaled}). */
    public Factor withConditioningScale(double scale) {
        try {
            return new Factor(name, role, parents, FactorConditioning.scaled(conditioning, scale), settings, readout);
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("factor '" + name + "': " + e.getMessage(), e);
        }
    }
}
