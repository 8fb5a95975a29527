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
import org.ldm4j.schedulers.Schedulers;

import java.util.List;
import java.util.function.BooleanSupplier;
import java.util.function.Function;

/**
 * GradOP, the two-pass approximation (Singh et al., CVPR 2023, Fig. 2; no official code, the body was never released):
 * <pre>
 *   1. x_τ = D(z_τ), z_τ a text-only sample of τ                         (a full reverse pass)
 *   2. z̃ = argmin_z L(f(D(z)), y) + λ·mean((z − z_τ)²), from z = z_τ     (Adam, gradSteps steps)
 *   3. x = SDEdit(z̃, τ, projectionStrength): noise z̃ to t₀, denoise with the text  (back to S_τ)
 * </pre>
 * Choices made here (shared/design/gradop.md §1.2 [RECON]): the optimisation runs over the SD latent through the
 * decoder, as GradOP+'s; the proximity is the mean squared latent distance, normalised like the faithfulness term
 * (so λ does not depend on the image size), with the deleted stub's λ = 1e-3 and 50 steps. At that λ the proximity is
 * weak: proximity mostly comes from early stopping, as in GradOP+. The projection is SDEdit ("the diffusion based
 * inversion of [37]") at the level GradOP+ injects at (0.8), on the latent directly (no decode/encode round trip).
 * One generator serves the run: z_T, then the projection noise. Region semantics apply to both passes.
 */
public final class GradOp {
    private GradOp() {}

    /**
     * @param image        the result (1, 3, H, W) in [−1, 1]
     * @param textOnly     the text-only sample x_τ of pass 1 (1, 3, H, W) in [−1, 1]
     * @param optimisation the loss curve of step 2 and z̃
     */
    public record Result(Tensor image, Tensor latent, Tensor textOnly, LatentOptimizer.Result optimisation) {}

    public static Result run(StableDiffusion sd, StrokePrompt prompt, Tensor painting, GradOpSettings settings,
                             RegionSettings regions, List<? extends StepHook> hooks, BooleanSupplier cancelled) {
        settings.validate();
        StrokePainting.check(painting, sd.vaeScaleFactor() * settings.lossScale(),
                "painting (multiple of VAE factor " + sd.vaeScaleFactor() + " x loss scale " + settings.lossScale() + ")");
        sd.vae.requiresGrad(false);
        List<? extends StepHook> extraHooks = hooks == null ? List.of() : hooks;
        try (NoGradGuard noGrad = new NoGradGuard()) {
            PromptConditioning text = sd.encodePrompt(prompt.prompt(), prompt.negativePrompt(), prompt.clipSkip());
            Rng rng = new Rng(prompt.seed());
            SchedulerConfig schedule = GradOpScheduling.scheduler(sd, settings.scheduler());
            PaintingLoss loss = new PaintingLoss(sd, painting, settings.painting(), settings.lossScale());
            boolean guided = settings.guidanceScale() > 1.0;
            Function<Step, UNetExtras> extras = regions == null || regions.isEmpty() ? null
                    : RegionSemantics.build(painting, regions, sd.tokenizer, text.encoding()).extras(schedule, guided);
            ClassifierFreeGuidance denoiser = new ClassifierFreeGuidance(sd.unet, text, settings.guidanceScale(), extras);

            // 1. z_τ: a text-only sample, started as the official text2img_prediction does
            Scheduler first = schedule.create(settings.steps(), rng);
            Tensor zT = GradOpScheduling.startLatent(GradOpPlusSettings.StartLatent.NOISED_ZEROS, first, rng, sd,
                    painting.size(2), painting.size(3));
            Tensor zTau = DenoisingLoop.run(zT, first, 0, denoiser, extraHooks, cancelled);
            Tensor xTau = Scopes.keep(sd.decodeLatents(zTau));

            // 2. z̃: faithfulness + λ·proximity, from z_τ
            LatentOptimizer.Result opt = LatentOptimizer.optimise(loss, zTau, settings.gradSteps(), settings.lr(),
                    zTau, settings.lambda());

            // 3. SDEdit projection of z̃ back to S_τ
            Scheduler second = schedule.create(settings.steps(), rng);
            int t0 = Schedulers.img2imgStartIndex(settings.steps(), settings.projectionStrength(), second.order());
            Tensor z0 = opt.z();
            if (t0 < second.timesteps().length) {
                Tensor zStart = second.addNoise(opt.z(), rng.randnLike(opt.z()), t0);
                z0 = DenoisingLoop.run(zStart, second, t0, denoiser, extraHooks, cancelled);
            }
            return new Result(Scopes.keep(sd.decodeLatents(z0)), z0, xTau, opt);
        }
    }
}
