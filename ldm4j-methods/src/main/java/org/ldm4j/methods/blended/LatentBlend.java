package org.ldm4j.methods.blended;

import org.bytedeco.pytorch.Scalar;
import org.bytedeco.pytorch.Tensor;
import org.ldm4j.nn.Rng;
import org.ldm4j.nn.Scopes;
import org.ldm4j.pipeline.Step;
import org.ldm4j.pipeline.StepHook;
import org.ldm4j.schedulers.Scheduler;

import java.util.function.Consumer;

/**
 * The blend of Blended Latent Diffusion (Algorithm 1, line "z_t ← z_fg ⊙ m_latent + z_bg ⊙ (1 − m_latent)") as a
 * {@link StepHook} on the engine's one denoising loop: the text-conditioned step denoises the whole latent, then
 * the area outside the mask is replaced by the source latents noised to a step's level.
 *
 * <p>Notation: {@code zSrc} = z_src = E(x)·scaling (1, 4, h, w); {@code mLat} = m_latent (1, 1, h, w), 1 = edit;
 * {@code zBg} = z_bg = noise(z_src, t) = √ᾱ_t z_src + √(1 − ᾱ_t) ε (the scheduler's {@code addNoise}).
 *
 * <p>Where the blend happens ({@link BlendSettings.BlendPoint}):
 * <ul>
 *   <li>BEFORE_STEP (LDM code): before the model sees z_t, with the background at t: the two halves of the latent
 *       carry the same noise level when the model reads them.</li>
 *   <li>AFTER_STEP (SD2 script): after the step, z is at t_prev but the background is noised to t, one step noisier.</li>
 *   <li>AFTER_STEP_NEXT_T (diffusers inpainting): after the step with the background at t_prev.</li>
 * </ul>
 * With {@code finalLatentPaste} the clean z_src is pasted after the last step (diffusers inpainting does; neither
 * official BLD path does, so their background drifts by the last step's noise). Fresh noise is drawn from the run's
 * generator at each blend, after the scheduler's own draws of that step, as the SD2 script's {@code randn_like}.
 */
public final class LatentBlend implements StepHook {
    /**
     * One blend, for observers (tests, previews). {@code noiseIndex} is the schedule index whose noise level the
     * background has, -1 for the clean paste ({@code noise} is then null). Tensors are freed when the step ends.
     */
    public record Blended(Step step, int noiseIndex, Tensor result, Tensor background, Tensor noise, Tensor mask) {}

    private final Tensor zSrc;                  // (1, 4, h, w)
    private final MaskSchedule masks;
    private final Scheduler scheduler;
    private final Rng rng;
    private final BlendSettings.BlendPoint point;
    private final boolean freshNoise;
    private final Tensor fixedNoise;            // (1, 4, h, w), only for NoiseMode.FIXED
    private final boolean finalLatentPaste;
    private final Consumer<Blended> observer;

    /** Draws the fixed noise (NoiseMode.FIXED) from {@code rng} now: build it after the start latents are drawn. */
    public LatentBlend(Tensor zSrc, MaskSchedule masks, Scheduler scheduler, Rng rng, BlendSettings settings,
                       Consumer<Blended> observer) {
        this.zSrc = zSrc;
        this.masks = masks;
        this.scheduler = scheduler;
        this.rng = rng;
        this.point = settings.blendPoint();
        this.freshNoise = settings.noise() == BlendSettings.NoiseMode.FRESH;
        this.fixedNoise = freshNoise ? null : Scopes.keep(rng.randnLike(zSrc));
        this.finalLatentPaste = settings.finalLatentPaste();
        this.observer = observer;
    }

    @Override public Tensor beforeModel(Tensor z, Step step) {
        if (point != BlendSettings.BlendPoint.BEFORE_STEP) return z;
        return blend(z, step, step.index());
    }

    @Override public Tensor afterStep(Tensor z, Tensor predictedX0, Step step) {
        int i = step.index();
        boolean last = i == step.count() - 1;
        if (point == BlendSettings.BlendPoint.AFTER_STEP) z = blend(z, step, i);
        else if (point == BlendSettings.BlendPoint.AFTER_STEP_NEXT_T && !last) z = blend(z, step, i + 1);
        if (last && finalLatentPaste) z = pasteClean(z, step);
        return z;
    }

    /**
     * z·m + noise(z_src, t_noiseIndex)·(1 − m), with the mask of step {@code noiseIndex}; also called by
     * {@link Resampling} at the level below a step, whatever the blend point.
     */
    Tensor blend(Tensor z, Step step, int noiseIndex) {
        Tensor mLat = masks.at(noiseIndex);
        Tensor eps = freshNoise ? rng.randnLike(z) : fixedNoise;              // (1, 4, h, w)
        Tensor zBg = scheduler.addNoise(zSrc, eps, noiseIndex);               // z_bg = noise(z_src, t)
        Tensor out = mix(z, zBg, mLat);
        if (observer != null) observer.accept(new Blended(step, noiseIndex, out, zBg, eps, mLat));
        return out;
    }

    private Tensor pasteClean(Tensor z, Step step) {
        Tensor mLat = masks.trueMask();
        Tensor out = mix(z, zSrc, mLat);
        if (observer != null) observer.accept(new Blended(step, -1, out, zSrc, null, mLat));
        return out;
    }

    /** z_fg ⊙ m + z_bg ⊙ (1 − m); with a binary m the outside is z_bg bit for bit. */
    static Tensor mix(Tensor zFg, Tensor zBg, Tensor mLat) {
        Tensor outside = mLat.neg().add(new Scalar(1.0));
        return zFg.mul(mLat).add(zBg.mul(outside));
    }
}
