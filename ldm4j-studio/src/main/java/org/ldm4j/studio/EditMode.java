package org.ldm4j.studio;

import com.fasterxml.jackson.annotation.JsonInclude;
import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.Tensor;
import org.ldm4j.image.Images;
import org.ldm4j.methods.blended.BackgroundPsnr;
import org.ldm4j.methods.blended.BackgroundRepair;
import org.ldm4j.methods.blended.BlendSettings;
import org.ldm4j.methods.blended.BlendedLatentDiffusion;
import org.ldm4j.methods.blended.EditResult;
import org.ldm4j.methods.blended.EditScorer;
import org.ldm4j.methods.blended.Masks;
import org.ldm4j.pipeline.GenerationRequest;

import java.awt.image.BufferedImage;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Set;

/**
 * Edit (Blended Latent Diffusion, {@code org.ldm4j.methods.blended}): {@code image} (the canvas) is regenerated from
 * the prompt inside {@code mask} (white = edit, same size) and kept outside. {@code count} samples are ranked by
 * background PSNR, or with {@code rankWith: "clip"} by the official CLIP ranking (the studio's {@code --clip}); the
 * results are, best first: the best sample after background repair and pixel paste (when the preset or
 * {@code repair}/{@code repairSteps} enable them), then every sample as sampled, each with its rank and score. {@code preset}: recommended (default) or official, as {@code ldm4j edit --preset}. The repair's steps come as
 * progress events of phase {@code "repair"} after the samples' denoising steps.
 */
final class EditMode implements Mode {
    static final String IMAGE = "image", MASK = "mask";
    static final String FROM_CANVAS = "studio canvas", MASK_FROM_PAGE = "studio mask";
    static final int MAX_REPAIR_STEPS = 1000;
    /** The {@code phase} of the progress events the background repair sends, one per Adam step. */
    static final String REPAIR_PHASE = "repair";

    /** The PNG's {@code ldm4j} chunk: the same record {@code ldm4j edit} writes. */
    @JsonInclude(JsonInclude.Include.NON_NULL)
    record EditRecord(GenerationRequest request, String mask, BlendSettings blended, String scorer, Integer rank,
                      Double score, Boolean repaired, Long repairMillis) {}

    @Override public String name() { return "edit"; }

    @Override public String title() { return "Edit"; }

    @Override public Set<String> extraFields() { return Set.of(IMAGE, MASK, "preset", "repair", "repairSteps", "maskAttention", "rankWith"); }

    @Override
    public Prepared prepare(RequestFields f) {
        int maxSide = f.limits().maxSide();
        BufferedImage image = DataUrls.decodePng(f.requiredText(IMAGE), IMAGE, maxSide);
        BufferedImage mask = DataUrls.decodePngWithAlpha(f.requiredText(MASK), MASK, maxSide);
        BlendSettings settings = Stroke2ImgMode.invalidAs400(() -> settings(f));
        boolean fullMask = checkMask(image, mask, settings, f.model().vaeScaleFactor());
        GenerationRequest request = f.toRequest(name(), image.getWidth(), image.getHeight(), null, FROM_CANVAS);
        if (request.width() != image.getWidth() || request.height() != image.getHeight()) {
            throw ApiError.badRequest("image is " + image.getWidth() + "x" + image.getHeight() + " but width/height ask for "
                    + request.width() + "x" + request.height() + " (leave them out to use the image's size)");
        }
        if (settings.firstStep(request.steps()) >= request.steps()) {
            throw ApiError.badRequest("blend start " + settings.blendStart() + " of " + request.steps() + " steps leaves no step to run");
        }
        EditScorer scorer = scorer(f);
        EditRecord parameters = new EditRecord(request, MASK_FROM_PAGE, settings, scorer.name(), null, null, null, null);
        int repairSteps = settings.repair().steps();
        boolean repairs = settings.repair().enabled() && !fullMask;   // a full mask runs plain text2img, no repair
        return new Prepared(request, parameters, 1, repairs ? 1 : 0, null, (sd, hooks, cancelled, phases) -> {
            Tensor x = Images.toTensor(image), m = Images.maskToTensor(mask);
            EditResult r = new BlendedLatentDiffusion(sd, settings)
                    .repairProgress(done -> phases.step(REPAIR_PHASE, done, repairSteps))
                    .edit(request, x, m, scorer, hooks, cancelled);
            return outputs(r, request, settings);
        });
    }

    /** {@code rankWith}: background (PSNR outside the mask, the default) or clip (the server's --clip, the official ranking). */
    private static EditScorer scorer(RequestFields f) {
        String rankWith = f.optionalText("rankWith");
        if (rankWith == null || rankWith.equals("background")) return new BackgroundPsnr();
        if (rankWith.equals("clip")) return f.clipRanker();
        throw ApiError.badRequest("rankWith must be background or clip, got '" + rankWith + "'");
    }

    /** Beyond this the bias swamps the scores (w' multiplies their maximum): 2 is what ToyWorld edits measured best. */
    static final double MAX_MASK_ATTENTION = 10;

    /** recommended or official, then repair on/off and its steps, and the mask attention, as {@code ldm4j edit}'s options. */
    private static BlendSettings settings(RequestFields f) {
        BlendSettings s = BlendSettings.preset(f.optionalText("preset") == null ? "recommended" : f.optionalText("preset"));
        Boolean repair = f.optionalBoolean("repair");
        Integer steps = f.optionalInt("repairSteps");
        if (Boolean.FALSE.equals(repair) && steps != null) throw ApiError.badRequest("repair false and repairSteps contradict each other");
        if (steps != null && (steps < 1 || steps > MAX_REPAIR_STEPS)) {
            throw ApiError.badRequest("repairSteps must be in 1.." + MAX_REPAIR_STEPS + ", got " + steps);
        }
        Double attention = f.optionalDouble("maskAttention");
        if (attention != null) {
            if (!(attention >= 0 && attention <= MAX_MASK_ATTENTION)) {
                throw ApiError.badRequest("maskAttention must be in 0.." + MAX_MASK_ATTENTION + ", got " + attention);
            }
            s = s.withMaskAttention(attention);
        }
        if (Boolean.FALSE.equals(repair)) return s.withRepair(BackgroundRepair.Settings.off());
        return Boolean.TRUE.equals(repair) || steps != null ? s.withRepairOn(steps) : s;
    }

    /**
     * The library's own checks (shape, size against the image, multiple of the VAE factor, not empty), plus one it
     * would only make on the worker: a mask thinner than the VAE factor vanishes at latent resolution.
     *
     * @return whether the mask covers the whole image
     */
    private static boolean checkMask(BufferedImage image, BufferedImage mask, BlendSettings settings, int factor) {
        try (PointerScope scope = new PointerScope()) {
            Tensor x = Images.toTensor(image), m = Images.maskToTensor(mask);
            Masks.check(m, x, factor);
            if (!Masks.isFull(m) && Masks.isEmpty(Masks.toLatent(m, factor, settings.downsampling(), settings.threshold()))) {
                throw ApiError.badRequest("the mask vanishes at latent resolution (1/" + factor + " of the image): it is thinner than "
                        + factor + " pixels; paint a wider mask");
            }
            return Masks.isFull(m);
        } catch (IllegalArgumentException e) {
            throw ApiError.badRequest(e.getMessage());
        }
    }

    /** The repaired best first (when repair or the pixel paste changed it), then every sample by rank. */
    private static List<Output> outputs(EditResult r, GenerationRequest request, BlendSettings settings) {
        List<Output> out = new ArrayList<>();
        EditResult.Sample top = r.bestSample();
        BackgroundRepair.Result repair = r.repair();
        if (r.best() != top.image()) {   // the same tensor when neither repair nor the pixel paste ran
            GenerationRequest single = request.withSeed(top.seed());
            out.add(new Output(r.best(), single, new EditRecord(single, MASK_FROM_PAGE, settings, r.scorer(), 1, finite(top.score()),
                    repair != null, repair != null ? repair.millis() : null), "best" + (repair != null ? ", repaired" : ", pasted")
                    + " (seed " + top.seed() + ")"));
        }
        List<EditResult.Sample> ranked = r.ranked();
        for (int rank = 1; rank <= ranked.size(); rank++) {
            EditResult.Sample s = ranked.get(rank - 1);
            GenerationRequest single = request.withSeed(s.seed());
            out.add(new Output(s.image(), single, new EditRecord(single, MASK_FROM_PAGE, settings, r.scorer(), rank,
                    finite(s.score()), false, null), "#" + rank + " " + r.scorer() + " " + score(s.score()) + " (seed " + s.seed() + ")"));
        }
        return out;
    }

    private static Double finite(double v) { return Double.isFinite(v) ? v : null; }   // JSON has no infinity

    private static String score(double v) { return Double.isInfinite(v) ? "inf" : String.format(Locale.ROOT, "%.2f dB", v); }
}
