package org.ldm4j.methods.fgdm;

import org.ldm4j.nn.Scopes;

import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.BooleanSupplier;
import java.util.function.IntToDoubleFunction;

/**
 * Sampling-based prompt compliance with an FG-DM (paper sec. 4, Tables 3-4): draw N candidate condition maps
 * (different seeds; cheaper: fewer steps, half resolution), score each decoded segmentation (object recall against
 * the objects the prompt names), keep the best, and run the image factor <b>once</b>, on it. Candidates are sampled
 * SEQUENTIALLY (each factor's whole chain, parents first), several seeds per UNet call ({@link SbpcSettings#batch}),
 * and draw only the scored map and its ancestors; the final run gives the chosen candidate's maps and
 * samples the rest of the graph (other condition factors at the candidates' settings, then the image factors) with
 * the chosen candidate's seed.
 */
public final class Sbpc {
    private Sbpc() {}

    /**
     * @param mapFactor the segmentation factor whose decoded map is scored
     * @param scorer    e.g. {@link ObjectRecall}; ties go to its {@link MapScorer#tieBreak}, then to the earlier sample
     */
    public static SbpcResult run(FactorGraph graph, String mapFactor, Palette palette, String prompt, long seed, MapScorer scorer,
                                 SbpcSettings settings, FactorListener listener, BooleanSupplier cancelled) {
        return run(graph, mapFactor, palette, prompt, seed, scorer, settings, Set.of(), listener, cancelled);
    }

    /**
     * @param leftOut factors the final run switches off (e.g. {@link #unreadByImage}: maps nobody asked for cost
     *                their steps); never the scored map or its ancestors
     */
    public static SbpcResult run(FactorGraph graph, String mapFactor, Palette palette, String prompt, long seed, MapScorer scorer,
                                 SbpcSettings settings, Set<String> leftOut, FactorListener listener, BooleanSupplier cancelled) {
        return run(graph, mapFactor, palette, prompt, seed, scorer, settings, leftOut, null, listener, cancelled);
    }

    /**
     * An image check after the final run (ldm4j's variant, not the paper's): the image is segmented and scored like
     * the maps; short of a full score (1.0), the next-best map gets an image too, up to {@code maxImages}; the
     * best-scoring image is kept (the earlier on ties). Costs one segmentation per image and an image run per retry.
     *
     * @param imageScorer scores the segmented images; null = the maps' scorer. A separate one lets the maps be scored
     *                    more strictly than the images (e.g. objects must cover 1% of a candidate map to count, so the
     *                    chosen map's objects are large enough for the image factor to draw, while the image counts an
     *                    object at the evaluator's area)
     */
    public record ImageCheck(ImageSegmenter segmenter, int maxImages, MapScorer imageScorer) {
        public ImageCheck {
            if (segmenter == null) throw new IllegalArgumentException("an image check needs a segmenter");
            if (maxImages < 1 || maxImages > 256) throw new IllegalArgumentException("image check: maxImages must be in 1..256, got " + maxImages);
        }

        /** Images scored as the maps are. */
        public ImageCheck(ImageSegmenter segmenter, int maxImages) {
            this(segmenter, maxImages, null);
        }

        /** The candidates that got an image and their images' scores, in the order they got them. */
        public record Imaged(List<Integer> candidates, List<Double> scores) {
            /** The position of the first best score among the first {@code k} images. */
            public int best(int k) {
                int at = 0;
                for (int i = 1; i < Math.min(k, scores.size()); i++) if (scores.get(i) > scores.get(at)) at = i;
                return at;
            }
        }

        /**
         * Images of the candidates in {@code ranking} order ({@link Candidates#ranking}), each scored by
         * {@code imageScore}, until one scores 1.0 or {@code maxImages} were made.
         */
        public Imaged inRankingOrder(List<Integer> ranking, IntToDoubleFunction imageScore) {
            List<Integer> imaged = new ArrayList<>();
            List<Double> scores = new ArrayList<>();
            for (int k : ranking) {
                if (imaged.size() == maxImages) break;
                double score = imageScore.applyAsDouble(k);
                imaged.add(k);
                scores.add(score);
                if (score >= 1.0) break;
            }
            return new Imaged(imaged, scores);
        }
    }

    /** @param check null = the paper's SBPC (one image, on the best map) */
    public static SbpcResult run(FactorGraph graph, String mapFactor, Palette palette, String prompt, long seed, MapScorer scorer,
                                 SbpcSettings settings, Set<String> leftOut, ImageCheck check, FactorListener listener, BooleanSupplier cancelled) {
        return run(graph, mapFactor, palette, prompt, seed, scorer, settings, leftOut, check, FactorHooks.NONE, listener, cancelled);
    }

    /**
     * @param imageHooks extra hooks on the final runs (the chosen map's image, and each image the check makes), e.g.
     *                   {@link MapGuidance} toward the chosen map; the candidates run without them
     */
    public static SbpcResult run(FactorGraph graph, String mapFactor, Palette palette, String prompt, long seed, MapScorer scorer,
                                 SbpcSettings settings, Set<String> leftOut, ImageCheck check, FactorHooks imageHooks,
                                 FactorListener listener, BooleanSupplier cancelled) {
        checkLeftOut(graph, mapFactor, leftOut);
        Candidates drawn = candidates(graph, mapFactor, palette, prompt, seed, scorer, settings, listener, cancelled);
        if (graph.imageFactors().isEmpty()) {
            return new SbpcResult(drawn.scores(), drawn.maps(), drawn.chosen(), seed + drawn.chosen(), drawn.millis(), 0, drawn.best());
        }
        FactorGraph candidates = candidateGraph(graph, mapFactor, settings);
        long start = System.nanoTime();
        if (check == null) {
            FactorGraphResult result = finish(candidates, mapFactor, prompt, seed + drawn.chosen(), drawn.best(), leftOut, imageHooks, listener, cancelled);
            return new SbpcResult(drawn.scores(), drawn.maps(), drawn.chosen(), seed + drawn.chosen(), drawn.millis(),
                    (System.nanoTime() - start) / 1_000_000, result);
        }
        String image = graph.imageFactors().get(graph.imageFactors().size() - 1);
        Map<Integer, FactorGraphResult> runs = new LinkedHashMap<>();
        ImageCheck.Imaged imaged = check.inRankingOrder(drawn.ranking(), k -> {
            FactorGraphResult r = finish(candidates, mapFactor, prompt, seed + k, drawn.runs().get(k), leftOut, imageHooks, listener, cancelled);
            runs.put(k, r);
            return (check.imageScorer() != null ? check.imageScorer() : scorer).score(check.segmenter().segment(r.decoded(image)));
        });
        int kept = imaged.candidates().get(imaged.best(imaged.scores().size()));   // the earlier image on ties
        return new SbpcResult(drawn.scores(), drawn.maps(), kept, seed + kept, drawn.millis(), (System.nanoTime() - start) / 1_000_000,
                runs.get(kept), imaged.candidates(), imaged.scores());
    }

    /**
     * The candidate phase: each candidate's score and decoded map, its share of the time (a batch's time split evenly
     * over its candidates: decoding and scoring included), the tie-breaks, the first of the ranking and its run.
     */
    public record Candidates(List<Double> scores, List<Double> tieBreaks, List<ClassMap> maps, List<Long> millis, int chosen,
                             List<FactorGraphResult> runs) {
        public double totalMillis() { return millis.stream().mapToLong(Long::longValue).sum(); }

        public FactorGraphResult best() { return runs.get(chosen); }

        /** Candidate indices from the best score down, equal scores by the scorer's tie-break (then the earlier first). */
        public List<Integer> ranking() { return ranking(scores, tieBreaks); }

        static List<Integer> ranking(List<Double> scores, List<Double> tieBreaks) {
            List<Integer> order = new ArrayList<>();
            for (int k = 0; k < scores.size(); k++) order.add(k);
            // a stable sort keeps full ties in seed order
            order.sort((a, b) -> {
                int byScore = Double.compare(scores.get(b), scores.get(a));
                return byScore != 0 ? byScore : Double.compare(tieBreaks.get(b), tieBreaks.get(a));
            });
            return order;
        }
    }

    /**
     * Draws the N candidates (seeds seed, seed + 1, ...), {@link SbpcSettings#batch} of them per UNet call, and scores
     * each decoded map. With {@link SbpcSettings#stopAtScore} it stops after the batch where a candidate reached it.
     */
    public static Candidates candidates(FactorGraph graph, String mapFactor, Palette palette, String prompt, long seed, MapScorer scorer,
                                        SbpcSettings settings, FactorListener listener, BooleanSupplier cancelled) {
        FactorGraph candidates = candidateGraph(graph, mapFactor, settings);
        FactorGraphRequest base = candidateRequest(graph, mapFactor, prompt, seed);
        List<Double> scores = new ArrayList<>(), tieBreaks = new ArrayList<>();
        List<ClassMap> maps = new ArrayList<>();
        List<Long> millis = new ArrayList<>();
        List<FactorGraphResult> all = new ArrayList<>();
        boolean reached = false;
        for (int k = 0; k < settings.samples() && !reached; k += settings.batch()) {
            int count = Math.min(settings.batch(), settings.samples() - k);
            long start = System.nanoTime();
            List<FactorGraphResult> runs = FactorGraphSampler.runBatch(candidates, base.withSeed(seed + k), count, listener, cancelled);
            for (int j = 0; j < count; j++) {
                FactorGraphResult r = runs.get(j);
                ClassMap map = SegmentationMaps.decode(r.decoded(mapFactor), palette, settings.tolerance());
                double score = scorer.score(map), tie = scorer.tieBreak(map);
                scores.add(score);
                tieBreaks.add(tie);
                maps.add(map);
                all.add(r);
                if (settings.stopAtScore() != null && score >= settings.stopAtScore()) reached = true;
            }
            long each = (System.nanoTime() - start) / 1_000_000 / count;
            for (int j = 0; j < count; j++) millis.add(each);
        }
        return new Candidates(scores, tieBreaks, maps, millis, Candidates.ranking(scores, tieBreaks).get(0), all);
    }

    /** The graph candidates are drawn from: every condition factor at the settings' steps, resolution, guidance and sampler. */
    public static FactorGraph candidateGraph(FactorGraph graph, String mapFactor, SbpcSettings settings) {
        Factor scored = graph.factor(mapFactor);
        if (scored.role() != Factor.Role.CONDITION) throw new IllegalArgumentException("SBPC scores a condition map; '" + mapFactor + "' is the image factor");
        FactorGraph candidates = graph;
        for (Factor f : graph.factors()) {
            if (f.role() != Factor.Role.CONDITION) continue;
            FactorSettings s = f.settings();
            if (settings.conditionSteps() > 0) s = s.withSteps(settings.conditionSteps());
            if (settings.halfResolution()) s = s.withSize(half(graph, f, s.width()), half(graph, f, s.height()));
            if (settings.conditionGuidance() != null) s = s.withGuidance(settings.conditionGuidance());
            if (settings.conditionScheduler() != null) s = s.withScheduler(settings.conditionScheduler());
            candidates = candidates.withSettings(f.name(), s);
        }
        return candidates;
    }

    /**
     * One candidate draws only what the score reads: the scored map and its ancestors. Every other factor (the image
     * factors, and condition factors such as depth that the scored map does not depend on) is switched off and drawn
     * once, for the chosen seed, by {@link #finish}: with the same seed and the same given parents it draws exactly
     * what it would have drawn in the candidate run, without paying for it N times.
     */
    public static FactorGraphRequest candidateRequest(FactorGraph graph, String mapFactor, String prompt, long seed) {
        Set<String> scored = scoredFactors(graph, mapFactor);
        Set<String> off = new HashSet<>();
        for (Factor f : graph.factors()) if (!scored.contains(f.name())) off.add(f.name());
        return new FactorGraphRequest(prompt, seed, FactorGraphRequest.Mode.SEQUENTIAL, off, Map.of());
    }

    /** The final run for the chosen candidate: its maps given, the rest of the graph (condition factors at the candidates' settings) sampled. */
    public static FactorGraphResult finish(FactorGraph candidates, String mapFactor, String prompt, long chosenSeed, FactorGraphResult chosen,
                                           Set<String> leftOut, FactorListener listener, BooleanSupplier cancelled) {
        return finish(candidates, mapFactor, prompt, chosenSeed, chosen, leftOut, FactorHooks.NONE, listener, cancelled);
    }

    /** {@link #finish} with extra hooks on the factors it samples (e.g. {@link MapGuidance} on the image). */
    public static FactorGraphResult finish(FactorGraph candidates, String mapFactor, String prompt, long chosenSeed, FactorGraphResult chosen,
                                           Set<String> leftOut, FactorHooks hooks, FactorListener listener, BooleanSupplier cancelled) {
        checkLeftOut(candidates, mapFactor, leftOut);
        Map<String, FactorGraphRequest.Given> given = new LinkedHashMap<>();
        for (String c : scoredFactors(candidates, mapFactor)) given.put(c, new FactorGraphRequest.Given(Scopes.keep(chosen.latents(c)), chosen.decoded(c)));
        return FactorGraphSampler.run(candidates, new FactorGraphRequest(prompt, chosenSeed, FactorGraphRequest.Mode.SEQUENTIAL, Set.copyOf(leftOut), given),
                listener, cancelled, hooks);
    }

    /**
     * The condition factors no image factor reads, directly or through its parents (e.g. sketch and normals when the
     * image factor is conditioned on the segmentation alone): what an SBPC run that only wants the image may leave out.
     */
    public static Set<String> unreadByImage(FactorGraph graph) {
        Set<String> read = new HashSet<>();
        for (String image : graph.imageFactors()) {
            read.add(image);
            read.addAll(graph.ancestors(image));
        }
        Set<String> unread = new java.util.LinkedHashSet<>();
        for (Factor f : graph.factors()) if (!read.contains(f.name())) unread.add(f.name());
        return unread;
    }

    private static void checkLeftOut(FactorGraph graph, String mapFactor, Set<String> leftOut) {
        Set<String> scored = scoredFactors(graph, mapFactor);
        for (String f : leftOut) {
            if (!graph.has(f)) throw new IllegalArgumentException("SBPC cannot leave out '" + f + "': the graph has no such factor");
            if (scored.contains(f)) throw new IllegalArgumentException("SBPC cannot leave out '" + f + "': the scored map needs it");
        }
    }

    /** What a candidate draws: the scored map's ancestors, then the scored map. */
    public static Set<String> scoredFactors(FactorGraph graph, String mapFactor) {
        Set<String> scored = new java.util.LinkedHashSet<>(graph.ancestors(mapFactor));
        scored.add(mapFactor);
        return scored;
    }

    private static int half(FactorGraph graph, Factor f, int side) {
        int vae = graph.sd.vaeScaleFactor(), h = side / 2;
        if (h % vae != 0 || h == 0) {
            throw new IllegalArgumentException("factor '" + f.name() + "' side " + side + " halves to " + h + ", not a multiple of the VAE factor " + vae
                    + ": sample it at full resolution");
        }
        return h;
    }
}
