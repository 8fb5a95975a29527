package org.ldm4j.studio;

import org.bytedeco.pytorch.Tensor;
import org.ldm4j.pipeline.GenerationRequest;
import org.ldm4j.pipeline.StableDiffusion;
import org.ldm4j.pipeline.StepHook;

import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.function.BooleanSupplier;

/**
 * One kind of job the studio runs ({@code "mode"} of {@code POST /api/jobs}).
 *
 * <p>Adding a method is: one class implementing this, one line in {@link Modes#ALL}, one entry in {@code MODES} of
 * the page's {@code modes.js}. {@link #prepare} runs on the HTTP thread and must reject bad input there (as
 * {@link ApiError}), so a job that is queued can only fail for reasons the client could not have known;
 * {@link Run#generate} runs on the model's worker.
 */
public interface Mode {
    /** The {@code mode} value clients send, e.g. {@code "txt2img"}. */
    String name();

    /** A short human title for the page. */
    String title();

    /** Request fields this mode reads beyond {@link RequestFields#COMMON}; any other field is refused. */
    default Set<String> extraFields() { return Set.of(); }

    /** True for modes that run the server's FG-DM ({@link FactorGraphSource}): shown disabled when it has none. */
    default boolean needsFactorGraph() { return false; }

    /** Validates the submission and returns the request to record plus the work to do. */
    Prepared prepare(RequestFields fields);

    /**
     * The work of one job; must poll {@code cancelled} through the denoising loop and pass {@code hooks} to it, and
     * report the steps of any long work that is not a denoising loop (an edit's background repair) to {@code phases}.
     */
    @FunctionalInterface
    interface Run {
        /** @return the images to write, in the order the page shows them (best first where the method ranks) */
        List<Output> generate(StableDiffusion sd, List<? extends StepHook> hooks, BooleanSupplier cancelled, PhaseProgress phases);
    }

    /** Progress through the work a job does after its denoising loops ({@link Prepared#phasesAfterLoops}). */
    @FunctionalInterface
    interface PhaseProgress {
        /** @param phase short name the events carry ("repair"); {@code done} of {@code total} steps are finished */
        void step(String phase, int done, int total);
    }

    /**
     * One result image.
     * @param image (1, 3, H, W) in [-1, 1]
     * @param request the request of this image alone (its own seed): the A1111 infotext is made from it
     * @param embedded what the PNG's {@code ldm4j} chunk records (the request, or the method's record as the CLI writes it)
     * @param label a short caption for the page (rank and score of an edit sample), or null
     * @param details what else the job's JSON shows with this image (a factor graph's maps and SBPC recalls), or null
     */
    record Output(Tensor image, GenerationRequest request, Object embedded, String label, Object details) {
        public Output(Tensor image, GenerationRequest request, Object embedded, String label) {
            this(image, request, embedded, label, null);
        }

        /** Images of seeds seed, seed + 1, ... each recording its own request (txt2img, img2img). */
        public static List<Output> plain(List<Tensor> images, GenerationRequest request) {
            List<Output> out = new ArrayList<>();
            for (int k = 0; k < images.size(); k++) {
                GenerationRequest single = request.withSeed(request.seed() + k);
                out.add(new Output(images.get(k), single, single, null));
            }
            return out;
        }
    }

    /**
     * @param request the generic request (count, seed, size, steps): progress and the gallery's sampler label use it
     * @param parameters what {@code GET /api/jobs/{id}} shows as the job's parameters (the request, or the
     *                   method's full record)
     * @param loopsPerImage denoising loops run for each image (2 for two-pass methods), so progress adds up to 1
     * @param previews the model whose VAE decodes the live previews (null: the studio's model); an FG-DM served on a
     *                 base of its own ({@link FactorGraphSource#toyWorldFolder}) denoises that base's latents
     * @param phasesAfterLoops phases the job reports through {@link PhaseProgress} after all its loops (an edit's
     *                 repair: 1); each counts as one more loop in the progress fraction
     */
    record Prepared(GenerationRequest request, Object parameters, int loopsPerImage, int phasesAfterLoops,
                    StableDiffusion previews, Run run) {
        public Prepared(GenerationRequest request, Run run) { this(request, request, 1, 0, null, run); }

        public Prepared(GenerationRequest request, Object parameters, int loopsPerImage, Run run) {
            this(request, parameters, loopsPerImage, 0, null, run);
        }

        public Prepared(GenerationRequest request, Object parameters, int loopsPerImage, StableDiffusion previews, Run run) {
            this(request, parameters, loopsPerImage, 0, previews, run);
        }
    }
}
