package org.ldm4j.cli;

import org.ldm4j.methods.fgdm.MapScorer;
import org.ldm4j.methods.fgdm.ObjectRecall;
import org.ldm4j.methods.fgdm.SbpcSettings;
import picocli.CommandLine.Option;

/** How SBPC samples and ranks its candidate maps: the options {@code fgdm sample} and {@code eval fgdm sbpc} share. */
final class SbpcCandidateOptions {
    @Option(names = "--condition-guidance", description = "SBPC: classifier-free guidance of the candidate maps (default: each condition "
            + "factor's own; 1 = no guidance, one UNet pass per step instead of two).")
    Double conditionGuidance;
    @Option(names = "--condition-scheduler", description = "SBPC: sampler of the candidate maps, e.g. dpm++2m (default: each condition factor's own).")
    String conditionScheduler;
    @Option(names = "--prefer-larger-objects", description = "SBPC: of candidate maps with equal recall, rank first (keep, and image-check "
            + "first) the one whose smallest named object is largest (default: the earlier seed).")
    boolean preferLargerObjects;

    /** Checks the values before any model loads; the sampler is kept by its alias, whatever spelling was given. */
    void check() {
        if (conditionGuidance != null && !(conditionGuidance >= 1 && conditionGuidance <= 100)) {
            throw new Ldm4j.UsageError("--condition-guidance must be in 1..100, got " + conditionGuidance);
        }
        if (conditionScheduler != null) conditionScheduler = Ldm4j.schedulerOption("--condition-scheduler", conditionScheduler).alias();
    }

    /** {@code settings} with the candidates' guidance and sampler. */
    SbpcSettings applyTo(SbpcSettings settings) {
        return settings.withConditionGuidance(conditionGuidance).withConditionScheduler(conditionScheduler);
    }

    /** How the candidate maps are scored: {@code recall}, with the tie-break when asked for. */
    MapScorer mapScorer(ObjectRecall recall) {
        return preferLargerObjects ? recall.preferringLargerObjects() : recall;
    }
}
