package org.ldm4j.methods.gradop;

import org.bytedeco.pytorch.NoGradGuard;
import org.bytedeco.pytorch.Tensor;
import org.ldm4j.models.unet.UNetExtras;
import org.ldm4j.nn.Rng;
import org.ldm4j.nn.Scopes;
import org.ldm4j.pipeline.ClassifierFreeGuidance;
import org.ldm4j.pipeline.DenoisingLoop;
import org.ldm4j.pipeline.PromptConditioning;
import org.ldm4j.pipeline.StableDiffusion;
import org.ldm4j.pipeline.Step;
import org.ldm4j.pipeline.StepHook;
import org.ldm4j.schedulers.Scheduler;
import org.ldm4j.schedulers.SchedulerConfig;

import java.util.ArrayList;
import java.util.List;
import java.util.function.BooleanSupplier;
import java.util.function.Function;

/**
 * GradOP+ (Singh, Gould, Zheng, "High-Fidelity Guided Image Synthesis with Latent Diffusion Models", CVPR 2023;
 * official {@code GradOPStroke2ImgPipeline.gradop_plus_stroke2img}): stroke painting y + prompt τ → a realistic image
 * in one reverse diffusion pass, approximating
 * <pre>
 *   x* = argmin_x L(f(x), y)   subject to   x ∈ S_τ  (the text-only samples of τ)
 * </pre>
 * Notation: z latents (UNet scale), D the VAE decoder, f the painting function, i₀ = ⌊N·(1 − strength)⌋.
 * <ol>
 *   <li>z_T from the seed (official: zeros noised to t_1); text-conditioned DDIM from pure noise, the painting is
 *       never VAE-encoded;</li>
 *   <li>after steps i₀ … i₀ + iterations − 1: Adam on z for L(f(D(z)), y), then re-noise to the current level
 *       ({@link GradOpPlusHook});</li>
 *   <li>the remaining steps are plain text-conditioned denoising: the projection back to S_τ; x = D(z_0).</li>
 * </ol>
 * Gradients flow through the decoder only; the UNet runs without them. Optional region semantics bias the
 * conditional cross-attention toward mapped phrases inside painted regions ({@link RegionSemantics}).
 */
public final class GradOpPlus {
    private GradOpPlus() {}

    /**
     * @param image      (1, 3, H, W) float32 in [−1, 1]
     * @param latent     z_0 (1, C, H/f, W/f)
     * @param iterations loss curves of the optimisation iterations, in order
     */
    public record Result(Tensor image, Tensor latent, List<LatentOptimizer.Result> iterations) {}

    /**
     * @param painting y (1, 3, H, W) in [0, 1] ({@link StrokePainting}); its size is the output size
     * @param regions  colour → phrase correspondences, or null for none
     * @param hooks    extra step hooks (progress, previews), run after the optimisation hook
     */
    public static Result run(StableDiffusion sd, StrokePrompt prompt, Tensor painting, GradOpPlusSettings settings,
                             RegionSettings regions, List<? extends StepHook> hooks, BooleanSupplier cancelled) {
        settings.validate();
        StrokePainting.check(painting, sd.vaeScaleFactor() * settings.lossScale(),
                "painting (multiple of VAE factor " + sd.vaeScaleFactor() + " x loss scale " + settings.lossScale() + ")");
        sd.vae.requiresGrad(false);   // z is the only leaf with a gradient; no parameter gradients accumulate
        try (NoGradGuard noGrad = new NoGradGuard()) {
            PromptConditioning text = sd.encodePrompt(prompt.prompt(), prompt.negativePrompt(), prompt.clipSkip());
            Rng rng = new Rng(prompt.seed());
            SchedulerConfig schedule = GradOpScheduling.scheduler(sd, settings.scheduler());
            Scheduler scheduler = schedule.create(settings.steps(), rng);
            Tensor zT = GradOpScheduling.startLatent(settings.start(), scheduler, rng, sd, painting.size(2), painting.size(3));

            PaintingLoss loss = new PaintingLoss(sd, painting, settings.painting(), settings.lossScale());
            boolean guided = settings.guidanceScale() > 1.0;
            Function<Step, UNetExtras> extras = regions == null || regions.isEmpty() ? null
                    : RegionSemantics.build(painting, regions, sd.tokenizer, text.encoding()).extras(schedule, guided);
            ClassifierFreeGuidance denoiser = new ClassifierFreeGuidance(sd.unet, text, settings.guidanceScale(), extras);

            GradOpPlusHook optimise = new GradOpPlusHook(scheduler, rng, loss, settings);
            List<StepHook> all = new ArrayList<>();
            all.add(optimise);
            if (hooks != null) all.addAll(hooks);
            Tensor z0 = DenoisingLoop.run(zT, scheduler, 0, denoiser, all, cancelled);
            return new Result(Scopes.keep(sd.decodeLatents(z0)), z0, optimise.history());
        }
    }
}
