package org.ldm4j.pipeline;

import org.bytedeco.pytorch.LongOptional;
import org.bytedeco.pytorch.Scalar;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch;

import org.ldm4j.models.attention.AttentionMaps;
import org.ldm4j.models.attention.AttentionSite;

import java.util.List;
import java.util.Map;

/**
 * Semantic guidance as LEDITS++ applies it (Brack et al. 2024, after SEGA; diffusers
 * {@code LEditsPPPipelineStableDiffusion}; its {@code use_intersect_mask} with {@link CrossAttention}, else the
 * noise-estimate mask alone):
 * <pre>
 *   ε̂ = ε_base(z) + Σ_e M_e ⊙ γ_e,   γ_e = ±s_e · (ε(z, c_e) − ε(z, ∅)),
 *   M_e = [ Σ_channels |γ_e| ≥ its q_e-quantile over the sample's pixels ]
 * </pre>
 * with "−" for a concept to remove. LEDITS++ takes ε_base = ε(z, ∅); here it is the denoiser the latent was
 * inverted with ({@link EditFriendlyInversion}), e.g. the source caption under guidance, so that without concepts the
 * sample reconstructs the input exactly and each concept acts only where its guidance is strongest (the implicit
 * mask: the top 1 − q of the pixels).
 */
public final class SemanticGuidance implements Denoiser {
    /**
     * One edit concept.
     *
     * @param prediction both halves of the concept's classifier-free guidance, ε(z, ∅) and ε(z, c_e)
     *                   ({@link ClassifierFreeGuidance#withBothHalves}); its own scale is not used
     * @param scale      s_e, LEDITS++'s {@code edit_guidance_scale} (default 5)
     * @param remove     LEDITS++'s {@code reverse_editing_direction}: guide away from the concept
     * @param threshold  q_e in [0, 1), LEDITS++'s {@code edit_threshold} (default 0.9)
     * @param attention  null: the noise-estimate mask alone; else LEDITS++'s {@code use_intersect_mask}: that mask
     *                   intersected with the concept's cross-attention mask
     */
    public record Concept(ClassifierFreeGuidance prediction, double scale, boolean remove, double threshold, CrossAttention attention) {
        public Concept(ClassifierFreeGuidance prediction, double scale, boolean remove, double threshold) {
            this(prediction, scale, remove, threshold, null);
        }

        public Concept {
            if (prediction == null) throw new IllegalArgumentException("a concept needs its prediction");
            if (!prediction.guided()) throw new IllegalArgumentException("a concept's prediction must compute both halves (withBothHalves)");
            if (!(scale >= 0) || !Double.isFinite(scale)) throw new IllegalArgumentException("edit guidance scale must be a finite number >= 0, got " + scale);
            if (!(threshold >= 0 && threshold < 1)) throw new IllegalArgumentException("edit threshold must be in [0, 1), got " + threshold);
        }
    }

    /**
     * Where a concept's cross-attention is read: {@code maps} must record the cross-attention of the concept's
     * prediction (its UNet extras) at the latent's own resolution; the concept's words are the prompt tokens
     * {@code firstToken .. firstToken + tokenCount - 1}.
     */
    public record CrossAttention(AttentionMaps maps, int firstToken, int tokenCount) {
        public CrossAttention {
            if (maps == null) throw new IllegalArgumentException("a cross-attention mask needs the maps its prediction records");
            if (firstToken < 0 || tokenCount < 1) throw new IllegalArgumentException("a cross-attention mask needs the concept's tokens, got "
                    + tokenCount + " from " + firstToken);
        }
    }

    private final Denoiser base;
    private final List<Concept> concepts;

    public SemanticGuidance(Denoiser base, List<Concept> concepts) {
        if (base == null) throw new IllegalArgumentException("semantic guidance needs a base denoiser");
        this.base = base;
        this.concepts = List.copyOf(concepts);
    }

    @Override
    public Tensor predict(Tensor z, Step step) {
        Tensor eps = base.predict(z, step);
        for (Concept c : concepts) {
            Tensor[] halves = c.prediction().halves(z, step);
            Tensor guidance = halves[1].sub(halves[0]).mul(new Scalar(c.remove() ? -c.scale() : c.scale()));
            Tensor mask = mask(guidance, c.threshold());
            if (c.attention() != null) mask = mask.mul(attentionMask(c.attention(), guidance.size(0), guidance.size(2), guidance.size(3), c.threshold()));
            eps = eps.add(guidance.mul(mask));
        }
        return eps;
    }

    /**
     * (B, 1, H, W) float: 1 where the guidance's channel-summed magnitude reaches its {@code q}-quantile over the
     * sample's pixels (torch.quantile's linear interpolation, as LEDITS++), else 0.
     */
    public static Tensor mask(Tensor guidance, double q) {
        return atQuantile(guidance.abs().sum(new long[]{1}, true, null), q);
    }

    /**
     * (B, 1, H, W) float: LEDITS++'s cross-attention mask, the concept tokens' attention (summed over the tokens) in
     * the conditional half of the last prediction, averaged over heads and over the recorded cross-attention sites at
     * H x W, kept at its q-quantile per sample (LEDITS++ also blurs it with a 3x3 Gaussian first; not here).
     */
    public static Tensor attentionMask(CrossAttention a, long batch, long height, long width, double q) {
        Tensor sum = null;
        int sites = 0;
        for (Map.Entry<String, Tensor> e : a.maps().maps().entrySet()) {
            AttentionSite site = a.maps().site(e.getKey());
            if (!site.isCross() || site.height() != height || site.width() != width) continue;
            Tensor m = e.getValue();   // (2B, heads, H*W, tokens): [uncond; cond]
            if (m.size(0) != 2 * batch) throw new IllegalStateException("cross-attention at " + e.getKey() + " has batch " + m.size(0) + ", expected "
                    + 2 * batch + " (both halves of the concept's guidance)");
            Tensor words = m.narrow(0, batch, batch).narrow(3, a.firstToken(), a.tokenCount()).sum(new long[]{3}, false, null);
            Tensor map = words.mean(new long[]{1}, false, null).view(new long[]{batch, 1, height, width});
            sum = sum == null ? map : sum.add(map);
            sites++;
        }
        if (sum == null) throw new IllegalStateException("no cross-attention recorded at " + height + "x" + width + " for the concept's mask");
        return atQuantile(sum.div(new Scalar((double) sites)), q);
    }

    /** 1 where a (B, 1, H, W) value reaches its per-sample q-quantile (torch.quantile's linear interpolation), else 0. */
    private static Tensor atQuantile(Tensor values, double q) {
        Tensor cut = torch.quantile(values.flatten(1, -1), q, new LongOptional(1), true, "linear");
        return values.ge(cut.view(new long[]{values.size(0), 1, 1, 1})).to(values.scalar_type());
    }
}
