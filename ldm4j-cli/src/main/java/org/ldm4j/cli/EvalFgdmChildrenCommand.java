package org.ldm4j.cli;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.InferenceMode;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch;
import org.ldm4j.methods.fgdm.Factor;
import org.ldm4j.methods.fgdm.FactorGraphRequest;
import org.ldm4j.methods.fgdm.FactorGraphResult;
import org.ldm4j.methods.fgdm.FactorGraphSampler;
import org.ldm4j.methods.fgdm.FgdmManifest;
import org.ldm4j.nn.Tensors;
import org.ldm4j.toyworld.Scene;
import org.ldm4j.train.toyworld.ToyWorldMaps;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.Callable;

/**
 * {@code ldm4j eval fgdm children}: how well each child condition factor (depth, sketch, normal) draws its map from
 * its parents. For held-out test scenes the parents' exact ToyWorld maps (at the factor's size) are given, the child
 * is sampled, and its decoded map is compared with the scene's exact map of its kind; two rows bound it: the
 * <b>floor</b>, the child with its parents switched off (the caption alone), and the <b>ceiling</b>, the exact map
 * through the map VAE (encode, decode: what the latent space can hold). Errors by kind: depth, mean absolute error
 * of the nearness in [0, 1]; sketch, F1 of the line pixels with a 1-pixel tolerance (higher is better); normal,
 * mean angle in degrees between the decoded and the exact normals.
 */
@Command(name = "children", mixinStandardHelpOptions = true,
        description = "Child condition factors (depth, sketch, normal) given their parents' exact maps: error vs the exact map, "
                + "between a floor (parents off) and a ceiling (the exact map through the map VAE).",
        footer = {"", "Example: ldm4j eval fgdm children --model models/toyworld-fgdm --n 32"})
final class EvalFgdmChildrenCommand extends EvalFgdmCommand.Base implements Callable<Integer> {
    @Option(names = "--model", description = "FG-DM folder (default models/toyworld-fgdm).") Path model;

    private static final String[] ROWS = {"parents off (floor)", "exact parents", "map VAE round trip (ceiling)"};

    @Override
    public Integer call() throws Exception {
        int count = count(32, 1);
        loadSegmenter();   // sets the threads
        EvalFgdmCommand.Loaded m = load(model);
        List<Factor> children = new ArrayList<>();
        for (Factor f : m.graph().factors()) if (f.role() == Factor.Role.CONDITION && !f.parents().isEmpty()) children.add(f);
        if (children.isEmpty()) throw new Ldm4j.UsageError(m.folder().folder + " has no child condition factors");
        List<Scene> scenes = FgdmEvaluation.heldOut(count, 0, m.size(), palette);
        Map<String, double[]> sums = new LinkedHashMap<>();
        for (Factor f : children) sums.put(f.name(), new double[ROWS.length]);
        try (InferenceMode ignored = new InferenceMode(); me.tongfei.progressbar.ProgressBar bar = progress("children", (long) scenes.size() * children.size(), "maps")) {
            for (int i = 0; i < scenes.size(); i++) {
                Scene scene = scenes.get(i);
                for (Factor child : children) {
                    try (PointerScope scope = new PointerScope()) {
                        int size = child.settings().width();
                        FgdmManifest.MapKind kind = m.folder().manifest.factor(child.name()).map();
                        Tensor truth = ToyWorldMaps.map(kind, List.of(scene), size);
                        Map<String, FactorGraphRequest.Given> given = new LinkedHashMap<>();
                        for (String p : child.parents()) {
                            given.put(p, new FactorGraphRequest.Given(null, ToyWorldMaps.map(m.folder().manifest.factor(p).map(), List.of(scene), size)));
                        }
                        Set<String> others = new HashSet<>();
                        for (Factor f : m.graph().factors()) if (!f.name().equals(child.name()) && !given.containsKey(f.name())) others.add(f.name());
                        Set<String> parentsOff = new HashSet<>(others);
                        parentsOff.addAll(child.parents());
                        long s = seed + i;
                        FactorGraphResult off = FactorGraphSampler.run(m.graph(), new FactorGraphRequest(scene.caption(), s,
                                FactorGraphRequest.Mode.SEQUENTIAL, parentsOff, Map.of()), null, null);
                        FactorGraphResult on = FactorGraphSampler.run(m.graph(), new FactorGraphRequest(scene.caption(), s,
                                FactorGraphRequest.Mode.SEQUENTIAL, others, given), null, null);
                        Tensor roundTrip = m.graph().decode(child.name(), FactorGraphSampler.encodeMean(m.graph().sd, truth));
                        double[] row = sums.get(child.name());
                        row[0] += error(kind, off.decoded(child.name()), truth);
                        row[1] += error(kind, on.decoded(child.name()), truth);
                        row[2] += error(kind, roundTrip, truth);
                    }
                    bar.step();
                }
            }
        }
        ObjectNode report = report("children", count).put("model", m.folder().folder.toString());
        ArrayNode rows = report.putArray("factors");
        System.out.printf("%-8s %-8s %-22s %20s %16s %28s%n", "factor", "parents", "error", ROWS[0], ROWS[1], ROWS[2]);
        for (Factor child : children) {
            FgdmManifest.MapKind kind = m.folder().manifest.factor(child.name()).map();
            double[] row = sums.get(child.name());
            System.out.printf(Locale.ROOT, "%-8s %-8s %-22s %20.4f %16.4f %28.4f%n", child.name(), String.join("+", child.parents()), metric(kind),
                    row[0] / count, row[1] / count, row[2] / count);
            rows.addObject().put("factor", child.name()).put("map", kind.key()).put("metric", metric(kind)).put("parents_off", row[0] / count)
                    .put("exact_parents", row[1] / count).put("vae_round_trip", row[2] / count);
        }
        System.out.printf(Locale.ROOT, "%d held-out test scenes; maps at each factor's size%n", count);
        writeJson(report);
        return 0;
    }

    static String metric(FgdmManifest.MapKind kind) {
        return switch (kind) {
            case DEPTH -> "nearness MAE (lower)";
            case SKETCH -> "line F1 (higher)";
            case NORMAL -> "angle, degrees (lower)";
            case SEGMENTATION -> throw new IllegalArgumentException("a segmentation child is scored by the fidelity table");
        };
    }

    /** The kind's error between a decoded map and the exact one, both (1, 3, H, W) in [-1, 1]. */
    static double error(FgdmManifest.MapKind kind, Tensor decoded, Tensor truth) {
        Tensor a = decoded.to(torch.ScalarType.Float), b = truth.to(torch.ScalarType.Float);
        return switch (kind) {
            case DEPTH -> a.mean(new long[]{1}, false, null).sub(b.mean(new long[]{1}, false, null)).abs().mean().item_double() / 2;
            case SKETCH -> lineF1(a.mean(new long[]{1}, true, null).gt(new org.bytedeco.pytorch.Scalar(0.0)),
                    b.mean(new long[]{1}, true, null).gt(new org.bytedeco.pytorch.Scalar(0.0)));
            case NORMAL -> {
                Tensor na = unit(a), nb = unit(b);
                Tensor cos = na.mul(nb).sum(new long[]{1}, false, null).clamp(new org.bytedeco.pytorch.ScalarOptional(new org.bytedeco.pytorch.Scalar(-1.0)),
                        new org.bytedeco.pytorch.ScalarOptional(new org.bytedeco.pytorch.Scalar(1.0)));
                yield Math.toDegrees(cos.acos().mean().item_double());
            }
            case SEGMENTATION -> throw new IllegalArgumentException("a segmentation child is scored by the fidelity table");
        };
    }

    /** Per-pixel unit vectors along the channel axis (a zero vector stays near zero). */
    private static Tensor unit(Tensor v) {
        Tensor len = v.pow(new org.bytedeco.pytorch.Scalar(2.0)).sum(new long[]{1}, true, null).sqrt()
                .clamp(new org.bytedeco.pytorch.ScalarOptional(new org.bytedeco.pytorch.Scalar(1e-6)), new org.bytedeco.pytorch.ScalarOptional());
        return v.div(len);
    }

    /** F1 of line pixels, a predicted pixel counting when a true line lies within 1 pixel and vice versa. */
    static double lineF1(Tensor predicted, Tensor truth) {
        float[] p = Tensors.toFloats(predicted.to(torch.ScalarType.Float)), t = Tensors.toFloats(truth.to(torch.ScalarType.Float));
        int h = (int) predicted.size(2), w = (int) predicted.size(3);
        double precision = near(p, t, w, h), recall = near(t, p, w, h);
        return precision + recall == 0 ? 0 : 2 * precision * recall / (precision + recall);
    }

    /** The fraction of {@code a}'s line pixels with a line of {@code b} in their 3x3 neighbourhood (1 when a has none). */
    private static double near(float[] a, float[] b, int w, int h) {
        int total = 0, hit = 0;
        for (int y = 0; y < h; y++) {
            for (int x = 0; x < w; x++) {
                if (a[y * w + x] == 0) continue;
                total++;
                boolean found = false;
                for (int dy = -1; dy <= 1 && !found; dy++) {
                    for (int dx = -1; dx <= 1 && !found; dx++) {
                        int yy = y + dy, xx = x + dx;
                        found = yy >= 0 && yy < h && xx >= 0 && xx < w && b[yy * w + xx] != 0;
                    }
                }
                if (found) hit++;
            }
        }
        return total == 0 ? 1 : (double) hit / total;
    }
}
