package org.ldm4j.pipeline;

import org.bytedeco.pytorch.Tensor;
import org.ldm4j.nn.Rng;
import org.ldm4j.nn.Scopes;
import org.ldm4j.schedulers.Scheduler;
import org.ldm4j.schedulers.Schedulers;

import java.util.ArrayList;
import java.util.List;
import java.util.function.BooleanSupplier;

/**
 * Image to image, SDEdit (Meng et al. 2022; diffusers {@code StableDiffusionImg2ImgPipeline}): encode the input,
 * noise it to the level of the step where {@code strength} of the schedule remains, denoise from there.
 *
 * <p>Parity: the VAE posterior sample draws from the generator before the noise does, as in diffusers. With
 * strength 0 no step runs and the result is the input's VAE round trip.
 */
public final class Img2Img {
    private Img2Img() {}

    /** @param image (1, 3, H, W) in [-1, 1] with H, W the request's size */
    public static List<Tensor> run(StableDiffusion sd, GenerationRequest request, Tensor image,
                                   List<? extends StepHook> hooks, BooleanSupplier cancelled) {
        return run(sd, request, image, List.of(), hooks, cancelled);
    }

    /** With ControlNets / adapters (diffusers' ControlNet img2img: control guidance fractions count this run's steps). */
    public static List<Tensor> run(StableDiffusion sd, GenerationRequest request, Tensor image, List<? extends ControlSource> controls,
                                   List<? extends StepHook> hooks, BooleanSupplier cancelled) {
        request.validate(sd.vaeScaleFactor());
        for (ControlSource c : controls) c.validate(sd, request.width(), request.height());
        if (image.size(2) != request.height() || image.size(3) != request.width()) {
            throw new IllegalArgumentException("init image is " + image.size(3) + "x" + image.size(2)
                    + " but the request asks for " + request.width() + "x" + request.height());
        }
        double strength = request.strength() == null ? 0.8 : request.strength();
        PromptConditioning text = sd.encodePrompt(request.prompt(), request.negativePrompt(), request.clipSkip());
        List<Tensor> images = new ArrayList<>();
        for (int k = 0; k < request.count(); k++) {
            Rng rng = new Rng(request.seed() + k);
            Scheduler scheduler = sd.scheduler(request.scheduler(), request.eta())
                    .create(request.steps(), rng);
            int first = Schedulers.img2imgStartIndex(request.steps(), strength, scheduler.order());
            Tensor z0 = sd.encodeImage(image, rng);
            Tensor z;
            if (first >= scheduler.timesteps().length) {
                z = z0;   // strength 0: nothing to denoise
            } else {
                Tensor zStart = scheduler.addNoise(z0, rng.randnLike(z0), first);
                Denoiser guided = new ClassifierFreeGuidance(sd.unet, text, request.guidanceScale(), null, controls);
                z = DenoisingLoop.run(zStart, scheduler, first, guided, hooks, cancelled);
            }
            images.add(Scopes.keep(sd.decodeLatents(z)));
        }
        return images;
    }
}
