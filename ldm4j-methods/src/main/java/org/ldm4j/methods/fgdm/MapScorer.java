package org.ldm4j.methods.fgdm;

/** Scores a decoded condition map for prompt compliance (higher is better); SBPC keeps the best-scoring sample. */
@FunctionalInterface
public interface MapScorer {
    double score(ClassMap map);

    /** Orders maps of equal score (higher first; SBPC then keeps the earlier sample). 0 = no preference. */
    default double tieBreak(ClassMap map) { return 0; }
}
