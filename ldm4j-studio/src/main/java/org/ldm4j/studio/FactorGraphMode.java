package org.ldm4j.studio;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.databind.JsonNode;
import org.bytedeco.pytorch.Tensor;
import org.ldm4j.methods.fgdm.ClassMap;
import org.ldm4j.methods.fgdm.Factor;
import org.ldm4j.methods.fgdm.FactorGraph;
import org.ldm4j.methods.fgdm.FactorGraphRequest;
import org.ldm4j.methods.fgdm.FactorGraphResult;
import org.ldm4j.methods.fgdm.FactorGraphSampler;
import org.ldm4j.methods.fgdm.FactorListener;
import org.ldm4j.methods.fgdm.FactorSettings;
import org.ldm4j.methods.fgdm.ObjectRecall;
import org.ldm4j.methods.fgdm.Palette;
import org.ldm4j.methods.fgdm.Sbpc;
import org.ldm4j.schedulers.Schedulers;
import org.ldm4j.methods.fgdm.SbpcResult;
import org.ldm4j.methods.fgdm.SbpcSettings;
import org.ldm4j.methods.fgdm.SegmentationMaps;
import org.ldm4j.pipeline.GenerationRequest;
import org.ldm4j.pipeline.Step;
import org.ldm4j.pipeline.StepHook;

import javax.imageio.ImageIO;
import java.awt.image.BufferedImage;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;

/**
 * Factor graph (FG-DM, {@code org.ldm4j.methods.fgdm}): the server's {@link FactorGraphModel} samples its condition
 * maps and then the image. {@code n} > 1 runs SBPC (sampling-based prompt compliance, paper sec. 4): n segmentation
 * candidates (seeds seed..seed+n-1, optionally with {@code conditionSteps} and at {@code halfResolution}) are scored
 * by object recall against the objects the prompt names, and the image factor runs once on the best. {@code sampling}:
 * sequential (default, the released code; SBPC needs it) or joint (the paper's eqs. 4-6, n = 1). {@code imageCheck} K
 * adds ldm4j's image check ({@link Sbpc.ImageCheck}; needs the server's segmenter, {@link FactorGraphModel#segmenter}):
 * the best map's image is segmented and, short of every named object, the next maps in the ranking get images too, up
 * to K; the image with the best recall is kept.
 *
 * <p>The result is the image (a gallery file) with, in its {@code details}: every condition map as a PNG data URL
 * (the segmentation map in exact palette colours, as the map editor reads it) and each SBPC candidate's recall and map.
 * {@code steps} and {@code guidanceScale} set every factor's; otherwise each factor keeps its own (fgdm.json).
 * The factors' samplers, negative prompts and sizes are the graph's: scheduler, eta, clipSkip, negativePrompt and a
 * size other than the image factor's are refused.
 */
final class FactorGraphMode implements Mode {
    static final int MAX_N = 16;
    static final List<String> FIXED_BY_GRAPH = List.of("scheduler", "eta", "clipSkip", "negativePrompt");
    static final String SBPC_FIELDS = "n, conditionSteps, halfResolution, conditionGuidance, conditionScheduler, mapMinArea, preferLargerObjects, "
            + "imageCheck, imageMinArea";
    static final String NO_SEGMENTER = "SBPC's image check is off: start the studio with --segmenter DIR (a ToyWorld segmenter folder, "
            + "e.g. models/toyworld-segmenter)";

    /** The PNG's {@code ldm4j} chunk and the job's parameters. */
    @JsonInclude(JsonInclude.Include.NON_NULL)
    record FactorGraphRecord(GenerationRequest request, String sampling, Integer n, Integer conditionSteps, Boolean halfResolution,
                             Double conditionGuidance, String conditionScheduler, Double mapMinArea, Boolean preferLargerObjects,
                             Integer imageCheck, Double imageMinArea, List<String> wanted, List<Double> recalls, Integer chosen, Long chosenSeed, String givenMap,
                             JsonNode edits, Boolean guide) {
        /** A record of a regeneration from a given map: no SBPC. */
        static FactorGraphRecord given(GenerationRequest request, List<String> wanted, String givenMap, JsonNode edits, boolean guide) {
            return new FactorGraphRecord(request, "sequential", null, null, null, null, null, null, null, null, null, wanted, null, null, null,
                    givenMap, edits, guide ? Boolean.TRUE : null);
        }

        FactorGraphRecord ran(GenerationRequest r, List<Double> recallList, Integer chosenIndex, Long seed) {
            return new FactorGraphRecord(r, sampling, n, conditionSteps, halfResolution, conditionGuidance, conditionScheduler, mapMinArea,
                    preferLargerObjects, imageCheck, imageMinArea, wanted, recallList, chosenIndex, seed, givenMap, edits, guide);
        }
    }

    static final String GUIDE = "guide";
    static final String NO_GUIDE = "guide is off: start the studio with --guide DIR (a ToyWorld segmenter trained apart from the evaluator, "
            + "e.g. models/toyworld-segmenter-guide)";

    /**
     * The request's {@code guide} (steer the image toward the segmentation map, {@link FactorGraphModel#guidance}):
     * false when absent; refused without a guide on the server or a map to steer toward.
     */
    static boolean guided(RequestFields f, FactorGraphModel fg) {
        if (!Boolean.TRUE.equals(f.optionalBoolean(GUIDE))) return false;
        if (fg.segmentationFactor() == null) throw ApiError.badRequest("guide steers the image toward the segmentation map, and this FG-DM has none");
        if (fg.guide() == null) throw new ApiError(503, NO_GUIDE);
        return true;
    }

    @Override public String name() { return "factorgraph"; }

    @Override public String title() { return "Factor graph"; }

    @Override public boolean needsFactorGraph() { return true; }

    @Override public Set<String> extraFields() {
        return Set.of("n", "sampling", "conditionSteps", "halfResolution", "conditionGuidance", "conditionScheduler", "mapMinArea",
                "preferLargerObjects", "imageCheck", "imageMinArea", GUIDE);
    }

    @Override
    public Prepared prepare(RequestFields f) {
        FactorGraphModel fg = f.factorGraph();
        GenerationRequest request = request(f, fg, name());
        int n = f.optionalInt("n") == null ? 1 : f.optionalInt("n");
        if (n < 1 || n > MAX_N) throw ApiError.badRequest("n (SBPC candidates) must be in 1.." + MAX_N + ", got " + n);
        String sampling = f.optionalText("sampling") == null ? "sequential" : f.optionalText("sampling").toLowerCase(Locale.ROOT);
        if (!sampling.equals("sequential") && !sampling.equals("joint")) {
            throw ApiError.badRequest("sampling must be sequential or joint, got '" + sampling + "'");
        }
        Integer conditionSteps = f.optionalInt("conditionSteps");
        boolean half = Boolean.TRUE.equals(f.optionalBoolean("halfResolution"));
        Double conditionGuidance = f.optionalDouble("conditionGuidance");
        String conditionScheduler = f.optionalText("conditionScheduler");
        Double mapMinArea = f.optionalDouble("mapMinArea");
        Boolean preferLargerObjects = f.optionalBoolean("preferLargerObjects");
        Integer imageCheck = f.optionalInt("imageCheck");
        Double imageMinArea = f.optionalDouble("imageMinArea");
        boolean guide = guided(f, fg);
        if (guide && sampling.equals("joint")) throw ApiError.badRequest("guide needs sampling sequential: the map must be final before the image starts");
        boolean sbpc = sampling.equals("sequential") && fg.segmentationFactor() != null;
        boolean candidateFields = conditionSteps != null || half || conditionGuidance != null || conditionScheduler != null || mapMinArea != null
                || preferLargerObjects != null || imageCheck != null || imageMinArea != null;
        if (!sbpc && (n > 1 || candidateFields)) {
            throw ApiError.badRequest(fg.segmentationFactor() == null
                    ? "SBPC (" + SBPC_FIELDS + ") scores a segmentation map, and this FG-DM has none"
                    : "SBPC (" + SBPC_FIELDS + ") needs sampling sequential: the image factor runs on the chosen map only");
        }
        if (imageCheck != null) {
            if (n < 2) throw ApiError.badRequest("imageCheck checks SBPC's image: it needs n > 1, got n " + n);
            if (imageCheck < 1 || imageCheck > n) throw ApiError.badRequest("imageCheck must be in 1..n (" + n + ") images, got " + imageCheck);
            if (fg.segmenter() == null) throw new ApiError(503, NO_SEGMENTER);
        }
        if (imageMinArea != null && imageCheck == null) throw ApiError.badRequest("imageMinArea scores the image check's images: it needs imageCheck");
        if (imageMinArea != null && !(imageMinArea >= 0 && imageMinArea < 1)) throw ApiError.badRequest("imageMinArea must be in [0, 1), got " + imageMinArea);
        if (conditionSteps != null && (conditionSteps < 1 || conditionSteps > f.limits().maxSteps())) {
            throw ApiError.badRequest("conditionSteps must be in 1.." + f.limits().maxSteps() + ", got " + conditionSteps);
        }
        if (conditionGuidance != null && !(conditionGuidance >= 1 && conditionGuidance <= 100)) {
            throw ApiError.badRequest("conditionGuidance must be in 1..100, got " + conditionGuidance);
        }
        if (conditionScheduler != null) {
            try {
                conditionScheduler = Schedulers.fromAlias(conditionScheduler).alias();
            } catch (IllegalArgumentException e) {
                throw ApiError.badRequest("conditionScheduler: " + e.getMessage());
            }
        }
        if (mapMinArea != null && !(mapMinArea >= 0 && mapMinArea < 1)) throw ApiError.badRequest("mapMinArea must be in [0, 1), got " + mapMinArea);
        double scoredArea = mapMinArea != null ? mapMinArea : FactorGraphModel.MIN_AREA;
        FactorGraph graph = tuned(fg.graph(), f);
        if (half) checkHalves(graph);
        if (sampling.equals("joint")) checkJointSteps(graph);
        Palette palette = fg.palette();
        List<String> wanted = new ArrayList<>();
        for (int c : ObjectRecall.namedIn(request.prompt(), palette, true)) wanted.add(palette.name(c));
        FactorGraphRecord record = new FactorGraphRecord(request, sampling, sbpc ? n : null, conditionSteps, sbpc ? half : null,
                conditionGuidance, conditionScheduler, mapMinArea, preferLargerObjects, imageCheck, imageMinArea,
                fg.segmentationFactor() != null ? wanted : null, null, null, null, null, null, guide ? Boolean.TRUE : null);
        int conditions = graph.factors().size() - graph.imageFactors().size();
        // SBPC's candidates draw only the scored map and its ancestors; the other condition factors run once, with the images
        int scored = fg.segmentationFactor() == null ? conditions : Sbpc.scoredFactors(graph, fg.segmentationFactor()).size();
        SbpcSettings sbpcSettings = new SbpcSettings(n, conditionSteps == null ? 0 : conditionSteps, half, null, FactorGraphModel.TOLERANCE)
                .withConditionGuidance(conditionGuidance).withConditionScheduler(conditionScheduler);
        int candidateLoops = (n + sbpcSettings.batch() - 1) / sbpcSettings.batch();   // one loop per batch of candidates
        // the final run draws the unscored condition maps and the image; an image check runs it for up to imageCheck candidates
        // (the bar counts them all and ends early when one image has every object)
        int finalLoops = (conditions - scored) + graph.imageFactors().size();
        int loops = sampling.equals("joint") ? 1 : candidateLoops * scored + finalLoops * (imageCheck == null ? 1 : imageCheck);
        return new Prepared(request, record, loops, graph.sd, (sd, hooks, cancelled, phases) -> {
            FactorListener listener = progress(hooks);
            String seg = fg.segmentationFactor();
            if (sbpc) {
                Set<Integer> named = Set.copyOf(ObjectRecall.namedIn(request.prompt(), palette, true));
                ObjectRecall recall = new ObjectRecall(named, scoredArea);
                Sbpc.ImageCheck check = imageCheck == null ? null : new Sbpc.ImageCheck(fg.segmenter(), imageCheck,
                        new ObjectRecall(named, imageMinArea != null ? imageMinArea : scoredArea));
                SbpcResult r = Sbpc.run(graph, seg, palette, request.prompt(), request.seed(),
                        Boolean.TRUE.equals(preferLargerObjects) ? recall.preferringLargerObjects() : recall,
                        sbpcSettings, Set.of(), check, fg.guidance(graph, guide), listener, cancelled);
                List<Map<String, Object>> candidates = new ArrayList<>();
                for (int k = 0; k < r.scores().size(); k++) {
                    Map<String, Object> c = new LinkedHashMap<>();
                    c.put("seed", request.seed() + k);
                    c.put("recall", r.scores().get(k));
                    c.put("chosen", k == r.chosen());
                    int imaged = r.imaged().indexOf(k);
                    if (imaged >= 0) {   // the image check made this candidate's image (imageOrder 0 first) and read its recall
                        c.put("imageOrder", imaged);
                        c.put("imageRecall", r.imageScores().get(imaged));
                    }
                    c.put("millis", r.candidateMillis().get(k));
                    c.put("map", SegmentationEdits.png(r.maps().get(k), palette));
                    candidates.add(c);
                }
                GenerationRequest single = request.withSeed(r.chosenSeed());
                return List.of(output(fg, r.result(), single, record.ran(single, r.scores(), r.chosen(), r.chosenSeed()), candidates, Set.of()));
            }
            FactorGraphResult result = FactorGraphSampler.run(graph, new FactorGraphRequest(request.prompt(), request.seed(),
                    sampling.equals("joint") ? FactorGraphRequest.Mode.JOINT : FactorGraphRequest.Mode.SEQUENTIAL, Set.of(), Map.of()), listener, cancelled,
                    fg.guidance(graph, guide));
            List<Map<String, Object>> candidates = seg == null ? null : List.of(recallOf(result, fg, request));
            List<Double> recalls = candidates == null ? null : List.of((Double) candidates.get(0).get("recall"));
            return List.of(output(fg, result, request, record.ran(request, recalls, recalls == null ? null : 0, request.seed()), candidates, Set.of()));
        });
    }

    /**
     * The generic request: prompt and seed as sent, size of the image factor, steps and guidance as sent or the image
     * factor's. Fields each factor sets for itself are refused rather than ignored.
     */
    static GenerationRequest request(RequestFields f, FactorGraphModel fg, String mode) {
        for (String fixed : FIXED_BY_GRAPH) {
            if (f.node(fixed) != null) throw ApiError.badRequest(fixed + " is set per factor by the FG-DM (fgdm.json); mode " + mode + " does not take it");
        }
        Integer count = f.optionalInt("count");
        if (count != null && count != 1) throw ApiError.badRequest("count must be 1 for mode " + mode + " (n sets the SBPC candidates), got " + count);
        FactorSettings image = fg.graph().factor(fg.imageFactor()).settings();
        GenerationRequest r = f.toRequest(mode, image.width(), image.height(), null, null);
        if (r.width() != image.width() || r.height() != image.height()) {
            throw ApiError.badRequest("the FG-DM's image factor makes " + image.width() + "x" + image.height() + " images, not "
                    + r.width() + "x" + r.height() + " (leave width and height out)");
        }
        int steps = f.optionalInt("steps") != null ? r.steps() : image.steps();
        double cfg = f.optionalDouble("guidanceScale") != null ? r.guidanceScale() : image.guidanceScale();
        if (f.optionalDouble("guidanceScale") != null && cfg > 100) throw ApiError.badRequest("guidanceScale must be in 0..100, got " + cfg);
        return new GenerationRequest(mode, r.model(), r.prompt(), null, r.width(), r.height(), steps, cfg, image.scheduler(), r.seed(),
                1, 0, 0, null, null);
    }

    /** Every factor with the steps and guidance the request sets (the graph's own where it sets none). */
    static FactorGraph tuned(FactorGraph graph, RequestFields f) {
        Integer steps = f.optionalInt("steps");
        Double cfg = f.optionalDouble("guidanceScale");
        for (Factor factor : graph.factors()) {
            FactorSettings s = factor.settings();
            if (steps != null) s = s.withSteps(steps);
            if (cfg != null) s = s.withGuidance(cfg);
            graph = graph.withSettings(factor.name(), s);
        }
        return graph;
    }

    private static void checkHalves(FactorGraph graph) {
        int vae = graph.sd.vaeScaleFactor();
        for (Factor factor : graph.factors()) {
            FactorSettings s = factor.settings();
            if (factor.role() == Factor.Role.CONDITION && (s.width() / 2 % vae != 0 || s.height() / 2 % vae != 0 || s.width() < 2 * vae || s.height() < 2 * vae)) {
                throw ApiError.badRequest("halfResolution: factor '" + factor.name() + "' (" + s.width() + "x" + s.height()
                        + ") does not halve to a multiple of the VAE factor " + vae);
            }
        }
    }

    private static void checkJointSteps(FactorGraph graph) {
        int steps = graph.factors().get(0).settings().steps();
        for (Factor factor : graph.factors()) {
            if (factor.settings().steps() != steps) {
                throw ApiError.badRequest("joint sampling steps all factors together, but factor '" + factor.name() + "' has "
                        + factor.settings().steps() + " steps and '" + graph.factors().get(0).name() + "' " + steps + ": give steps");
            }
        }
    }

    /** Progress and previews: each factor's steps reach the job's hooks with its z_{t-1} and predicted x0 (what previews decode). */
    static FactorListener progress(List<? extends StepHook> hooks) {
        return new FactorListener() {
            @Override public void stepped(Factor factor, Step step, Tensor latents, Tensor predictedX0) {
                if (latents.size(0) > 1) {   // a batch of SBPC candidates: the preview follows the first
                    latents = latents.narrow(0, 0, 1);
                    predictedX0 = predictedX0 == null ? null : predictedX0.narrow(0, 0, 1);
                }
                for (StepHook h : hooks) h.afterStep(latents, predictedX0, step);
            }
        };
    }

    /** The segmentation map's object recall for a run without SBPC, as one candidate. */
    static Map<String, Object> recallOf(FactorGraphResult result, FactorGraphModel fg, GenerationRequest request) {
        ClassMap map = SegmentationMaps.decode(result.decoded(fg.segmentationFactor()), fg.palette(), FactorGraphModel.TOLERANCE);
        Map<String, Object> c = new LinkedHashMap<>();
        c.put("seed", request.seed());
        c.put("recall", new ObjectRecall(ObjectRecall.namedIn(request.prompt(), fg.palette(), true), FactorGraphModel.MIN_AREA).score(map));
        c.put("chosen", true);
        c.put("map", SegmentationEdits.png(map, fg.palette()));
        return c;
    }

    /**
     * The image with its details: every condition map (the segmentation map decoded to classes and drawn in exact
     * palette colours), which factors were given, the SBPC candidates.
     */
    static Output output(FactorGraphModel fg, FactorGraphResult result, GenerationRequest request, FactorGraphRecord record,
                         List<Map<String, Object>> candidates, Set<String> given) {
        List<Map<String, Object>> maps = new ArrayList<>();
        for (String factor : result.factors()) {
            if (result.graph.factor(factor).role() != Factor.Role.CONDITION) continue;
            boolean seg = factor.equals(fg.segmentationFactor());
            Tensor decoded = result.decoded(factor);
            Map<String, Object> m = new LinkedHashMap<>();
            m.put("factor", factor);
            m.put("kind", seg ? "segmentation" : "condition");
            m.put("width", decoded.size(3));
            m.put("height", decoded.size(2));
            m.put("given", given.contains(factor));
            if (seg) {
                ClassMap classes = SegmentationMaps.decode(decoded, fg.palette(), FactorGraphModel.TOLERANCE);
                m.put("url", SegmentationEdits.png(classes, fg.palette()));
                m.put("areas", SegmentationEdits.areas(classes, fg.palette()));
            } else {
                m.put("url", DataUrls.png(PreviewHook.png(decoded)));
            }
            maps.add(m);
        }
        Map<String, Object> details = new LinkedHashMap<>();
        details.put("maps", maps);
        if (fg.segmentationFactor() != null) details.put("segmentation", fg.segmentationFactor());
        details.put("seed", request.seed());
        if (record.wanted() != null) details.put("wanted", record.wanted());
        if (candidates != null) details.put("candidates", candidates);
        details.put("millis", result.millis());
        String label = candidates == null ? null : String.format(Locale.ROOT, "recall %.2f (seed %d)", record.recalls().get(record.chosen()), request.seed());
        return new Output(result.decoded(fg.imageFactor()), request, record, label, details);
    }

    static byte[] png(BufferedImage image) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        try {
            ImageIO.write(image, "png", out);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return out.toByteArray();
    }
}
