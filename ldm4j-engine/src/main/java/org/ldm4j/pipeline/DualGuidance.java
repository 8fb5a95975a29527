package org.ldm4j.pipeline;

import org.bytedeco.pytorch.Scalar;
import org.bytedeco.pytorch.Tensor;

/**
 * Classifier-free guidance over two conditions, a text T and a spatial condition C (a ControlNet's map, an adapter's
 * parent latent), each with its own scale, in InstructPix2Pix's form (Brooks, Holynski, Efros 2023, eq. 3):
 * <pre>
 *   ε̂ = ε(z, ∅, ∅) + s_C·(ε(z, C, ∅) − ε(z, ∅, ∅)) + s_T·(ε(z, C, T) − ε(z, C, ∅))
 * </pre>
 * At s_C = 1 the first two terms cancel and this is plain classifier-free guidance on the text with C given to
 * both halves (what a ControlNet pipeline does); s_C &gt; 1 pushes the sample further toward what C asks for. The
 * model must know the null condition: a ControlNet or adapter trained with condition dropout.
 *
 * <p>Costs one more UNet (and control) evaluation per step than plain guidance.
 */
public final class DualGuidance implements Denoiser {
    private final ClassifierFreeGuidance withCondition;
    private final Denoiser withoutCondition;
    private final double conditionScale;

    /**
     * @param withCondition    text guidance with the condition given to both halves, its scale s_T; it must compute
     *                         both halves (scale &gt; 1, or {@link ClassifierFreeGuidance#withBothHalves} at any scale)
     * @param withoutCondition ε(z, ∅, ∅): null text, null condition, no guidance
     * @param conditionScale   s_C
     */
    public DualGuidance(ClassifierFreeGuidance withCondition, Denoiser withoutCondition, double conditionScale) {
        if (!withCondition.guided()) {
            throw new IllegalArgumentException("condition guidance needs both text halves: guidance " + withCondition.scale()
                    + " <= 1 computes the conditional one only (build it with ClassifierFreeGuidance.withBothHalves)");
        }
        if (!(conditionScale >= 0) || Double.isInfinite(conditionScale)) {
            throw new IllegalArgumentException("condition guidance scale must be >= 0, got " + conditionScale);
        }
        this.withCondition = withCondition;
        this.withoutCondition = withoutCondition;
        this.conditionScale = conditionScale;
    }

    @Override
    public Tensor predict(Tensor z, Step step) {
        Tensor[] h = withCondition.halves(z, step);   // ε(z, C, ∅), ε(z, C, T)
        Tensor none = withoutCondition.predict(z, step);
        return none.add(h[0].sub(none).mul(new Scalar(conditionScale))).add(h[1].sub(h[0]).mul(new Scalar(withCondition.scale())));
    }
}
