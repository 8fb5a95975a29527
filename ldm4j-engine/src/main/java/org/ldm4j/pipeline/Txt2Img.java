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
        return denoiseAll(sd, request, controls, 1, hooks, cancelled);
    }

    /**
     * The request's images, {@code batch} seeds per UNet call (the last call takes the rest). Each image's z_T and
     * any ancestral noise come from its own seed's generator ({@link Rng#perSample}), so the images are those of
     * {@link #run} up to float rounding; on a small model one call on B images costs far less than B calls (the
     * image-level SBPC baseline batches its N images as FG-DM batches its N candidate maps).
     */
    public static List<Tensor> runBatched(StableDiffusion sd, GenerationRequest request, int batch, List<? extends StepHook> hooks,
                                          BooleanSupplier cancelled) {
        if (batch < 1) throw new IllegalArgumentException("batch must be at least 1, got " + batch);
        request.validate(sd.vaeScaleFactor());
        return denoiseAll(sd, request, List.of(), batch, hooks, cancelled);
    }

    /** The request's images, {@code batch} seeds per UNet call, the prompt encoded once (the request already checked). */
    private static List<Tensor> denoiseAll(StableDiffusion sd, GenerationRequest request, List<? extends ControlSource> controls, int batch,
                                           List<? extends StepHook> hooks, BooleanSupplier cancelled) {
        PromptConditioning text = sd.encodePrompt(request.prompt(), request.negativePrompt(), request.clipSkip());
        List<Tensor> images = new ArrayList<>();
        for (int k = 0; k < request.count(); k += batch) {
            int n = Math.min(batch, request.count() - k);
            images.addAll(denoise(sd, request, text, controls, request.seed() + k, n, hooks, cancelled));
        }
        return images;
    }

    /** Seeds firstSeed .. firstSeed + count - 1 denoised together; one (1, 3, H, W) image per seed. */
    private static List<Tensor> denoise(StableDiffusion sd, GenerationRequest request, PromptConditioning text, List<? extends ControlSource> controls,
                                        long firstSeed, int count, List<? extends StepHook> hooks, BooleanSupplier cancelled) {
        long[] seeds = new long[count];
        for (int j = 0; j < count; j++) seeds[j] = firstSeed + j;
        Rng rng = Rng.perSample(seeds);
        Scheduler scheduler = sd.scheduler(request.scheduler(), request.eta()).create(request.steps(), rng);
        Tensor zT = rng.randn(sd.device(), org.bytedeco.pytorch.global.torch.ScalarType.Float, count, sd.latentChannels(),
                request.height() / sd.vaeScaleFactor(), request.width() / sd.vaeScaleFactor())
                .mul(new Scalar(scheduler.initNoiseSigma()));
        Denoiser guided = new ClassifierFreeGuidance(sd.unet, text.repeat(count), request.guidanceScale(), null, controls);
        Tensor decoded = sd.decodeLatents(DenoisingLoop.run(zT, scheduler, 0, guided, hooks, cancelled));
        if (count == 1) return List.of(Scopes.keep(decoded));
        List<Tensor> images = new ArrayList<>(count);
        for (int j = 0; j < count; j++) images.add(Scopes.keep(decoded.narrow(0, j, 1).clone()));
        return images;
    }
}
