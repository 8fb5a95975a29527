package org.ldm4j.methods.gradop;

import org.bytedeco.pytorch.Scalar;
import org.bytedeco.pytorch.Tensor;
import org.ldm4j.pipeline.GenerationRequest;
import org.ldm4j.pipeline.Img2Img;
import org.ldm4j.pipeline.StableDiffusion;
import org.ldm4j.pipeline.StepHook;
import org.ldm4j.pipeline.Txt2Img;

import java.util.ArrayList;
import java.util.List;
import java.util.function.BooleanSupplier;

/**
 * The baselines GradOP is compared with (paper Fig. 1), all through the engine's own pipelines:
 * <ul>
 *   <li>SDEdit (Meng et al. 2022): the painting VAE-encoded, noised to the strength's level, denoised with the text
 *       ({@link Img2Img}); outputs keep the layout but look like flat paintings (the "domain shift" of §1);</li>
 *   <li>text-only preview of the target subspace S_τ: N text-to-image samples ({@link Txt2Img}, Fig. 1e);</li>
 *   <li>iterative SDEdit: SDEdit re-run on its own output, more realistic and less faithful each round (Fig. 1c).
 *       Round k (from 0) uses seed + k, so rounds draw independent noise.</li>
 * </ul>
 */
public final class Stroke2ImgBaselines {
    private Stroke2ImgBaselines() {}

    /** SDEdit from the painting (1, 3, H, W) in [0, 1]; returns (1, 3, H, W) in [−1, 1]. */
    public static Tensor sdedit(StableDiffusion sd, StrokePrompt prompt, Tensor painting, BaselineSettings settings,
                                List<? extends StepHook> hooks, BooleanSupplier cancelled) {
        StrokePainting.check(painting, sd.vaeScaleFactor(), "painting");
        GenerationRequest r = request(sd, prompt, settings, "sdedit", painting.size(3), painting.size(2), 1, settings.strength());
        return Img2Img.run(sd, r, toSigned(painting), hooks(hooks), cancelled).get(0);
    }

    /** {@code count} text-only samples (seeds seed .. seed + count − 1) of size width x height. */
    public static List<Tensor> textOnly(StableDiffusion sd, StrokePrompt prompt, int width, int height, int count,
                                        BaselineSettings settings, List<? extends StepHook> hooks, BooleanSupplier cancelled) {
        GenerationRequest r = request(sd, prompt, settings, "text", width, height, count, null);
        return Txt2Img.run(sd, r, hooks(hooks), cancelled);
    }

    /** The output of every round of iterative SDEdit ({@code settings.iterations()} rounds), the last is the result. */
    public static List<Tensor> iterativeSdedit(StableDiffusion sd, StrokePrompt prompt, Tensor painting,
                                               BaselineSettings settings, List<? extends StepHook> hooks,
                                               BooleanSupplier cancelled) {
        StrokePainting.check(painting, sd.vaeScaleFactor(), "painting");
        List<Tensor> rounds = new ArrayList<>();
        Tensor image = toSigned(painting);
        for (int k = 0; k < settings.validate().iterations(); k++) {
            GenerationRequest r = request(sd, prompt.withSeed(prompt.seed() + k), settings, "iterative-sdedit",
                    painting.size(3), painting.size(2), 1, settings.strength());
            image = Img2Img.run(sd, r, image, hooks(hooks), cancelled).get(0);
            rounds.add(image);
        }
        return rounds;
    }

    static GenerationRequest request(StableDiffusion sd, StrokePrompt p, BaselineSettings s, String mode, long width,
                                     long height, int count, Double strength) {
        s.validate();
        return new GenerationRequest(mode, sd.name, p.prompt(), p.negativePrompt(), (int) width, (int) height, s.steps(),
                s.guidanceScale(), s.scheduler(), p.seed(), count, p.clipSkip(), 0.0, strength, null)
                .validate(sd.vaeScaleFactor());
    }

    private static Tensor toSigned(Tensor unit) { return unit.mul(new Scalar(2.0)).sub(new Scalar(1.0)); }

    private static List<? extends StepHook> hooks(List<? extends StepHook> hooks) { return hooks == null ? List.of() : hooks; }
}
