package org.ldm4j.cli;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.InferenceMode;
import org.ldm4j.methods.fgdm.FactorGraph;
import org.ldm4j.methods.fgdm.FactorGraphResult;
import org.ldm4j.methods.fgdm.FactorGraphSampler;
import org.ldm4j.methods.fgdm.FactorSettings;
import org.ldm4j.methods.fgdm.FgdmFolder;
import org.ldm4j.methods.fgdm.ImageSbpc;
import org.ldm4j.methods.fgdm.ImageSegmenter;
import org.ldm4j.methods.fgdm.MapScorer;
import org.ldm4j.methods.fgdm.ObjectRecall;
import org.ldm4j.methods.fgdm.Sbpc;
import org.ldm4j.methods.fgdm.SbpcSettings;
import org.ldm4j.pipeline.GenerationRequest;
import org.ldm4j.pipeline.Txt2Img;
import org.ldm4j.studio.FactorGraphModel;
import org.ldm4j.toyworld.Scene;
import org.ldm4j.toyworld.eval.ToyWorldSegmenter;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TreeSet;
import java.util.concurrent.Callable;

/**
 * {@code ldm4j eval fgdm sbpc}: sampling-based prompt compliance on ToyWorld (paper Tables 3-4). For each held-out
 * multi-object caption and each condition step count t, {@link Sbpc} draws N_max candidate maps (seeds seed,
 * seed+1, ...); because candidate k depends only on seed + k, the first N candidates of that run are exactly what
 * SBPC with N samples draws, so every N of the list is read from one run: recall statistics over the first N
 * candidates' decoded maps, the chosen (first best) candidate, and its final image (the image factor run once on it,
 * exactly as {@link Sbpc} does; timed). Time per prompt for N = the first N candidates' times + that final run.
 *
 * <p>Baselines in the same run, same seeds: plain text2img with the base model (N = 1) and image-level SBPC
 * ({@link ImageSbpc}: N full images, each segmented by the evaluator, best kept; the image factor's size, steps and
 * guidance; its N images batched as FG-DM's N candidates are, {@code --batch}). Image recall of every method's final
 * image is measured by the same segmenter and area threshold.
 */
@Command(name = "sbpc", mixinStandardHelpOptions = true,
        description = "SBPC (paper Tables 3-4): recall statistics over N candidate maps for each N and condition steps t, "
                + "vs plain text2img and image-level SBPC; prints the bars' checks.",
        footer = {"", "Example: ldm4j eval fgdm sbpc --model models/toyworld-fgdm --samples 1,5,10 --condition-steps 10,20 --json runs/eval/fgdm-sbpc.json"})
final class EvalFgdmSbpcCommand extends EvalFgdmCommand.Base implements Callable<Integer> {
    static final double[] THRESHOLDS = {0.5, 0.75, 0.9};

    @Option(names = "--model", description = "FG-DM folder (default models/toyworld-fgdm).") Path model;
    @Option(names = "--samples", split = ",", defaultValue = "1,5,10", description = "N values (default: ${DEFAULT-VALUE}).") List<Integer> samples;
    @Option(names = "--condition-steps", split = ",", defaultValue = "10,20", description = "Condition steps t of the candidates (default: ${DEFAULT-VALUE}).") List<Integer> conditionSteps;
    @picocli.CommandLine.Mixin SbpcCandidateOptions candidates;
    @Option(names = "--all-maps", description = "The final run also draws the maps the image factor does not read (depth, sketch, normals), "
            + "as 'fgdm sample' does; by default SBPC draws only what the image needs (the paper's seg -> image), and times that.") boolean allMaps;
    @Option(names = "--batch", defaultValue = "0", description = "Candidate maps, and the image-level baseline's images, per UNet call "
            + "(0 = all N in one batch, 1 = one at a time; default: ${DEFAULT-VALUE}). Both methods batch alike: on this CPU a batch of 10 "
            + "64x64 images costs about 6 single ones.") int batch;
    @Option(names = "--image-check", arity = "0..1", fallbackValue = "2", defaultValue = "0", description = "Also measure FG-DM SBPC with an "
            + "image check of at most K images (fgdm-checked rows; K = 2 when given without a value): the best map's image is segmented and, short "
            + "of full recall, the next-best maps get images too; the best is kept (Sbpc.ImageCheck). Checks of 2..K-1 images are reported "
            + "too (fgdm-checked-k rows: the same run stopped earlier).") int imageCheck;
    @Option(names = "--map-min-area", description = "Fraction of a candidate map an object must cover to count when SBPC scores the maps "
            + "(default: --min-area, which the images are scored with): a stricter map score prefers maps with objects the image factor can draw.")
    Double mapMinArea;
    @Option(names = "--min-objects", defaultValue = "3", description = "Captions must name at least this many object classes (default: ${DEFAULT-VALUE}).") int minObjects;
    @Option(names = "--first", defaultValue = "0", description = "Skip this many held-out captions: one shard of a long table runs captions "
            + "[first, first + n), with seeds seed + first + i (default: ${DEFAULT-VALUE}).") int first;
    @Option(names = "--merge", split = ",", description = "Print the table of these shards' --json files together (prompt-weighted; "
            + "nothing is sampled).") List<Path> merge;

    /** One configuration's per-prompt figures, summed. */
    private static final class Row {
        final String method;
        final Integer t;
        final int n;
        double min, max, median, imageRecall, seconds;
        final double[] atLeast = new double[THRESHOLDS.length];
        int prompts;

        Row(String method, Integer t, int n) {
            this.method = method;
            this.t = t;
            this.n = n;
        }

        /** A shard's row as its JSON wrote it (averages), back to sums. */
        void addShard(com.fasterxml.jackson.databind.JsonNode c) {
            int p = c.get("prompts").asInt();
            min += p * c.get("avg_min_recall").asDouble();
            max += p * c.get("avg_max_recall").asDouble();
            median += p * c.get("avg_median_recall").asDouble();
            for (int k = 0; k < THRESHOLDS.length; k++) atLeast[k] += p * c.get("avg_at_least_" + THRESHOLDS[k]).asDouble();
            imageRecall += p * c.get("image_recall").asDouble();
            seconds += p * c.get("seconds_per_prompt").asDouble();
            prompts += p;
        }

        void add(List<Double> scores, double finalRecall, double millis) {
            double[] s = scores.stream().mapToDouble(Double::doubleValue).sorted().toArray();
            min += s[0];
            max += s[s.length - 1];
            median += s.length % 2 == 1 ? s[s.length / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
            for (int k = 0; k < THRESHOLDS.length; k++) for (double v : s) if (v >= THRESHOLDS[k]) atLeast[k]++;
            imageRecall += finalRecall;
            seconds += millis / 1000.0;
            prompts++;
        }

        double avg(double sum) { return sum / prompts; }
    }

    @Override
    public Integer call() throws Exception {
        if (merge != null) return merged();
        int count = count(200, 1);
        if (first < 0) throw new Ldm4j.UsageError("--first must be >= 0, got " + first);
        if (imageCheck < 0 || imageCheck > 256) throw new Ldm4j.UsageError("--image-check must be in 1..256 images, got " + imageCheck);
        if (mapMinArea != null && !(mapMinArea >= 0 && mapMinArea < 1)) throw new Ldm4j.UsageError("--map-min-area must be in [0, 1), got " + mapMinArea);
        if (batch < 0 || batch > 256) throw new Ldm4j.UsageError("--batch must be in 0..256, got " + batch);
        if (minObjects < 1) throw new Ldm4j.UsageError("--min-objects must be >= 1, got " + minObjects);
        candidates.check();
        List<Integer> ns = new ArrayList<>(new TreeSet<>(samples));
        List<Integer> ts = new ArrayList<>(new TreeSet<>(conditionSteps));
        if (ns.isEmpty() || ts.isEmpty()) throw new Ldm4j.UsageError("--samples and --condition-steps need at least one value");
        for (int v : ns) if (v < 1 || v > 256) throw new Ldm4j.UsageError("--samples values must be in 1..256, got " + v);
        for (int v : ts) if (v < 1 || v > 1000) throw new Ldm4j.UsageError("--condition-steps values must be in 1..1000, got " + v);
        int maxN = ns.get(ns.size() - 1);
        ToyWorldSegmenter segmenter = loadSegmenter();
        EvalFgdmCommand.Loaded m = load(model);
        int size = m.size();
        List<Scene> scenes = FgdmEvaluation.heldOut(first, count, minObjects, size, palette);
        FactorSettings imageSettings = m.graph().factor(m.image()).settings();
        ImageSegmenter evaluator = FactorGraphModel.toyWorldSegmenter(segmenter);
        Sbpc.ImageCheck check = imageCheck > 0 ? new Sbpc.ImageCheck(evaluator, imageCheck) : null;
        int tolerance = FgdmFolder.tolerance(palette);

        Map<String, Row> rows = new LinkedHashMap<>();
        for (int t : ts) for (int n : ns) rows.put("fgdm-sbpc/" + t + "/" + n, new Row("fgdm-sbpc", t, n));
        // one row per check size k <= K: the k-image check is a prefix of the K-image one (same ranking, same stop)
        if (imageCheck > 0) {
            for (int t : ts) for (int n : ns) if (n > 1) for (int k = Math.min(2, imageCheck); k <= imageCheck; k++) rows.put(checkedKey(k, t, n), new Row(checkedMethod(k), t, n));
        }
        rows.put("text2img/1", new Row("text2img", null, 1));
        for (int n : ns) if (n > 1) rows.put("image-sbpc/" + n, new Row("image-sbpc", null, n));

        try (InferenceMode ignored = new InferenceMode(); me.tongfei.progressbar.ProgressBar bar = progress("sbpc", scenes.size(), "prompts")) {
            warmUp(m, scenes.get(0).caption(), ts.get(0), maxN, tolerance, imageSettings);
            for (int i = 0; i < scenes.size(); i++) {
                String caption = scenes.get(i).caption();
                long promptSeed = seed + first + i;
                ObjectRecall scorer = new ObjectRecall(ObjectRecall.namedIn(caption, palette, true), minArea);
                ObjectRecall mapRecall = new ObjectRecall(ObjectRecall.namedIn(caption, palette, true), mapMinArea != null ? mapMinArea : minArea);
                MapScorer mapScorer = candidates.mapScorer(mapRecall);
                for (int t : ts) {
                    try (PointerScope scope = new PointerScope()) {
                        // Each N draws its own candidates (batched as SBPC batches them, so a batch of 5 is timed as one),
                        // the same seeds as a prefix of the largest N; final runs are shared by the N that choose the same seed.
                        Map<Integer, double[]> finals = new LinkedHashMap<>();   // chosen index -> {image recall, image millis}
                        for (int n : ns) {
                            Sbpc.Candidates c = Sbpc.candidates(m.graph(), m.seg(), palette, caption, promptSeed, mapScorer, settings(n, t, tolerance),
                                    null, null);
                            double[] fin = finals.computeIfAbsent(c.chosen(), k -> finalRun(m, caption, promptSeed + k, t, tolerance, scorer, evaluator));
                            rows.get("fgdm-sbpc/" + t + "/" + n).add(c.scores(), fin[0], c.totalMillis() + fin[1]);
                            if (check != null && n > 1) {
                                // Sbpc.ImageCheck's order on the shared final runs; the k-image check is its first k images
                                Sbpc.ImageCheck.Imaged imaged = check.inRankingOrder(c.ranking(),
                                        j -> finals.computeIfAbsent(j, k -> finalRun(m, caption, promptSeed + k, t, tolerance, scorer, evaluator))[0]);
                                for (int k = Math.min(2, imageCheck); k <= imageCheck; k++) {
                                    int made = Math.min(k, imaged.candidates().size());
                                    double millis = c.totalMillis();
                                    for (int r = 0; r < made; r++) {
                                        double[] f = finals.get(imaged.candidates().get(r));
                                        millis += f[1] + f[2];
                                    }
                                    rows.get(checkedKey(k, t, n)).add(c.scores(), imaged.scores().get(imaged.best(made)), millis);
                                }
                            }
                        }
                    }
                }
                try (PointerScope scope = new PointerScope()) {
                    GenerationRequest request = new GenerationRequest("txt2img", m.folder().baseModel().toString(), caption + imageSettings.promptSuffix(),
                            imageSettings.negativePrompt(), size, size, imageSettings.steps(), imageSettings.guidanceScale(), imageSettings.scheduler(),
                            promptSeed, 1, 0, imageSettings.eta(), null, null);
                    ImageSbpc.Generator generate = (first, n) -> Txt2Img.runBatched(m.graph().sd, request.withSeed(first).withCount(n), n, List.of(), null);
                    ImageSbpc.Result single = ImageSbpc.run(1, promptSeed, 1, generate, evaluator, scorer, null, null);
                    rows.get("text2img/1").add(single.scores(), single.scores().get(0), single.sampleMillis().get(0));
                    for (int n : ns) {
                        if (n == 1) continue;
                        // each N its own images, batched as the candidates are (--batch): the same seeds, so a prefix of the largest N's
                        ImageSbpc.Result r = ImageSbpc.run(n, promptSeed, batch > 0 ? Math.min(batch, n) : n, generate, evaluator, scorer, null, null);
                        rows.get("image-sbpc/" + n).add(r.scores(), Collections.max(r.scores()), r.sampleMillis().stream().mapToLong(Long::longValue).sum());
                    }
                }
                bar.step();
            }
        }
        ObjectNode report = report("sbpc", count).put("first", first).put("model", m.folder().folder.toString()).put("min_objects", minObjects).put("map_min_area", mapMinArea != null ? mapMinArea : minArea).put("prefer_larger_objects", candidates.preferLargerObjects).put("image_check", imageCheck).put("size", size)
                .put("condition_guidance", candidates.conditionGuidance != null ? candidates.conditionGuidance : m.graph().factor(m.seg()).settings().guidanceScale())
                .put("condition_scheduler", candidates.conditionScheduler != null ? candidates.conditionScheduler : m.graph().factor(m.seg()).settings().scheduler())
                .put("map_size", m.graph().factor(m.seg()).settings().width()).put("image_steps", imageSettings.steps())
                .put("final_maps", allMaps ? "all" : "read by the image factor");
        double objectsPerCaption = scenes.stream().mapToInt(s -> ObjectRecall.namedIn(s.caption(), palette, true).size()).average().orElse(0);
        report.put("objects_per_caption", objectsPerCaption);
        table(report, rows, ns, ts);
        System.out.printf(Locale.ROOT, "%d held-out test captions naming >= %d objects (%.2f on average); recall = caption objects present "
                        + "(area >= %s); maps %dx%d, images %dx%d, image steps %d; times include the evaluator's segmentation for the baselines%n",
                count, minObjects, objectsPerCaption, minArea, report.get("map_size").asInt(),
                report.get("map_size").asInt(), size, size, imageSettings.steps());
        writeJson(report);
        return 0;
    }

    /** --merge: the shards' rows summed back (each average weighted by its prompts), the table and bars printed again. */
    private Integer merged() throws Exception {
        Map<String, Row> rows = new LinkedHashMap<>();
        ObjectNode report = null;
        int prompts = 0;
        double objects = 0;
        for (Path p : merge) {
            com.fasterxml.jackson.databind.JsonNode shard = EvalFgdmCommand.shard(p, "sbpc");
            if (report == null) report = ((ObjectNode) shard).deepCopy();
            int n = shard.get("samples").asInt();
            prompts += n;
            objects += n * shard.get("objects_per_caption").asDouble();
            for (com.fasterxml.jackson.databind.JsonNode c : shard.get("configs")) {
                Integer t = c.get("t").isNull() ? null : c.get("t").asInt();
                String key = c.get("method").asText() + (t == null ? "" : "/" + t) + "/" + c.get("n").asInt();
                rows.computeIfAbsent(key, k -> new Row(c.get("method").asText(), t, c.get("n").asInt())).addShard(c);
            }
        }
        report.put("samples", prompts).put("objects_per_caption", objects / prompts).remove(List.of("first", "configs", "checks"));
        report.putArray("shards").addAll(merge.stream().map(p -> EvalCommand.JSON.getNodeFactory().textNode(p.toString())).toList());
        List<Integer> ns = rows.values().stream().filter(r -> r.method.equals("fgdm-sbpc")).map(r -> r.n).distinct().sorted().toList();
        List<Integer> ts = rows.values().stream().filter(r -> r.t != null).map(r -> r.t).distinct().sorted().toList();
        table(report, rows, ns, ts);
        System.out.printf(Locale.ROOT, "%d held-out test captions from %d shards (%.2f objects on average)%n", prompts, merge.size(), objects / prompts);
        writeJson(report);
        return 0;
    }

    /** Prints the table and the bars' checks, and puts both into {@code report}. */
    private static void table(ObjectNode report, Map<String, Row> rows, List<Integer> ns, List<Integer> ts) {
        int maxN = ns.get(ns.size() - 1);
        ArrayNode configs = report.putArray("configs");
        System.out.printf("%-14s %4s %4s %9s %9s %9s %7s %7s %7s %12s %10s%n", "method", "t", "N", "avg min", "avg max", "avg med",
                "#>=0.5", "#>=0.75", "#>=0.9", "image recall", "s/prompt");
        for (Row row : rows.values()) {
            System.out.printf(Locale.ROOT, "%-14s %4s %4d %9.4f %9.4f %9.4f %7.2f %7.2f %7.2f %12.4f %10.3f%n", row.method,
                    row.t == null ? "-" : row.t, row.n, row.avg(row.min), row.avg(row.max), row.avg(row.median),
                    row.avg(row.atLeast[0]), row.avg(row.atLeast[1]), row.avg(row.atLeast[2]), row.avg(row.imageRecall), row.avg(row.seconds));
            ObjectNode c = configs.addObject().put("method", row.method).put("n", row.n).put("prompts", row.prompts);
            if (row.t == null) c.putNull("t"); else c.put("t", row.t);
            c.put("avg_min_recall", row.avg(row.min)).put("avg_max_recall", row.avg(row.max)).put("avg_median_recall", row.avg(row.median));
            for (int k = 0; k < THRESHOLDS.length; k++) c.put("avg_at_least_" + THRESHOLDS[k], row.avg(row.atLeast[k]));
            c.put("image_recall", row.avg(row.imageRecall)).put("seconds_per_prompt", row.avg(row.seconds));
        }
        checks(report.putArray("checks"), rows, ns, ts, maxN);
    }

    /**
     * The bars: for each t, N_max's average max map recall >= N=1's recall + 0.10 (or >= 0.95); FG-DM SBPC at N_max
     * >= 3x faster than image-level SBPC at N_max, with final image recall at most 0.02 below it.
     */
    private static void checks(ArrayNode out, Map<String, Row> rows, List<Integer> ns, List<Integer> ts, int maxN) {
        for (int t : ts) {
            Row one = rows.get("fgdm-sbpc/" + t + "/1"), top = rows.get("fgdm-sbpc/" + t + "/" + maxN);
            if (one != null && maxN > 1) {
                double gain = top.avg(top.max), base = one.avg(one.max);
                boolean pass = gain >= base + 0.10 || gain >= 0.95;
                out.addObject().put("check", "recall_gain").put("t", t).put("n", maxN).put("max_recall", gain).put("n1_recall", base).put("pass", pass);
                System.out.printf(Locale.ROOT, "bar t=%d: N=%d avg max recall %.4f >= N=1 %.4f + 0.10 (or >= 0.95): %s%n", t, maxN, gain, base, pass ? "PASS" : "FAIL");
            }
            Row image = rows.get("image-sbpc/" + maxN);
            if (image == null) continue;
            List<String> methods = rows.values().stream().map(r -> r.method).filter(mt -> mt.startsWith("fgdm-")).distinct().toList();
            for (String method : methods) {
                Row fg = rows.get(method + "/" + t + "/" + maxN);
                if (fg == null) continue;
                double speedup = image.avg(image.seconds) / fg.avg(fg.seconds);
                double diff = fg.avg(fg.imageRecall) - image.avg(image.imageRecall);
                boolean pass = speedup >= 3 && diff >= -0.02;
                String check = method.equals("fgdm-sbpc") ? "speedup" : method.equals("fgdm-checked") ? "speedup_checked"
                        : "speedup_checked_" + method.substring("fgdm-checked-".length());
                out.addObject().put("check", check).put("t", t).put("n", maxN).put("speedup", speedup)
                        .put("image_recall_difference", diff).put("pass", pass);
                System.out.printf(Locale.ROOT, "bar t=%d: FG-DM SBPC%s N=%d %.2fx faster than image-level SBPC (>= 3x), image recall %+.4f (>= -0.02): %s%n",
                        t, method.equals("fgdm-sbpc") ? "" : " (" + method + ")", maxN, speedup, diff, pass ? "PASS" : "FAIL");
            }
        }
    }

    /** The row of an image check of up to k images: "fgdm-checked" for the largest (--image-check K), "fgdm-checked-k" below it. */
    private String checkedMethod(int k) { return k == imageCheck ? "fgdm-checked" : "fgdm-checked-" + k; }

    private String checkedKey(int k, int t, int n) { return checkedMethod(k) + "/" + t + "/" + n; }

    /** N candidates at t steps, full size, batched as --batch says (0: all N in one batch), at --condition-guidance and -scheduler. */
    private SbpcSettings settings(int n, int t, int tolerance) {
        SbpcSettings s = candidates.applyTo(new SbpcSettings(n, t, false, null, tolerance));
        return batch > 0 ? s.withBatch(Math.min(batch, n)) : s;
    }

    /** What the final run leaves out: nothing with --all-maps, else the maps no image factor reads. */
    private java.util.Set<String> leftOut(EvalFgdmCommand.Loaded m) {
        return allMaps ? java.util.Set.of() : Sbpc.unreadByImage(m.graph());
    }

    /**
     * The final run SBPC makes for candidate seed {@code seedK}: the candidate (its scored map and ancestors, t steps)
     * redrawn untimed, then {@link Sbpc#finish} on it, timed as {@link Sbpc} times its final run. Returns {image recall, millis, segmentation millis}.
     */
    private double[] finalRun(EvalFgdmCommand.Loaded m, String caption, long seedK, int t, int tolerance, ObjectRecall scorer, ImageSegmenter evaluator) {
        FactorGraph candidates = Sbpc.candidateGraph(m.graph(), m.seg(), settings(1, t, tolerance));
        FactorGraphResult cand = FactorGraphSampler.run(candidates, Sbpc.candidateRequest(m.graph(), m.seg(), caption, seedK), null, null);
        long start = System.nanoTime();
        FactorGraphResult r = Sbpc.finish(candidates, m.seg(), caption, seedK, cand, leftOut(m), null, null);
        long millis = (System.nanoTime() - start) / 1_000_000;
        start = System.nanoTime();
        double recall = scorer.score(evaluator.segment(r.decoded(m.image())));
        return new double[]{recall, millis, (System.nanoTime() - start) / 1_000_000};
    }

    /** One untimed SBPC and text2img first: libtorch's first calls allocate and warm caches, which would bias the first prompt. */
    private void warmUp(EvalFgdmCommand.Loaded m, String caption, int t, int maxN, int tolerance, FactorSettings image) {
        try (PointerScope scope = new PointerScope()) {
            Sbpc.run(m.graph(), m.seg(), palette, caption, seed, map -> 0, settings(maxN, t, tolerance), leftOut(m), null, null);
            Txt2Img.run(m.graph().sd, new GenerationRequest("txt2img", "warm-up", caption, image.negativePrompt(), m.size(), m.size(), image.steps(),
                    image.guidanceScale(), image.scheduler(), seed, 1, 0, image.eta(), null, null), List.of(), null);
        }
    }
}
