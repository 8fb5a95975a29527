package org.ldm4j.cli;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.InferenceMode;
import org.ldm4j.image.Images;
import org.ldm4j.methods.fgdm.ClassMap;
import org.ldm4j.methods.fgdm.DepthEdits;
import org.ldm4j.methods.fgdm.DepthMap;
import org.ldm4j.methods.fgdm.FactorGraph;
import org.ldm4j.methods.fgdm.FactorGraphRequest;
import org.ldm4j.methods.fgdm.FactorGraphResult;
import org.ldm4j.methods.fgdm.FactorGraphSampler;
import org.ldm4j.methods.fgdm.FgdmFolder;
import org.ldm4j.methods.fgdm.FgdmManifest;
import org.ldm4j.methods.fgdm.MapEdits;
import org.ldm4j.methods.fgdm.Palette;
import org.ldm4j.methods.fgdm.Region;
import org.ldm4j.methods.fgdm.SegmentationMaps;
import org.ldm4j.methods.fgdm.Shapes;
import org.ldm4j.toyworld.EditMasks;
import org.ldm4j.toyworld.Scene;
import org.ldm4j.toyworld.ToyClass;
import org.ldm4j.toyworld.eval.EvalImages;
import org.ldm4j.toyworld.eval.SegmentationMetrics;
import org.ldm4j.toyworld.eval.ToyWorldSegmenter;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.Callable;

/**
 * {@code ldm4j eval fgdm edits}: the FG-DM editor's operations measured on generated maps (issue #11). For each
 * held-out caption the FG-DM samples a segmentation (and depth) map; each operation edits it ({@link MapEdits},
 * {@link DepthEdits}) and the image is regenerated from the edited map with the same seed, downstream condition
 * factors re-run (a depth child of the segmentation is re-sampled from the edited map).
 *
 * <p>Figures per operation, over all samples: the mIoU between the edited map (resized nearest to the image) and the
 * evaluator's segmentation of the regenerated image (bar >= 0.7), and the fraction of the unedited area (pixels the
 * edit left unchanged) whose evaluator class is the same as in the image regenerated from the unedited map. That
 * reference goes through the same regeneration path, so the {@code identity} row (no edit) must keep exactly 1.0.
 * The object edited is the largest connected object region of the map (else the largest region of any class); the
 * depth reorder swaps the depths of the two largest regions and runs only when the depth map feeds the image factor.
 */
@Command(name = "edits", mixinStandardHelpOptions = true,
        description = "Map edits (move with/without clearing, resize, flip, remove, add, depth reorder): mIoU of the edited map vs the "
                + "segmenter on the regenerated image (bar >= 0.7), and how much of the unedited area keeps its class.",
        footer = {"", "Example: ldm4j eval fgdm edits --model models/toyworld-fgdm --json runs/eval/fgdm-edits.json"})
final class EvalFgdmEditsCommand extends EvalFgdmCommand.Base implements Callable<Integer> {
    /** The image regenerated from an edited map is steered toward it with --guide (none without). */
    private org.ldm4j.methods.fgdm.FactorHooks steering = org.ldm4j.methods.fgdm.FactorHooks.NONE;
    @Option(names = "--model", description = "FG-DM folder (default models/toyworld-fgdm).") Path model;
    @Option(names = "--scale", defaultValue = "1.5", description = "Resize factor (default: ${DEFAULT-VALUE}).") double scale;
    @Option(names = "--first", defaultValue = "0", description = "Skip this many held-out captions (one shard of a long run; caption i keeps seed + i).") int first;
    @Option(names = "--merge", split = ",", description = "Print the table of these shards' JSON files together (no sampling).") List<Path> merge;

    @Option(names = "--ops", split = ",", description = "Only these operations (default: all; identity always runs, "
            + "it is the reference).") List<String> only;

    /**
     * "add": the generator's outline of the first object class the map lacks that stands where it goes (a boat on
     * water, the others on land), as ToyWorld places objects. "add-ellipse": the table's add until session 33, an
     * ellipse of the first missing object class whatever lies under it (boats on grass included).
     */
    static final List<String> SEG_OPS = List.of("identity", "move-clear", "move-keep", "resize", "flip", "remove", "add", "add-ellipse");
    static final String DEPTH_OP = "depth-swap";

    /** One operation's sums over the samples. */
    private static final class Tally {
        final SegmentationMetrics metrics = new SegmentationMetrics(ToyClass.count());
        long kept, unedited, edited, pixels;
        int samples, skipped;
    }

    @Override
    public Integer call() throws Exception {
        if (merge != null) return merged();
        int count = count(50, 1);
        if (!(scale > 0 && scale <= 8)) throw new Ldm4j.UsageError("--scale must be in (0, 8], got " + scale);
        if (first < 0) throw new Ldm4j.UsageError("--first must be >= 0, got " + first);
        if (only != null) {
            for (String op : only) {
                if (!SEG_OPS.contains(op) && !op.equals(DEPTH_OP)) {
                    throw new Ldm4j.UsageError("--ops: unknown operation '" + op + "' (" + String.join(", ", SEG_OPS) + ", " + DEPTH_OP + ")");
                }
            }
        }
        ToyWorldSegmenter segmenter = loadSegmenter();
        EvalFgdmCommand.Loaded m = load(model);
        FgdmManifest.Entry depthEntry = m.folder().manifest.firstOf(FgdmManifest.MapKind.DEPTH);
        // a depth reorder can only show in the image when the depth map feeds the image factor (directly or via other maps)
        String depth = depthEntry == null || !m.graph().ancestors(m.image()).contains(depthEntry.name()) ? null : depthEntry.name();
        List<String> ops = new ArrayList<>(SEG_OPS);
        if (depth != null) ops.add(DEPTH_OP);
        if (only != null) {
            ops.removeIf(op -> !op.equals("identity") && !only.contains(op));
        }
        boolean depthOn = ops.contains(DEPTH_OP);
        Map<String, Tally> tallies = new LinkedHashMap<>();
        for (String op : ops) tallies.put(op, new Tally());
        List<Scene> scenes = FgdmEvaluation.heldOut(first, count, 0, m.size(), palette);
        int tolerance = FgdmFolder.tolerance(palette);
        steering = guidance.mapGuidance(m.graph(), m.seg(), palette);

        try (InferenceMode ignored = new InferenceMode(); me.tongfei.progressbar.ProgressBar bar = progress("edits", scenes.size(), "captions")) {
            for (int i = 0; i < scenes.size(); i++, bar.step()) {
                try (PointerScope scope = new PointerScope()) {
                    String caption = scenes.get(i).caption();
                    long s = seed + first + i;
                    FactorGraphResult base = FactorGraphSampler.run(m.graph(), FactorGraphRequest.of(caption, s, FactorGraphRequest.Mode.SEQUENTIAL), null, null);
                    ClassMap original = SegmentationMaps.decode(base.decoded(m.seg()), palette, tolerance);
                    int[] reference = regenerate(m, segmenter, caption, s, original, null, null);
                    List<Region> regions = regions(original);
                    for (String op : SEG_OPS) {
                        if (!tallies.containsKey(op)) continue;
                        ClassMap edited = edit(op, original, regions);
                        if (edited == null) {
                            tallies.get(op).skipped++;
                            continue;
                        }
                        boolean[] changed = new boolean[original.labels().length];
                        for (int p = 0; p < changed.length; p++) changed[p] = edited.labels()[p] != original.labels()[p];
                        measure(tallies.get(op), edited, changed, regenerate(m, segmenter, caption, s, edited, null, null), reference, m.size());
                    }
                    if (depthOn) {
                        DepthMap before = DepthMap.fromImage(Images.toImage(base.decoded(depth)));
                        if (regions.size() < 2) {
                            tallies.get(DEPTH_OP).skipped++;
                            continue;
                        }
                        boolean[] a = resize(regions.get(0).mask(), original, before.width(), before.height());
                        boolean[] b = resize(regions.get(1).mask(), original, before.width(), before.height());
                        DepthMap after = DepthEdits.swap(before, a, b);
                        int[] depthReference = regenerate(m, segmenter, caption, s, original, depth, before);
                        boolean[] changed = new boolean[original.labels().length];
                        for (Region r : regions.subList(0, 2)) for (int p = 0; p < changed.length; p++) changed[p] |= r.mask()[p];
                        measure(tallies.get(DEPTH_OP), original, changed, regenerate(m, segmenter, caption, s, original, depth, after), depthReference, m.size());
                    }
                }
            }
        }
        ObjectNode report = report("edits", count).put("model", m.folder().folder.toString()).put("size", m.size()).put("scale", scale)
                .put("map_size", m.graph().factor(m.seg()).settings().width()).put("first_caption", first);
        guidance.record(report);
        table(tallies, report, count);
        writeJson(report);
        return 0;
    }

    /** The table of shards run apart (--first), from their JSON files: the confusion matrices and counts summed. */
    private int merged() throws Exception {
        Map<String, Tally> tallies = new LinkedHashMap<>();
        ObjectNode report = EvalCommand.JSON.createObjectNode().put("metric", "fgdm").put("table", "edits");
        ArrayNode sources = report.putArray("merged");
        int count = 0;
        for (Path file : merge) {
            com.fasterxml.jackson.databind.JsonNode shard = EvalFgdmCommand.shard(file, "edits");
            sources.add(file.toString());
            count += shard.path("samples").asInt();
            for (com.fasterxml.jackson.databind.JsonNode op : shard.get("ops")) {
                if (!op.has("confusion")) throw new Ldm4j.UsageError("--merge " + file + ": op " + op.path("op").asText() + " has no confusion matrix (written before --merge existed)");
                Tally t = tallies.computeIfAbsent(op.get("op").asText(), k -> new Tally());
                long[][] confusion = EvalCommand.JSON.convertValue(op.get("confusion"), long[][].class);
                t.metrics.addConfusion(confusion, op.path("samples").asInt());
                t.samples += op.path("samples").asInt();
                t.skipped += op.path("skipped").asInt();
                t.kept += op.path("kept").asLong();
                t.unedited += op.path("unedited").asLong();
                t.edited += op.path("edited").asLong();
                t.pixels += op.path("pixels").asLong();
            }
        }
        report.put("samples", count);
        table(tallies, report, count);
        writeJson(report);
        return 0;
    }

    /** Prints the table and adds its rows (with the sums a merge needs) to the report. */
    private static void table(Map<String, Tally> tallies, ObjectNode report, int count) {
        ArrayNode rows = report.putArray("ops");
        System.out.printf("%-11s %8s %8s %8s %14s %15s%n", "op", "samples", "skipped", "mIoU", "unedited keep", "edited fraction");
        for (Map.Entry<String, Tally> e : tallies.entrySet()) {
            Tally t = e.getValue();
            double miou = t.metrics.meanIou(), keep = t.unedited == 0 ? Double.NaN : (double) t.kept / t.unedited;
            double editedFraction = t.pixels == 0 ? Double.NaN : (double) t.edited / t.pixels;
            System.out.printf(Locale.ROOT, "%-11s %8d %8d %8s %14s %15s%n", e.getKey(), t.samples, t.skipped, EvalFgdmCommand.num(miou),
                    EvalFgdmCommand.num(keep), EvalFgdmCommand.num(editedFraction));
            ObjectNode row = rows.addObject().put("op", e.getKey()).put("samples", t.samples).put("skipped", t.skipped);
            EvalFgdmCommand.put(row, "miou", miou);
            EvalFgdmCommand.put(row, "unedited_keep", keep);
            EvalFgdmCommand.put(row, "edited_fraction", editedFraction);
            row.put("miou_at_least_0.7", miou >= 0.7);
            row.put("kept", t.kept).put("unedited", t.unedited).put("edited", t.edited).put("pixels", t.pixels);
            row.set("confusion", EvalCommand.JSON.valueToTree(t.metrics.confusion()));
        }
        System.out.printf(Locale.ROOT, "%d held-out test captions; mIoU = edited map vs the segmenter on the regenerated image (bar >= 0.7); "
                + "unedited keep = segmenter classes kept outside the edit vs the image regenerated from the unedited map%n", count);
    }

    /** Adds one regenerated image: agreement with the (edited) map, and the unedited area's classes vs the reference. */
    private static void measure(Tally t, ClassMap map, boolean[] changed, int[] regenerated, int[] reference, int size) {
        ClassMap big = map.resizeNearest(size, size);
        FgdmEvaluation.addAgreement(t.metrics, big, regenerated);
        boolean[] changedBig = resize(changed, map, size, size);
        for (int p = 0; p < regenerated.length; p++) {
            if (changedBig[p]) {
                t.edited++;
            } else {
                t.unedited++;
                if (regenerated[p] == reference[p]) t.kept++;
            }
        }
        t.pixels += regenerated.length;
        t.samples++;
    }

    /** The operation applied to the map, or null when the map has nothing it can act on. */
    private ClassMap edit(String op, ClassMap map, List<Region> regions) {
        if (op.equals("identity")) return map.copy();
        if (op.equals("add")) return addFitting(map, palette);
        if (op.equals("add-ellipse")) {
            int cls = -1;
            for (int c = 0; c < palette.size() && cls < 0; c++) if (palette.isObject(c) && map.area(c) == 0) cls = c;
            if (cls < 0) cls = palette.classOf(ToyClass.TREE.label());
            int w = map.width(), h = map.height();
            return MapEdits.add(map, Shapes.ellipse(w, h, w / 2.0, 0.7 * h, w / 8.0, h / 6.0), cls);
        }
        if (regions.isEmpty()) return null;
        Region r = regions.get(0);
        int dx = (r.centroidX() < map.width() / 2.0 ? 1 : -1) * Math.max(1, map.width() / 4);
        return switch (op) {
            case "move-clear" -> MapEdits.move(map, r, dx, 0, true);
            case "move-keep" -> MapEdits.move(map, r, dx, 0, false);
            case "resize" -> MapEdits.resize(map, r, scale);
            case "flip" -> MapEdits.flip(map, r, MapEdits.Axis.HORIZONTAL);
            case "remove" -> MapEdits.remove(map, r);
            default -> throw new IllegalStateException("unknown op " + op);
        };
    }

    /**
     * The generator's outline of an object class (a quarter of the map's height, at its own aspect) centred at
     * (w / 2, 0.7 h): the first class the map lacks whose footing fits the background under the outline's bottom row
     * (water for a boat, grass, sand or snow for the others), else the first class present that fits; null (skipped)
     * when nothing can stand there. The palette is ToyWorld's: class i is {@code ToyClass.of(i)}.
     */
    static ClassMap addFitting(ClassMap map, Palette palette) {
        int w = map.width(), h = map.height();
        List<Integer> candidates = new ArrayList<>();
        for (int c = 0; c < palette.size(); c++) if (palette.isObject(c) && map.area(c) == 0) candidates.add(c);
        for (int c = 0; c < palette.size(); c++) if (palette.isObject(c) && map.area(c) > 0) candidates.add(c);
        for (int c : candidates) {
            ToyClass toyClass = ToyClass.of(c);
            org.ldm4j.toyworld.Mask outline = EditMasks.silhouette(toyClass, 0);
            int oh = Math.max(2, h / 4), ow = Math.max(1, (int) Math.round((double) oh * outline.width() / outline.height()));
            int x0 = w / 2 - ow / 2, y0 = (int) Math.round(0.7 * h) - oh / 2;
            ToyClass footing = footing(map, palette, x0, Math.min(h - 1, y0 + oh - 1), ow);
            boolean fits = toyClass == ToyClass.BOAT ? footing == ToyClass.WATER
                    : footing == ToyClass.GRASS || footing == ToyClass.SAND || footing == ToyClass.SNOW;
            if (fits) return MapEdits.add(map, outline.placed(w, h, x0, y0, ow, oh).bits(), c);
        }
        return null;
    }

    /** The most common background class of a row segment of the map (objects and unlabeled pixels not counted). */
    private static ToyClass footing(ClassMap map, Palette palette, int x0, int y, int width) {
        int[] counts = new int[palette.size()];
        for (int x = Math.max(0, x0); x < Math.min(map.width(), x0 + width); x++) {
            int c = map.labels()[y * map.width() + x];
            if (c != ClassMap.UNLABELED && !palette.isObject(c)) counts[c]++;
        }
        int best = -1;
        for (int c = 0; c < counts.length; c++) if (counts[c] > 0 && (best < 0 || counts[c] > counts[best])) best = c;
        return best < 0 ? null : ToyClass.of(best);
    }

    /** Connected regions of labelled classes: object classes first, then by area, largest first. */
    private List<Region> regions(ClassMap map) {
        boolean[] seen = new boolean[map.labels().length];
        List<Region> out = new ArrayList<>();
        for (int p = 0; p < seen.length; p++) {
            if (seen[p] || map.labels()[p] == ClassMap.UNLABELED) continue;
            Region r = Region.at(map, p % map.width(), p / map.width());
            for (int q = 0; q < seen.length; q++) seen[q] |= r.mask()[q];
            out.add(r);
        }
        out.sort(Comparator.comparing((Region r) -> !palette.isObject(r.classId())).thenComparing(r -> -r.area()));
        return out;
    }

    /**
     * Regenerates the image from a given segmentation (clean palette colours) and optionally a given depth map, same
     * seed; other condition factors are re-sampled. Returns the evaluator's class map of the image.
     */
    private int[] regenerate(EvalFgdmCommand.Loaded m, ToyWorldSegmenter segmenter, String caption, long s, ClassMap seg,
                             String depthFactor, DepthMap depth) {
        Map<String, FactorGraphRequest.Given> given = new LinkedHashMap<>();
        given.put(m.seg(), new FactorGraphRequest.Given(null, SegmentationMaps.toImageTensor(seg, palette)));
        if (depthFactor != null) given.put(depthFactor, new FactorGraphRequest.Given(null, Images.toTensor(depth.toImage())));
        FactorGraphResult r = FactorGraphSampler.run(m.graph(), new FactorGraphRequest(caption, s, FactorGraphRequest.Mode.SEQUENTIAL, Set.of(), given), null, null,
                steering);
        int[] rgb = EvalImages.rgb(Images.toImage(r.decoded(m.image())));
        return segmenter.classMaps(List.of(rgb), m.size(), m.size())[0];
    }

    /** A mask resized nearest from {@code like}'s size to width x height. */
    private static boolean[] resize(boolean[] mask, ClassMap like, int width, int height) {
        int[] l = new int[mask.length];
        for (int p = 0; p < l.length; p++) l[p] = mask[p] ? 1 : 0;
        int[] big = new ClassMap(like.width(), like.height(), l).resizeNearest(width, height).labels();
        boolean[] out = new boolean[big.length];
        for (int p = 0; p < out.length; p++) out[p] = big[p] == 1;
        return out;
    }
}
