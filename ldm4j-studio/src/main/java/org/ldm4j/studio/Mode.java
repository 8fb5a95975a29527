package org.ldm4j.studio;

import org.bytedeco.pytorch.Tensor;
import org.ldm4j.pipeline.GenerationRequest;
import org.ldm4j.pipeline.StableDiffusion;
import org.ldm4j.pipeline.StepHook;

import java.util.List;
import java.util.Set;
import java.util.function.BooleanSupplier;

/**
 * One kind of job the studio runs ({@code "mode"} of {@code POST /api/jobs}).
 *
 * <p>Adding a method (GradOP stroke-to-image, Blended Latent Diffusion edit, factor graph) is: one class
 * implementing this, one line in {@link Modes#ALL}, one entry in {@code MODES} of the page's {@code studio.js}.
 * {@link #prepare} runs on the HTTP thread and must reject bad input there (as {@link ApiError}), so a job that is
 * queued can only fail for reasons the client could not have known; {@link Run#generate} runs on the model's worker.
 */
public interface Mode {
    /** The {@code mode} value clients send, e.g. {@code "txt2img"}. */
    String name();

    /** A short human title for the page. */
    String title();

    /** Request fields this mode reads beyond {@link RequestFields#COMMON}; any other field is refused. */
    default Set<String> extraFields() { return Set.of(); }

    /** Validates the submission and returns the request to record plus the work to do. */
    Prepared prepare(RequestFields fields);

    /** The work of one job; must poll {@code cancelled} through the denoising loop and pass {@code hooks} to it. */
    @FunctionalInterface
    interface Run {
        /** @return the images, each (1, 3, H, W) in [-1, 1] */
        List<Tensor> generate(StableDiffusion sd, List<? extends StepHook> hooks, BooleanSupplier cancelled);
    }

    /** @param request what is embedded in the result PNGs and shown in the gallery */
    record Prepared(GenerationRequest request, Run run) {}
}
