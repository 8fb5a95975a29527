package org.ldm4j.pipeline;

import org.bytedeco.pytorch.LongOptional;
import org.bytedeco.pytorch.Scalar;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch;

import java.util.List;

/**
 * Semantic guidance as LEDITS++ applies it (Brack et al. 2024, after SEGA; diffusers
 * {@code LEditsPPPipelineStableDiffusion} with {@code use_cross_attn_mask=False, use_intersect_mask=False}):
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
     */
    public record Concept(ClassifierFreeGuidance prediction, double scale, boolean remove, double threshold) {
        public Concept {
            if (prediction == null) throw new IllegalArgumentException("a concept needs its prediction");
            if (!prediction.guided()) throw new IllegalArgumentException("a concept's prediction must compute both halves (withBothHalves)");
            if (!(scale >= 0) || !Double.isFinite(scale)) throw new IllegalArgumentException("edit guidance scale must be >= 0, got " + scale);
            if (!(threshold >= 0 && threshold < 1)) throw new IllegalArgumentException("edit threshold must be in [0, 1), got " + threshold);
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
            eps = eps.add(guidance.mul(mask(guidance, c.threshold())));
        }
        return eps;
    }

    /**
     * (B, 1, H, W) float: 1 where the guidance's channel-summed magnitude reaches its {@code q}-quantile over the
     * sample's pixels (torch.quantile's linear interpolation, as LEDITS++), else 0.
     */
    public static Tensor mask(Tensor guidance, double q) {
        Tensor energy = guidance.abs().sum(new long[]{1}, true, null);
        Tensor cut = torch.quantile(energy.flatten(1, -1), q, new LongOptional(1), true, "linear");
        return energy.ge(cut.view(new long[]{guidance.size(0), 1, 1, 1})).to(energy.scalar_type());
    }
}
