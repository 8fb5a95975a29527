package org.ldm4j.methods.fgdm;

import java.util.List;

/**
 * What SBPC did: every candidate's score (object recall) and decoded map, which one it chose, how long the
 * candidates and the final run(s) took, and the final run (chosen map given, image factor sampled; null when the graph
 * has no image factor). With an image check ({@link Sbpc.ImageCheck}), the candidates that got an image, in the order
 * they got it, and their images' scores; {@code chosen} is then the candidate whose image was kept.
 */
public record SbpcResult(List<Double> scores, List<ClassMap> maps, int chosen, long chosenSeed, List<Long> candidateMillis,
                         long imageMillis, FactorGraphResult result, List<Integer> imaged, List<Double> imageScores) {
    public SbpcResult {
        scores = List.copyOf(scores);
        maps = List.copyOf(maps);
        candidateMillis = List.copyOf(candidateMillis);
        imaged = List.copyOf(imaged);
        imageScores = List.copyOf(imageScores);
        if (imaged.size() != imageScores.size()) throw new IllegalArgumentException(imaged.size() + " images but " + imageScores.size() + " image scores");
    }

    /** Without an image check: at most one image, unscored. */
    public SbpcResult(List<Double> scores, List<ClassMap> maps, int chosen, long chosenSeed, List<Long> candidateMillis, long imageMillis,
                      FactorGraphResult result) {
        this(scores, maps, chosen, chosenSeed, candidateMillis, imageMillis, result, List.of(), List.of());
    }

    public double bestScore() { return scores.get(chosen); }
}
