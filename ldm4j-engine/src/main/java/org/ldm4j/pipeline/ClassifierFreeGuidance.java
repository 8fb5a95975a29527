package org.ldm4j.pipeline;

import org.bytedeco.pytorch.Scalar;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.TensorVector;
import org.bytedeco.pytorch.global.torch;
import org.ldm4j.models.unet.UNet2DConditionModel;
import org.ldm4j.models.unet.UNetExtras;
import org.ldm4j.nn.Dtypes;

import java.util.List;
import java.util.function.Function;

/**
 * ε̂ = ε(z, ∅) + w·(ε(z, c) − ε(z, ∅)) (Ho & Salimans), with the unconditional and conditional halves in one
 * batched UNet call (one batch-2 call is faster than two batch-1 calls: cpu-performance.md, recommendation 5).
 *
 * <p>With w ≤ 1 only the conditional branch runs, as diffusers does ({@code do_classifier_free_guidance}).
 * Latents stay float32 between steps; only the UNet runs in the model's dtype.
 */
public final class ClassifierFreeGuidance implements Denoiser {
    private final UNet2DConditionModel unet;
    private final Tensor context;          // (2B, 77, D) = [uncond; cond], or (B, 77, D) without guidance
    private final double scale;
    private final boolean bothHalves;
    private final Function<Step, UNetExtras> extras;
    private final List<? extends ControlSource> controls;

    public ClassifierFreeGuidance(UNet2DConditionModel unet, PromptConditioning conditioning, double scale,
                                  Function<Step, UNetExtras> extras) {
        this(unet, conditioning, scale, extras, List.of());
    }

    /**
     * @param controls ControlNets / adapters asked for residuals at every step, summed with {@code extras}' own
     */
    public ClassifierFreeGuidance(UNet2DConditionModel unet, PromptConditioning conditioning, double scale,
                                  Function<Step, UNetExtras> extras, List<? extends ControlSource> controls) {
        this(unet, conditioning, scale, extras, controls, scale > 1.0);
    }

    private ClassifierFreeGuidance(UNet2DConditionModel unet, PromptConditioning conditioning, double scale,
                                   Function<Step, UNetExtras> extras, List<? extends ControlSource> controls, boolean bothHalves) {
        this.controls = controls != null ? controls : List.of();
        this.unet = unet;
        this.scale = scale;
        this.bothHalves = bothHalves;
        this.context = bothHalves ? conditioning.uncondAndCond() : conditioning.cond();
        this.extras = extras != null ? extras : s -> UNetExtras.NONE;
    }

    /**
     * Guidance that always computes both halves, whatever the scale (at w ≤ 1 too): for a caller that weighs them
     * itself ({@link #halves}, {@link DualGuidance}). {@link #predict} still gives ε(∅) + w·(ε(c) − ε(∅)).
     */
    public static ClassifierFreeGuidance withBothHalves(UNet2DConditionModel unet, PromptConditioning conditioning, double scale,
                                                        Function<Step, UNetExtras> extras, List<? extends ControlSource> controls) {
        return new ClassifierFreeGuidance(unet, conditioning, scale, extras, controls, true);
    }

    /** Whether each call holds both halves (scale &gt; 1, or {@link #withBothHalves}). */
    public boolean guided() { return bothHalves; }

    public double scale() { return scale; }

    @Override
    public Tensor predict(Tensor z, Step step) {
        Tensor out = forward(z, step);
        if (!guided()) return out;
        Tensor[] halves = org.ldm4j.nn.Tensors.halves(out, 0);
        Tensor uncond = halves[0], cond = halves[1];
        return uncond.add(cond.sub(uncond).mul(new Scalar(scale)));
    }

    /**
     * The two predictions before they are combined: {ε(z, ∅), ε(z, c)}, from the same single batched call
     * ({@link DualGuidance} weighs them itself). Needs both halves: at scale &lt;= 1 only {@link #withBothHalves}
     * computes the unconditional one.
     */
    public Tensor[] halves(Tensor z, Step step) {
        if (!guided()) throw new IllegalStateException("no unconditional half: guidance scale " + scale + " <= 1 runs the conditional branch only");
        return org.ldm4j.nn.Tensors.halves(forward(z, step), 0);
    }

    private Tensor forward(Tensor z, Step step) {
        Tensor in = guided() ? torch.cat(new TensorVector(z, z), 0) : z;
        in = Dtypes.to(in, unet.device(), unet.dtype());
        Tensor t = torch.scalar_tensor(new Scalar(step.t()));
        UNetExtras x = extras.apply(step);
        if (!controls.isEmpty()) {
            ControlInput control = new ControlInput(unet, in, t, context, guided());
            for (ControlSource c : controls) x = ControlSources.merge(x, c.extras(control, step));
        }
        Tensor out = unet.forward(in, t, context, x);
        return Dtypes.to(out, z.device(), z.scalar_type());
    }
}
