package org.ldm4j.methods.fgdm;

import java.util.List;

/**
 * What SBPC did: every candidate's score (object recall) and decoded map, which one it chose, how long the
 * candidates and the final run took, and the final run (chosen map given, image factor sampled; null when the graph
 * has no image factor).
 */
public record SbpcResult(List<Double> scores, List<ClassMap> maps, int chosen, long chosenSeed, List<Long> candidateMillis,
                         long imageMillis, FactorGraphResult result) {
    public SbpcResult {
        scores = List.copyOf(scores);
        maps = List.copyOf(maps);
        candidateMillis = List.copyOf(candidateMillis);
    }

    public double bestScore() { return scores.get(chosen); }
}
