package org.ldm4j.batch;

import com.fasterxml.jackson.annotation.JsonInclude;
import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.InferenceMode;
import org.bytedeco.pytorch.NoGradGuard;
import org.bytedeco.pytorch.Tensor;
import org.ldm4j.image.Images;
import org.ldm4j.image.PngParameters;
import org.ldm4j.methods.blended.BackgroundPsnr;
import org.ldm4j.methods.blended.BackgroundRepair;
import org.ldm4j.methods.blended.BlendSettings;
import org.ldm4j.methods.blended.BlendedLatentDiffusion;
import org.ldm4j.methods.gradop.BaselineSettings;
import org.ldm4j.methods.gradop.GradOp;
import org.ldm4j.methods.gradop.GradOpPlus;
import org.ldm4j.methods.gradop.GradOpParameters;
import org.ldm4j.methods.gradop.GradOpPlusSettings;
import org.ldm4j.methods.gradop.GradOpSettings;
import org.ldm4j.methods.gradop.Stroke2ImgBaselines;
import org.ldm4j.methods.gradop.Stroke2ImgSettings;
import org.ldm4j.methods.gradop.StrokePainting;
import org.ldm4j.methods.gradop.StrokePrompt;
import org.ldm4j.pipeline.GenerationRequest;
import org.ldm4j.pipeline.Img2Img;
import org.ldm4j.pipeline.StableDiffusion;
import org.ldm4j.pipeline.Txt2Img;

import java.awt.Color;
import java.awt.image.BufferedImage;
import java.io.IOException;
import java.util.List;
import java.util.Locale;
import java.util.function.Supplier;

/**
 * Generates one {@link BatchItem} and writes it: the PNG (A1111 parameters + the request JSON, as the single-image
 * commands write it) then the JSON row, each atomically. An item whose image and ok row exist is skipped, so a rerun
 * resumes. A failure of the item itself (bad input path, bad parameter, a libtorch error) becomes a failed row; only
 * {@link Error}s (out of memory) escape, to fail the task.
 *
 * <p>Thread-safe: several workers may share one generator (and its model); each item has its own generator seed.
 */
public final class BatchGenerator {
    private final Supplier<ModelCache.Loaded> model;
    private final BatchStore store;
    private final String worker;

    /**
     * @param model  asked for the model only when an item must be generated, so a rerun that finds everything done
     *               loads nothing; a failure to load is the job's failure, not the item's
     * @param worker names the host/executor in the rows; the thread name is appended
     */
    public BatchGenerator(Supplier<ModelCache.Loaded> model, BatchStore store, String worker) {
        this.model = model;
        this.store = store;
        this.worker = worker;
    }

    /** What a method made: the image and the request object embedded in the PNG. */
    private record Made(BufferedImage image, GenerationRequest request, Object record) {}

    @JsonInclude(JsonInclude.Include.NON_NULL)
    record StrokeRecord(GenerationRequest generation, String method, String preset, Object settings, String painting,
                        String background) {}

    @JsonInclude(JsonInclude.Include.NON_NULL)
    record EditRecord(GenerationRequest request, String mask, BlendSettings blended) {}

    public BatchRow run(BatchItem item) {
        String who = worker + "/" + Thread.currentThread().getName();
        BatchRow done = existing(item);
        if (done != null) return done;
        ModelCache.Loaded loaded = model.get();
        StableDiffusion sd = loaded.sd();
        long modelLoadMillis = loaded.loadMillis();
        long t0 = System.nanoTime();
        long generated = t0;
        try {
            Made made;
            try (PointerScope scope = new PointerScope()) {
                made = generate(sd, item);
            }
            generated = System.nanoTime();
            byte[] png = PngParameters.encode(made.image(), sd.infotext(made.request()), made.record());
            store.write(item.imagePath(), png);
            long written = System.nanoTime();
            BatchRow row = new BatchRow(item.id(), item.index(), item.seed(), item.method(), item.prompt(),
                    item.parametersJson(), store.location(item.imagePath()), store.location(item.rowPath()), BatchRow.OK, null, false,
                    millis(t0, generated), millis(generated, written), modelLoadMillis, who);
            store.write(item.rowPath(), row.toJson());
            return row;
        } catch (Exception e) {
            String error = e.getClass().getSimpleName() + ": " + e.getMessage();
            BatchRow row = new BatchRow(item.id(), item.index(), item.seed(), item.method(), item.prompt(),
                    item.parametersJson(), null, store.location(item.rowPath()), BatchRow.FAILED, error, false, millis(t0, generated), 0,
                    modelLoadMillis, who);
            try {
                store.write(item.rowPath(), row.toJson());
            } catch (IOException ignored) {
                // the row still reaches the index; the failure itself is what matters
            }
            return row;
        }
    }

    /** The earlier run's row when the item is done (image present, row ok), else null. */
    private BatchRow existing(BatchItem item) {
        try {
            if (!store.exists(item.rowPath()) || !store.exists(item.imagePath())) return null;
            BatchRow row = BatchRow.fromJson(store.read(item.rowPath()), store.location(item.rowPath()));
            return row.ok() && row.id().equals(item.id()) ? row.asReused() : null;
        } catch (IOException e) {
            return null;   // an unreadable row: generate again (the writes replace it)
        }
    }

    private Made generate(StableDiffusion sd, BatchItem item) throws IOException {
        MethodParameters p = new MethodParameters(item.parameters());
        return switch (item.method()) {
            case "txt2img" -> txt2img(sd, item, p);
            case "img2img" -> img2img(sd, item, p);
            case "stroke2img" -> stroke2img(sd, item, p);
            case "edit" -> edit(sd, item, p);
            default -> throw new IllegalArgumentException("unknown method " + item.method());
        };
    }

    private static GenerationRequest request(StableDiffusion sd, BatchItem item, MethodParameters p, String mode, int width, int height,
                                      Double strength, String init) {
        boolean small = sd.defaultSize() <= 128;   // the CLI's defaults: the ToyWorld model wants fewer steps, less CFG
        return new GenerationRequest(mode, sd.name, item.prompt(), p.string("negativePrompt", ""),
                p.integer("width", width), p.integer("height", height), p.integer("steps", small ? 25 : 50),
                p.real("cfg", small ? 5.0 : 7.5), p.string("scheduler"), item.seed(), 1, p.integer("clipSkip", 0),
                p.real("eta", 0.0), strength, init).validate(sd.vaeScaleFactor());
    }

    private Made txt2img(StableDiffusion sd, BatchItem item, MethodParameters p) {
        GenerationRequest r = request(sd, item, p, "txt2img", sd.defaultSize(), sd.defaultSize(), null, null);
        try (InferenceMode inference = new InferenceMode()) {
            return new Made(Images.toImage(Txt2Img.run(sd, r, List.of(), null).get(0)), r, r);
        }
    }

    private Made img2img(StableDiffusion sd, BatchItem item, MethodParameters p) throws IOException {
        String init = p.required("init", "img2img");
        BufferedImage img = Images.readImage(store.localInput(init));
        GenerationRequest r = request(sd, item, p, "img2img", img.getWidth(), img.getHeight(), p.real("strength", 0.8), init);
        requireSize("init image " + init, img, r);
        try (InferenceMode inference = new InferenceMode()) {
            return new Made(Images.toImage(Img2Img.run(sd, r, Images.toTensor(img), List.of(), null).get(0)), r, r);
        }
    }

    private Made stroke2img(StableDiffusion sd, BatchItem item, MethodParameters p) throws IOException {
        String painting = p.required("painting", "stroke2img");
        String variant = p.string("variant", "gradop+").toLowerCase(Locale.ROOT);
        if (!MethodParameters.variants().contains(variant)) {
            throw new IllegalArgumentException("unknown stroke2img variant '" + variant + "' (expected one of " + MethodParameters.variants() + ")");
        }
        String background = p.string("background", "#FFFFFF");
        Color bg = StrokePainting.parseColour(background);
        BufferedImage img = StrokePainting.read(store.localInput(painting), bg);
        img = StrokePainting.resize(img, p.integer("width", img.getWidth()), p.integer("height", img.getHeight()));
        Images.requireMultipleOf(sd.vaeScaleFactor(), img.getWidth(), img.getHeight());
        String preset = p.string("preset", "official").toLowerCase(Locale.ROOT);
        StrokePrompt prompt = new StrokePrompt(item.prompt(), p.string("negativePrompt", ""), item.seed(), p.integer("clipSkip", 0));
        String scheduler = p.string("scheduler", "ddim");
        GradOpParameters given = new GradOpParameters(preset, scheduler, p.integer("steps"), p.real("cfg"), p.real("strength"),
                p.integer("iterations"), p.integer("gradSteps"), p.real("lr"), null, p.integer("lossScale"), null,
                p.integer("blurKernel"), p.real("blurSigma"), null, null);
        given.painting();   // a bad blur key fails the item whatever the variant, even a baseline that ignores it
        Stroke2ImgSettings settings = given.toSettings(variant);
        Tensor out;
        try (NoGradGuard noGrad = new NoGradGuard()) {
            Tensor y = StrokePainting.toTensor(img);
            out = switch (variant) {
                case "gradop+" -> GradOpPlus.run(sd, prompt, y, (GradOpPlusSettings) settings, null, List.of(), null).image();
                case "gradop" -> GradOp.run(sd, prompt, y, (GradOpSettings) settings, null, List.of(), null).image();
                case "sdedit" -> Stroke2ImgBaselines.sdedit(sd, prompt, y, (BaselineSettings) settings, List.of(), null);
                default -> {
                    List<Tensor> rounds = Stroke2ImgBaselines.iterativeSdedit(sd, prompt, y, (BaselineSettings) settings, List.of(), null);
                    yield rounds.get(rounds.size() - 1);
                }
            };
        }
        GenerationRequest r = new GenerationRequest("stroke2img", sd.name, item.prompt(), prompt.negativePrompt(),
                img.getWidth(), img.getHeight(), settings.steps(), settings.guidanceScale(), scheduler, item.seed(), 1, prompt.clipSkip(), 0.0,
                GradOpParameters.strengthOf(variant, settings), painting).validate(sd.vaeScaleFactor());
        StrokeRecord record = new StrokeRecord(r, variant, variant.equals("gradop+") ? preset : null, settings, painting, background);
        return new Made(Images.toImage(out), r, record);
    }

    private Made edit(StableDiffusion sd, BatchItem item, MethodParameters p) throws IOException {
        String image = p.required("image", "edit");
        String mask = p.required("mask", "edit");
        BufferedImage img = Images.readImage(store.localInput(image));
        Tensor m = Images.readMask(store.localInput(mask));
        if (m.size(3) != img.getWidth() || m.size(2) != img.getHeight()) {
            throw new IllegalArgumentException("mask " + mask + " is " + m.size(3) + "x" + m.size(2) + " but image " + image
                    + " is " + img.getWidth() + "x" + img.getHeight());
        }
        BlendSettings s = BlendSettings.preset(p.string("preset", "recommended"));
        if (p.has("blendStart")) s = s.withBlendStart(p.real("blendStart"));
        if (Boolean.FALSE.equals(p.bool("repair"))) s = s.withRepair(BackgroundRepair.Settings.off());
        if (p.has("repairSteps")) s = s.withRepairOn(p.integer("repairSteps"));
        if (p.has("pixelBlend")) s = s.withPixelBlend(p.bool("pixelBlend"));
        GenerationRequest r = request(sd, item, p, "edit", img.getWidth(), img.getHeight(), null, image);
        requireSize("image " + image, img, r);
        try (InferenceMode inference = new InferenceMode()) {
            Tensor best = new BlendedLatentDiffusion(sd, s).edit(r, Images.toTensor(img), m, new BackgroundPsnr(), List.of(), null).best();
            return new Made(Images.toImage(best), r, new EditRecord(r, mask, s));
        }
    }

    private static void requireSize(String what, BufferedImage img, GenerationRequest r) {
        if (img.getWidth() != r.width() || img.getHeight() != r.height()) {
            throw new IllegalArgumentException(what + " is " + img.getWidth() + "x" + img.getHeight() + " but the item asks for "
                    + r.width() + "x" + r.height() + ": resize it or leave width/height out");
        }
    }

    private static long millis(long from, long to) { return (to - from) / 1_000_000; }
}
