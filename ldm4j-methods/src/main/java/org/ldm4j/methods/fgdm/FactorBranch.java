package org.ldm4j.methods.fgdm;

import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.TensorVector;
import org.bytedeco.pytorch.global.torch;
import org.ldm4j.models.unet.UNetExtras;
import org.ldm4j.pipeline.AdapterSource;
import org.ldm4j.pipeline.ControlInput;
import org.ldm4j.pipeline.ControlNetSource;
import org.ldm4j.pipeline.ControlSource;
import org.ldm4j.pipeline.StableDiffusion;
import org.ldm4j.pipeline.Step;

import java.util.ArrayList;
import java.util.List;
import java.util.function.Supplier;

/**
 * A factor's conditioning branch as the engine's {@link ControlSource}: at every step it reads its parents' current
 * values and hands the UNet the residuals of the engine's own {@link AdapterSource} / {@link ControlNetSource}.
 * "Current" is what makes the two sampling modes: in a sequential run the parents are finished (the same tensors every
 * step, so the engine's per-generation caching applies); in a joint run they are the parents' z_{t-1} of this very
 * step, and the engine source is rebuilt whenever they change.
 */
final class FactorBranch implements ControlSource {
    /** A factor's value during a run: its latents, and its decoded map once someone needed it. */
    static final class Value {
        Tensor latents, image;

        Value(Tensor latents, Tensor image) {
            this.latents = latents;
            this.image = image;
        }

        /** Moves to the next latents; the previous handles were this run's own (kept per step), so they are closed. */
        void advance(Tensor next) {
            if (latents != null && latents != next) latents.close();
            if (image != null) image.close();
            latents = next;
            image = null;
        }
    }

    private final StableDiffusion sd;
    private final FactorGraph graph;
    private final Factor factor;
    private final Supplier<List<Value>> parents;
    private final FactorListener listener;
    private final ControlSource root;
    private List<Tensor> builtFor;
    private ControlSource built;

    FactorBranch(FactorGraph graph, Factor factor, Supplier<List<Value>> parents, FactorListener listener) {
        this.graph = graph;
        this.sd = graph.sd;
        this.factor = factor;
        this.parents = parents;
        this.listener = listener;
        if (factor.conditioning() instanceof FactorConditioning.NoisyLatentAdapter a) {
            root = new AdapterSource(a.adapter(), null, a.scale());   // input null = the noisy latent the UNet sees
            root.validate(sd, factor.settings().width(), factor.settings().height());
        } else {
            root = null;
        }
    }

    @Override
    public UNetExtras extras(ControlInput in, Step step) {
        List<Value> values = parents.get();
        List<Tensor> latents = new ArrayList<>(values.size());
        for (Value v : values) latents.add(v == null ? null : v.latents);
        listener.conditioned(factor, step, latents);
        if (root != null) return root.extras(in, step);
        if (factor.conditioning() instanceof FactorConditioning.TextOnly || factor.conditioning() instanceof FactorConditioning.OwnUnet) return null;
        if (built == null || !sameTensors(builtFor, latents)) {
            built = build(values, in.condLatents().size(0));
            built.validate(sd, factor.settings().width(), factor.settings().height());
            builtFor = latents;
        }
        return built.extras(in, step);
    }

    /** @param batch runs denoised together (a parent switched off is the zero latent for each) */
    private ControlSource build(List<Value> values, long batch) {
        int w = factor.settings().width(), h = factor.settings().height();
        if (factor.conditioning() instanceof FactorConditioning.ParentLatentAdapter a) {
            long lh = h / sd.vaeScaleFactor(), lw = w / sd.vaeScaleFactor();
            TensorVector parts = new TensorVector();
            for (Value v : values) {
                Tensor z = v == null ? torch.zeros(batch, sd.latentChannels(), lh, lw) : v.latents;
                if (z.size(2) != lh || z.size(3) != lw) z = torch.upsample_nearest2d(z, new long[]{lh, lw});
                parts.push_back(z);
            }
            // one parent: a copy of the vector's element (its get() is a reference into the vector, which may be freed first)
            return new AdapterSource(a.adapter(), values.size() == 1 ? new Tensor(parts.get(0)) : torch.cat(parts, 1), a.scale());
        }
        FactorConditioning.ControlNetOnMaps c = (FactorConditioning.ControlNetOnMaps) factor.conditioning();
        TensorVector hints = new TensorVector();
        for (int k = 0; k < values.size(); k++) {
            Value v = values.get(k);
            if (v == null) {
                hints.push_back(torch.zeros(1, 3, h, w));   // the null condition in pixel space: a black map
                continue;
            }
            if (v.image == null) v.image = org.ldm4j.nn.Scopes.keep(graph.decode(factor.parents().get(k), v.latents));
            hints.push_back(c.renderers().get(k).render(v.image, w, h));
        }
        return new ControlNetSource(c.net(), values.size() == 1 ? new Tensor(hints.get(0)) : torch.cat(hints, 1), c.scale());
    }

    private static boolean sameTensors(List<Tensor> a, List<Tensor> b) {
        if (a.size() != b.size()) return false;
        for (int i = 0; i < a.size(); i++) if (a.get(i) != b.get(i)) return false;
        return true;
    }
}
