package org.ldm4j.methods.fgdm;

import org.bytedeco.pytorch.Tensor;
import org.ldm4j.nn.Scopes;

import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Set;

/**
 * What a factor-graph run produced: each factor's final latents (sampled or given; switched-off factors are absent),
 * how long each sampled factor took, and which mode ran.
 */
public final class FactorGraphResult {
    public final FactorGraph graph;
    public final FactorGraphRequest.Mode mode;
    private final Map<String, Tensor> latents;
    private final Map<String, Tensor> images;
    private final Map<String, Long> millis;

    FactorGraphResult(FactorGraph graph, FactorGraphRequest.Mode mode, Map<String, Tensor> latents, Map<String, Tensor> images,
                      Map<String, Long> millis) {
        this.graph = graph;
        this.mode = mode;
        this.latents = Collections.unmodifiableMap(new LinkedHashMap<>(latents));
        this.images = new LinkedHashMap<>(images);
        this.millis = Collections.unmodifiableMap(new LinkedHashMap<>(millis));
    }

    /** Factors with a value (sampled or given), in graph order. */
    public Set<String> factors() { return latents.keySet(); }

    /** (1, C, h, w) latents of a factor. */
    public Tensor latents(String factor) {
        Tensor t = latents.get(factor);
        if (t == null) throw new IllegalArgumentException("factor '" + factor + "' has no value in this run (switched off or not in the graph)");
        return t;
    }

    /** The factor's map or image, (1, 3, H, W) in [-1, 1]: decoded once ({@link FactorGraph#decode}), or as given. */
    public synchronized Tensor decoded(String factor) {
        Tensor image = images.get(factor);
        if (image == null) {
            image = Scopes.keep(graph.decode(factor, latents(factor)));
            images.put(factor, image);
        }
        return image;
    }

    /** Milliseconds each sampled factor spent denoising (joint: the sum of its share of every step). */
    public Map<String, Long> millis() { return millis; }
}
