package org.ldm4j.studio;

import com.fasterxml.jackson.databind.JsonNode;
import org.bytedeco.pytorch.Tensor;
import org.ldm4j.methods.gradop.BaselineSettings;
import org.ldm4j.methods.gradop.GradOp;
import org.ldm4j.methods.gradop.GradOpPlus;
import org.ldm4j.methods.gradop.GradOpParameters;
import org.ldm4j.methods.gradop.GradOpPlusSettings;
import org.ldm4j.methods.gradop.GradOpSettings;
import org.ldm4j.methods.gradop.PaintingSettings;
import org.ldm4j.methods.gradop.Region;
import org.ldm4j.methods.gradop.RegionSettings;
import org.ldm4j.methods.gradop.Stroke2ImgBaselines;
import org.ldm4j.methods.gradop.Stroke2ImgRecord;
import org.ldm4j.methods.gradop.Stroke2ImgSettings;
import org.ldm4j.methods.gradop.StrokePainting;
import org.ldm4j.methods.gradop.StrokePrompt;
import org.ldm4j.models.clip.CLIPTokenizer;
import org.ldm4j.pipeline.GenerationRequest;

import java.awt.Color;
import java.awt.image.BufferedImage;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Set;

/**
 * Stroke to image (GradOP+ and its baselines, {@code org.ldm4j.methods.gradop}): the canvas, sent as
 * {@code painting}, is the stroke painting y and its size the output size. {@code method} picks gradop+ (default),
 * gradop, sdedit, iterative-sdedit or text (text-only samples, the painting only sets the size); the method's
 * settings start from its defaults (gradop+: {@code preset} official or recommended) and take the fields given.
 * {@code regions} map painted colours to phrases of the prompt ({@code [{colour: "#RRGGBB", phrase, weight?}]}),
 * checked here against the prompt's tokens and the painting's colours, so mistakes are 400s, not failed jobs.
 * Steps, guidance and scheduler are the common fields (model defaults; the scheduler defaults to the official DDIM).
 */
final class Stroke2ImgMode implements Mode {
    static final String PAINTING = "painting";
    static final List<String> METHODS = GradOpParameters.METHODS;
    static final String FROM_CANVAS = "studio canvas";
    /** {@link DataUrls#decodePng} composites translucent pixels on white: the painting's background. */
    static final String BACKGROUND = "#FFFFFF";
    static final int MAX_GRAD_STEPS = 1000, MAX_ITERATIONS = 100;

    @Override public String name() { return "stroke2img"; }

    @Override public String title() { return "Stroke to image"; }

    @Override public Set<String> extraFields() {
        return Set.of(PAINTING, "method", "preset", "strength", "iterations", "gradSteps", "lr", "paintingFunction",
                "blurKernel", "blurSigma", "regions", "regionStrength", "regionTolerance");
    }

    @Override
    public Prepared prepare(RequestFields f) {
        BufferedImage painting = DataUrls.decodePng(f.requiredText(PAINTING), PAINTING, f.limits().maxSide());
        String method = f.optionalText("method") == null ? "gradop+" : f.optionalText("method").toLowerCase(Locale.ROOT);
        if (!METHODS.contains(method)) throw ApiError.badRequest("unknown method '" + method + "' (expected one of " + METHODS + ")");
        Double eta = f.optionalDouble("eta");
        if (eta != null && eta != 0) throw ApiError.badRequest("eta is not supported by stroke2img (GradOP runs deterministic DDIM)");
        GenerationRequest generic = f.toRequest(name(), painting.getWidth(), painting.getHeight(), null, FROM_CANVAS);
        if (generic.width() != painting.getWidth() || generic.height() != painting.getHeight()) {
            throw ApiError.badRequest("painting is " + painting.getWidth() + "x" + painting.getHeight() + " but width/height ask for "
                    + generic.width() + "x" + generic.height() + " (leave them out to use the painting's size)");
        }
        if (!method.equals("gradop+") && f.node("preset") != null) throw ApiError.badRequest("preset applies to gradop+ only, not " + method);
        String preset = method.equals("gradop+") ? preset(f) : null;
        Stroke2ImgSettings settings = invalidAs400(() -> settings(method, preset, generic, f));
        PaintingSettings paint = settings instanceof GradOpPlusSettings s ? s.painting()
                : settings instanceof GradOpSettings s ? s.painting() : null;
        int pad = paint == null ? 0 : paint.blurKernel() / 2;
        if (paint != null && paint.function().equals("blur") && pad >= Math.min(painting.getWidth(), painting.getHeight())) {
            throw ApiError.badRequest("blur kernel " + paint.blurKernel() + " needs a painting larger than " + pad + " pixels a side, "
                    + "this one is " + painting.getWidth() + "x" + painting.getHeight() + ": give a smaller blurKernel (the "
                    + "official 35 is meant for 512x512)");
        }
        RegionSettings regions = regions(f, method, generic.prompt(), painting);

        Double strength = GradOpParameters.strengthOf(method, settings);
        GenerationRequest request = new GenerationRequest(name(), generic.model(), generic.prompt(), generic.negativePrompt(),
                generic.width(), generic.height(), generic.steps(), generic.guidanceScale(),
                generic.scheduler() != null ? generic.scheduler() : "ddim", generic.seed(), generic.count(),
                generic.clipSkip(), 0.0, strength, FROM_CANVAS);
        Stroke2ImgRecord record = new Stroke2ImgRecord(request, method, preset, settings,
                regions == null ? null : regions.regions().stream().map(Region::toString).toList(),
                regions == null ? 0.4 : regions.strength(), regions == null ? 64 : regions.tolerance(), FROM_CANVAS, BACKGROUND);
        int loopsPerImage = switch (method) {
            case "gradop" -> ((GradOpSettings) settings).projectionStrength() > 0 ? 2 : 1;   // text-only pass + projection
            case "iterative-sdedit" -> ((BaselineSettings) settings).iterations();
            default -> 1;
        };
        return new Prepared(request, record, loopsPerImage, (sd, hooks, cancelled, phases) -> {
            Tensor y = StrokePainting.toTensor(painting);
            StrokePrompt prompt = new StrokePrompt(request.prompt(), request.negativePrompt(), request.seed(), request.clipSkip());
            List<Tensor> images = new ArrayList<>();
            if (method.equals("text")) {
                images.addAll(Stroke2ImgBaselines.textOnly(sd, prompt, request.width(), request.height(), request.count(),
                        (BaselineSettings) settings, hooks, cancelled));
            }
            for (int k = 0; k < request.count() && !method.equals("text"); k++) {
                StrokePrompt pk = prompt.withSeed(request.seed() + k);
                images.add(switch (method) {
                    case "gradop+" -> GradOpPlus.run(sd, pk, y, (GradOpPlusSettings) settings, regions, hooks, cancelled).image();
                    case "gradop" -> GradOp.run(sd, pk, y, (GradOpSettings) settings, regions, hooks, cancelled).image();
                    case "sdedit" -> Stroke2ImgBaselines.sdedit(sd, pk, y, (BaselineSettings) settings, hooks, cancelled);
                    default -> {
                        List<Tensor> rounds = Stroke2ImgBaselines.iterativeSdedit(sd, pk, y, (BaselineSettings) settings, hooks, cancelled);
                        yield rounds.get(rounds.size() - 1);
                    }
                });
            }
            List<Output> out = new ArrayList<>();
            for (int k = 0; k < images.size(); k++) {
                Stroke2ImgRecord one = record.forImage(request.withSeed(request.seed() + k));
                out.add(new Output(images.get(k), one.generation(), one, method + (preset != null ? " (" + preset + ")" : "")));
            }
            return out;
        });
    }

    /** The preset's name; the library knows the presets (GradOpParameters), and an unknown one is its 400 in settings(). */
    private static String preset(RequestFields f) {
        String p = f.optionalText("preset");
        return p == null ? "official" : p.toLowerCase(Locale.ROOT);
    }

    /** The method's settings: its defaults, the common steps/guidance/scheduler, then every method field given. */
    private static Stroke2ImgSettings settings(String method, String preset, GenerationRequest r, RequestFields f) {
        Double strength = f.optionalDouble("strength"), lr = f.optionalDouble("lr");
        Integer iterations = f.optionalInt("iterations"), gradSteps = f.optionalInt("gradSteps");
        String function = f.optionalText("paintingFunction");
        Integer blurKernel = f.optionalInt("blurKernel");
        Double blurSigma = f.optionalDouble("blurSigma");
        if (iterations != null && (iterations < 0 || iterations > MAX_ITERATIONS)) {
            throw ApiError.badRequest("iterations must be in 0.." + MAX_ITERATIONS + ", got " + iterations);
        }
        if (gradSteps != null && (gradSteps < 0 || gradSteps > MAX_GRAD_STEPS)) {
            throw ApiError.badRequest("gradSteps must be in 0.." + MAX_GRAD_STEPS + ", got " + gradSteps);
        }
        GradOpParameters given = new GradOpParameters(preset, r.scheduler(), r.steps(), r.guidanceScale(), strength, iterations,
                gradSteps, lr, null, null, function, blurKernel, blurSigma, null, null);
        given.painting();   // the painting fields are checked first, whatever the method
        if (method.equals("gradop") && iterations != null) throw ApiError.badRequest("iterations apply to gradop+ and iterative-sdedit, not gradop");
        if (!method.startsWith("gradop")) {
            if (given.hasGradOpOnly()) {
                throw ApiError.badRequest("gradSteps, lr and the painting function's fields apply to gradop+ and gradop only, not " + method);
            }
            if (method.equals("text") && (strength != null || iterations != null)) {
                throw ApiError.badRequest("strength and iterations do not apply to the text-only preview");
            }
            if (method.equals("sdedit") && iterations != null) throw ApiError.badRequest("iterations apply to iterative-sdedit, not sdedit");
        }
        return given.toSettings(method);
    }

    /**
     * The colour → phrase table, or null for none. Every phrase must occur in the prompt (the tokenizer's check,
     * as the method makes it) and every colour in the painting (the method's nearest-colour rule, in plain Java).
     */
    private static RegionSettings regions(RequestFields f, String method, String prompt, BufferedImage painting) {
        JsonNode list = f.node("regions");
        Double strength = f.optionalDouble("regionStrength"), tolerance = f.optionalDouble("regionTolerance");
        if (list == null || list.isEmpty()) {
            if (list != null && !list.isArray()) throw ApiError.badRequest("regions must be a list of {colour, phrase, weight}");
            if (strength != null || tolerance != null) throw ApiError.badRequest("regionStrength and regionTolerance need regions");
            return null;
        }
        if (!list.isArray()) throw ApiError.badRequest("regions must be a list of {colour, phrase, weight}");
        if (!method.startsWith("gradop")) throw ApiError.badRequest("regions apply to gradop+ and gradop only, not " + method);
        List<Region> regions = new ArrayList<>();
        for (JsonNode r : list) {
            JsonNode colour = r.get("colour"), phrase = r.get("phrase"), weight = r.get("weight");
            if (!r.isObject() || colour == null || !colour.isTextual() || phrase == null || !phrase.isTextual()) {
                throw ApiError.badRequest("each region needs a colour \"#RRGGBB\" and a phrase, got " + r);
            }
            if (weight != null && !weight.isNull() && !weight.isNumber()) throw ApiError.badRequest("region weight must be a number, got " + weight);
            regions.add(invalidAs400(() -> new Region(StrokePainting.parseColour(colour.textValue()), phrase.textValue(),
                    weight == null || weight.isNull() ? 1.0 : weight.doubleValue())));
        }
        RegionSettings settings = invalidAs400(() -> new RegionSettings(regions, strength == null ? 0.4 : strength,
                tolerance == null ? 64 : tolerance).validate());
        CLIPTokenizer tokenizer = f.tokenizer();
        if (tokenizer != null) {
            CLIPTokenizer.Encoding encoding = tokenizer.encode(prompt);
            for (Region r : regions) invalidAs400(() -> tokenizer.tokenIndicesOf(r.phrase(), encoding));
        }
        requireColoursPainted(painting, settings);
        return settings;
    }

    /** Each pixel belongs to its nearest listed colour if within the tolerance; every colour must own a pixel. */
    static void requireColoursPainted(BufferedImage painting, RegionSettings settings) {
        List<Region> regions = settings.regions();
        boolean[] present = new boolean[regions.size()];
        double tolerance2 = settings.tolerance() * settings.tolerance();
        int w = painting.getWidth(), h = painting.getHeight();
        int[] rgb = painting.getRGB(0, 0, w, h, null, 0, w);
        for (int p : rgb) {
            int best = -1;
            double bestD = Double.MAX_VALUE;
            for (int k = 0; k < regions.size(); k++) {
                Color c = regions.get(k).colour();
                double dr = (p >> 16 & 0xFF) - c.getRed(), dg = (p >> 8 & 0xFF) - c.getGreen(), db = (p & 0xFF) - c.getBlue();
                double d = dr * dr + dg * dg + db * db;
                if (d < bestD) { bestD = d; best = k; }
            }
            if (bestD <= tolerance2) present[best] = true;
        }
        for (int k = 0; k < regions.size(); k++) {
            if (!present[k]) {
                throw ApiError.badRequest("region colour " + regions.get(k).hexColour() + " (\"" + regions.get(k).phrase()
                        + "\") does not occur in the painting within tolerance " + settings.tolerance());
            }
        }
    }

    /** Runs a library check; its IllegalArgumentException (a message naming the problem) becomes a 400. */
    static <T> T invalidAs400(java.util.function.Supplier<T> check) {
        try {
            return check.get();
        } catch (IllegalArgumentException e) {
            throw ApiError.badRequest(e.getMessage());
        }
    }
}
