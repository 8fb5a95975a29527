package org.ldm4j.methods.fgdm;

import org.bytedeco.pytorch.Tensor;
import org.ldm4j.nn.Scopes;

import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.BooleanSupplier;

/**
 * Sampling-based prompt compliance with an FG-DM (paper sec. 4, Tables 3-4): draw N candidate condition maps
 * (different seeds; cheaper: fewer steps, half resolution), score each decoded segmentation (object recall against
 * the objects the prompt names), keep the best, and run the image factor <b>once</b>, on it. Candidates are sampled
 * SEQUENTIALLY with the image factors switched off; the final run gives the chosen candidate's condition values and
 * samples only the image factors, with the chosen candidate's seed.
 */
public final class Sbpc {
    private Sbpc() {}

    /**
     * @param mapFactor the segmentation factor whose decoded map is scored
     * @param scorer    e.g. {@link ObjectRecall}; ties go to the earlier sample
     */
    public static SbpcResult run(FactorGraph graph, String mapFactor, Palette palette, String prompt, long seed, MapScorer scorer,
                                 SbpcSettings settings, FactorListener listener, BooleanSupplier cancelled) {
        Factor scored = graph.factor(mapFactor);
        if (scored.role() != Factor.Role.CONDITION) throw new IllegalArgumentException("SBPC scores a condition map; '" + mapFactor + "' is the image factor");
        FactorGraph candidates = graph;
        List<String> conditions = new ArrayList<>();
        for (Factor f : graph.factors()) {
            if (f.role() != Factor.Role.CONDITION) continue;
            conditions.add(f.name());
            FactorSettings s = f.settings();
            if (settings.conditionSteps() > 0) s = s.withSteps(settings.conditionSteps());
            if (settings.halfResolution()) s = s.withSize(half(graph, f, s.width()), half(graph, f, s.height()));
            candidates = candidates.withSettings(f.name(), s);
        }
        Set<String> images = new HashSet<>(graph.imageFactors());
        FactorGraphRequest base = new FactorGraphRequest(prompt, seed, FactorGraphRequest.Mode.SEQUENTIAL, images, Map.of());

        List<Double> scores = new ArrayList<>();
        List<ClassMap> maps = new ArrayList<>();
        List<Long> millis = new ArrayList<>();
        FactorGraphResult best = null;
        int chosen = -1;
        for (int k = 0; k < settings.samples(); k++) {
            long start = System.nanoTime();
            FactorGraphResult r = FactorGraphSampler.run(candidates, base.withSeed(seed + k), listener, cancelled);
            ClassMap map = SegmentationMaps.decode(r.decoded(mapFactor), palette, settings.tolerance());
            double score = scorer.score(map);
            millis.add((System.nanoTime() - start) / 1_000_000);
            scores.add(score);
            maps.add(map);
            if (chosen < 0 || score > scores.get(chosen)) {
                chosen = k;
                best = r;
            }
            if (settings.stopAtScore() != null && score >= settings.stopAtScore()) break;
        }
        long chosenSeed = seed + chosen;
        if (images.isEmpty()) return new SbpcResult(scores, maps, chosen, chosenSeed, millis, 0, best);

        Map<String, FactorGraphRequest.Given> given = new LinkedHashMap<>();
        for (String c : conditions) {
            Tensor image = best.decoded(c);
            given.put(c, new FactorGraphRequest.Given(Scopes.keep(best.latents(c)), image));
        }
        long start = System.nanoTime();
        FactorGraphResult result = FactorGraphSampler.run(graph,
                new FactorGraphRequest(prompt, chosenSeed, FactorGraphRequest.Mode.SEQUENTIAL, Set.of(), given), listener, cancelled);
        return new SbpcResult(scores, maps, chosen, chosenSeed, millis, (System.nanoTime() - start) / 1_000_000, result);
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
