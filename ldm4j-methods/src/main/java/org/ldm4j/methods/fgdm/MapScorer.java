package org.ldm4j.methods.fgdm;

/** Scores a decoded condition map for prompt compliance (higher is better); SBPC keeps the best-scoring sample. */
@FunctionalInterface
public interface MapScorer {
    double score(ClassMap map);
}
