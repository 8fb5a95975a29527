package org.ldm4j.cli;

import com.fasterxml.jackson.databind.node.ObjectNode;
import org.ldm4j.methods.fgdm.FactorGraph;
import org.ldm4j.methods.fgdm.FactorHooks;
import org.ldm4j.methods.fgdm.FgdmFolder;
import org.ldm4j.methods.fgdm.MapGuidance;
import org.ldm4j.methods.fgdm.Palette;
import org.ldm4j.methods.guidance.GuidanceSettings;
import org.ldm4j.methods.guidance.Segmenter;
import org.ldm4j.toyworld.eval.ToyWorldSegmenter;
import picocli.CommandLine.Option;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Collectors;

/**
 * Segmentation-guided sampling ({@link org.ldm4j.methods.guidance}): off unless {@code --guide} names a segmenter
 * folder. The defaults (the second half of the steps, 3 Adam steps at lr 0.05, every pixel the same weight) are the
 * setting measured best on held-out FG-DM captions (docs/results-fgdm.md, session 33). The guide should not be the
 * evaluator that scores the result (the evaluator's own segmenter would be scoring its own steering);
 * {@code configs/train/toyworld-segmenter-guide.json} trains one apart from it.
 */
final class GuideOptions {
    @Option(names = "--guide", split = ",", description = "Steer the image toward its map with this segmenter folder (e.g. models/toyworld-segmenter-guide), or with several read as one (comma-separated: the mean of their log-probabilities); off by default.")
    List<Path> guides;
    @Option(names = "--guide-from", defaultValue = "0.5", description = "First guided step, as a fraction of the run (default: ${DEFAULT-VALUE}).")
    double from;
    @Option(names = "--guide-until", defaultValue = "1", description = "Steps before this fraction of the run are guided (default: ${DEFAULT-VALUE}).")
    double until;
    @Option(names = "--guide-steps", defaultValue = "3", description = "Adam steps on the x0 prediction per guided step (default: ${DEFAULT-VALUE}).")
    int gradSteps;
    @Option(names = "--guide-lr", defaultValue = "0.05", description = "Their learning rate (default: ${DEFAULT-VALUE}).")
    double lr;
    @Option(names = "--guide-balance", defaultValue = "0", description = "Class balance b in [0, 1]: a pixel of a class covering n pixels weighs n^-b (0: each pixel the same, 1: each class) (default: ${DEFAULT-VALUE}).")
    double balance;

    @Option(names = "--guide-jitter", defaultValue = "0", description = "Read with each guide also shifted by 1..R pixels left, right, up and down "
            + "(its views read as one, so a move must hold under each; 0 = off) (default: ${DEFAULT-VALUE}).")
    int jitter;

    boolean on() { return guides != null && !guides.isEmpty(); }

    GuidanceSettings settings() {
        try {
            return new GuidanceSettings(from, until, gradSteps, lr, balance);
        } catch (IllegalArgumentException e) {
            throw new Ldm4j.UsageError("--guide-*: " + e.getMessage());
        }
    }

    /** Checks the options before anything loads: the settings' ranges and the guide folder. */
    void check() {
        settings();
        if (jitter < 0 || jitter > 8) throw new Ldm4j.UsageError("--guide-jitter must be in 0..8, got " + jitter);
        if (!on()) return;
        for (Path guide : guides) {
            if (!Files.isRegularFile(guide.resolve(ToyWorldSegmenter.CONFIG_FILE))) {
                throw new Ldm4j.UsageError("--guide " + guide + " is not a segmenter folder (no " + ToyWorldSegmenter.CONFIG_FILE + ")");
            }
        }
    }

    /** The guide segmenter (or the ensemble of several) with its weights frozen: gradients reach the latent only. */
    Segmenter segmenter() {
        check();
        List<Segmenter> members = new ArrayList<>();
        for (Path guide : guides) members.add(load(guide).jittered(jitter));
        return Segmenter.ensemble(members);
    }

    private static Segmenter load(Path guide) {
        try {
            return org.ldm4j.studio.FactorGraphModel.toyWorldGuide(guide);
        } catch (java.io.IOException | IllegalArgumentException e) {
            throw new Ldm4j.UsageError("--guide " + guide + ": " + e.getMessage());
        }
    }

    /** The image factors steered toward the segmentation factor's map, or none without --guide. */
    FactorHooks mapGuidance(FactorGraph graph, String segFactor, Palette palette) {
        if (!on()) return FactorHooks.NONE;
        return new MapGuidance(graph, segFactor, segmenter(), palette, FgdmFolder.tolerance(palette), settings());
    }

    /** The settings in a report, or nothing without --guide. */
    void record(ObjectNode report) {
        if (!on()) return;
        report.putObject("guidance").put("segmenter", guides.stream().map(Path::toString).collect(Collectors.joining(","))).put("from", from).put("until", until)
                .put("grad_steps", gradSteps).put("lr", lr).put("balance", balance).put("jitter", jitter);
    }
}
