package org.ldm4j.methods.fgdm;

import org.bytedeco.pytorch.Tensor;
import org.ldm4j.models.vae.AutoencoderKL;
import org.ldm4j.pipeline.StableDiffusion;

import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * A small declarative FG-DM (paper eq. 3, Fig. 4): factors over one frozen shared Stable Diffusion, each conditioned
 * on the factors it names as parents. Factors are declared parents first, so the declaration order is a topological
 * order and the graph is acyclic by construction; sampling follows that order.
 *
 * <p>Seeds: factor k (declaration index) draws its noise from {@code Rng(seed + k * SEED_STRIDE)}, so a factor's
 * noise does not depend on which other factors are switched on, and factor 0 with seed s draws what txt2img draws
 * with seed s.
 */
public final class FactorGraph {
    public static final long SEED_STRIDE = 1_000_003L;

    public final StableDiffusion sd;
    private final List<Factor> factors;
    private final Map<String, Integer> index = new LinkedHashMap<>();
    /** Decodes condition factors' latents (null: the base model's VAE does, as for images). */
    private final AutoencoderKL mapDecoder;

    public FactorGraph(StableDiffusion sd, List<Factor> factors) { this(sd, factors, null); }

    /**
     * @param mapDecoder a VAE sharing the base VAE's encoder and latent scale, with a decoder fine-tuned on maps (see
     *                   {@link FgdmManifest#mapVae}); null to decode maps with the base model's VAE
     */
    public FactorGraph(StableDiffusion sd, List<Factor> factors, AutoencoderKL mapDecoder) {
        this.sd = sd;
        this.mapDecoder = mapDecoder;
        if (mapDecoder != null && (mapDecoder.config().latentChannels().intValue() != sd.latentChannels()
                || Double.compare(mapDecoder.config().scalingFactor(), sd.vae.config().scalingFactor()) != 0)) {
            throw new IllegalArgumentException("the map decoder's latents (" + mapDecoder.config().latentChannels() + " channels, scaling_factor "
                    + mapDecoder.config().scalingFactor() + ") are not the base VAE's (" + sd.latentChannels() + ", "
                    + sd.vae.config().scalingFactor() + "): it must be a decoder fine-tune of the base model's VAE");
        }
        this.factors = List.copyOf(factors);
        if (this.factors.isEmpty()) throw new IllegalArgumentException("a factor graph needs at least one factor");
        Set<String> parentsOfSomeone = new HashSet<>();
        for (Factor f : this.factors) {
            if (index.containsKey(f.name())) throw new IllegalArgumentException("two factors are named '" + f.name() + "'");
            for (String p : f.parents()) {
                if (!index.containsKey(p)) {
                    throw new IllegalArgumentException("factor '" + f.name() + "' names parent '" + p + "', which is not declared before it"
                            + " (declared so far: " + index.keySet() + ")");
                }
                parentsOfSomeone.add(p);
            }
            int vae = sd.vaeScaleFactor();
            if (f.settings().width() % vae != 0 || f.settings().height() % vae != 0) {
                throw new IllegalArgumentException("factor '" + f.name() + "' size " + f.settings().width() + "x" + f.settings().height()
                        + " must be a multiple of the VAE factor " + vae);
            }
            index.put(f.name(), index.size());
        }
        for (Factor f : this.factors) {
            if (f.role() == Factor.Role.IMAGE && parentsOfSomeone.contains(f.name())) {
                throw new IllegalArgumentException("image factor '" + f.name() + "' cannot be another factor's parent");
            }
        }
    }

    /** The factors in declaration (topological) order. */
    public List<Factor> factors() { return factors; }

    public Factor factor(String name) { return factors.get(indexOf(name)); }

    public int indexOf(String name) {
        Integer i = index.get(name);
        if (i == null) throw new IllegalArgumentException("no factor named '" + name + "'; factors: " + index.keySet());
        return i;
    }

    public boolean has(String name) { return index.containsKey(name); }

    /** Names of the IMAGE factors. */
    public List<String> imageFactors() {
        List<String> out = new ArrayList<>();
        for (Factor f : factors) if (f.role() == Factor.Role.IMAGE) out.add(f.name());
        return out;
    }

    /** The factors {@code name} depends on, directly or through other factors. */
    public java.util.Set<String> ancestors(String name) {
        java.util.Set<String> out = new java.util.LinkedHashSet<>();
        java.util.ArrayDeque<String> todo = new java.util.ArrayDeque<>(factor(name).parents());
        while (!todo.isEmpty()) {
            String p = todo.poll();
            if (out.add(p)) todo.addAll(factor(p).parents());
        }
        return out;
    }

    /** The same graph with one factor's settings replaced (SBPC runs conditions with fewer steps, smaller). */
    public FactorGraph withSettings(String name, FactorSettings settings) {
        List<Factor> out = new ArrayList<>(factors);
        out.set(indexOf(name), factor(name).withSettings(settings));
        return new FactorGraph(sd, out, mapDecoder);
    }

    /** The same graph with one factor's conditioning scale replaced (the manifest's "scale"; e.g. the image factor's ControlNet). */
    public FactorGraph withConditioningScale(String name, double scale) {
        List<Factor> out = new ArrayList<>(factors);
        out.set(indexOf(name), factor(name).withConditioningScale(scale));
        return new FactorGraph(sd, out, mapDecoder);
    }

    /** The same graph with one condition factor's map read another way (e.g. without small regions). */
    public FactorGraph withReadout(String name, MapReadout readout) {
        List<Factor> out = new ArrayList<>(factors);
        out.set(indexOf(name), factor(name).withReadout(readout));
        return new FactorGraph(sd, out, mapDecoder);
    }

    /**
     * A factor's latents (1, C, h, w) at the UNet's scale -> its map or image (1, 3, H, W) in [-1, 1]: condition
     * factors through the map decoder when there is one, then their {@link Factor#readout}; the image factor through
     * the base model's VAE.
     */
    public Tensor decode(String factor, Tensor latents) {
        Factor f = factor(factor);
        if (f.role() == Factor.Role.IMAGE) return sd.decodeLatents(latents);
        return f.readout().read(mapDecoder == null ? sd.decodeLatents(latents) : StableDiffusion.decodeLatents(mapDecoder, latents));
    }

    /** The seed of factor {@code name}'s generator for a run seeded {@code seed}. */
    public long factorSeed(String name, long seed) { return seed + indexOf(name) * SEED_STRIDE; }
}
