package org.ldm4j.pipeline;

import org.bytedeco.pytorch.Scalar;
import org.bytedeco.pytorch.Tensor;
import org.ldm4j.nn.Rng;
import org.ldm4j.nn.Scopes;
import org.ldm4j.schedulers.Scheduler;

import java.util.ArrayList;
import java.util.List;
import java.util.function.BooleanSupplier;

/**
 * Text to image (diffusers {@code StableDiffusionPipeline}): z_T ~ N(0, σ_init²), the denoising loop with
 * classifier-free guidance, x = D(z_0 / scaling_factor).
 *
 * <p>Seed parity: z_T is drawn from a CPU generator seeded with the image's seed, as
 * {@code torch.Generator().manual_seed(seed)} does in diffusers, and any ancestral noise comes from the same
 * generator, so the same weights, scheduler and seed reproduce diffusers' latents.
 */
public final class Txt2Img {
    private Txt2Img() {}

    /** @return one image per seed, each (1, 3, H, W) float32 in [-1, 1] */
    public static List<Tensor> run(StableDiffusion sd, GenerationRequest request, List<? extends StepHook> hooks,
                                   BooleanSupplier cancelled) {
        return run(sd, request, List.of(), hooks, cancelled);
    }

    /**
     * With ControlNets / adapters ({@link ControlSource}s, summed); each is checked against the request first and
     * serves every image of the request (so what it caches is computed once).
     */
    public static List<Tensor> run(StableDiffusion sd, GenerationRequest request, List<? extends ControlSource> controls,
                                   List<? extends StepHook> hooks, BooleanSupplier cancelled) {
        request.validate(sd.vaeScaleFactor());
        for (ControlSource c : controls) c.validate(sd, request.width(), request.height());
        PromptConditioning text = sd.encodePrompt(request.prompt(), request.negativePrompt(), request.clipSkip());
        List<Tensor> images = new ArrayList<>();
        for (int k = 0; k < request.count(); k++) {
            Rng rng = new Rng(request.seed() + k);
            Scheduler scheduler = sd.scheduler(request.scheduler(), request.eta())
                    .create(request.steps(), rng);
            Tensor zT = rng.randn(sd.device(), org.bytedeco.pytorch.global.torch.ScalarType.Float, 1, sd.latentChannels(),
                    request.height() / sd.vaeScaleFactor(), request.width() / sd.vaeScaleFactor())
                    .mul(new Scalar(scheduler.initNoiseSigma()));
            Denoiser guided = new ClassifierFreeGuidance(sd.unet, text, request.guidanceScale(), null, controls);
            Tensor z0 = DenoisingLoop.run(zT, scheduler, 0, guided, hooks, cancelled);
            images.add(Scopes.keep(sd.decodeLatents(z0)));
        }
        return images;
    }
}
