package org.ldm4j.cli;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import org.bytedeco.pytorch.InferenceMode;
import org.ldm4j.image.AtomicFiles;
import org.ldm4j.image.Images;
import org.ldm4j.methods.fgdm.ClassMap;
import org.ldm4j.methods.fgdm.DepthEdits;
import org.ldm4j.methods.fgdm.DepthMap;
import org.ldm4j.methods.fgdm.FactorGraph;
import org.ldm4j.methods.fgdm.FactorSettings;
import org.ldm4j.methods.fgdm.FgdmFolder;
import org.ldm4j.methods.fgdm.FgdmManifest;
import org.ldm4j.methods.fgdm.MapEdits;
import org.ldm4j.methods.fgdm.MapTextEdit;
import org.ldm4j.methods.fgdm.Palette;
import org.ldm4j.methods.fgdm.Region;
import org.ldm4j.methods.fgdm.SegmentationMaps;
import org.ldm4j.methods.fgdm.Shapes;
import org.ldm4j.toyworld.EditMasks;
import org.ldm4j.toyworld.Mask;
import org.ldm4j.toyworld.ToyClass;
import org.ldm4j.train.toyworld.ToyWorldMaps;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;

/**
 * {@code ldm4j fgdm ...}: FG-DM (Sridhar et al., NeurIPS 2024). {@code edit} edits a ToyWorld segmentation map as the
 * FG-DM editor does (no model needed); {@code sample} ({@link FgdmSampleCommand}) runs a trained FG-DM folder, with SBPC;
 * {@code dataset} ({@link FgdmDatasetCommand}) writes generated (image, maps, caption) tuples in ToyWorld's format.
 */
@Command(name = "fgdm", mixinStandardHelpOptions = true,
        description = "FG-DM: factor-graph sampling of condition maps and images, SBPC, dataset generation and map editing.",
        subcommands = {FgdmCommand.Edit.class, FgdmSampleCommand.class, FgdmDatasetCommand.class})
public final class FgdmCommand implements Runnable {
    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Override
    public void run() { spec.commandLine().usage(System.out); }

    static int[] point(String option, String value) {
        String[] p = value == null ? new String[0] : value.split(",");
        try {
            if (p.length == 2) return new int[]{Integer.parseInt(p[0].trim()), Integer.parseInt(p[1].trim())};
        } catch (NumberFormatException ignored) {
            // reported below
        }
        throw new Ldm4j.UsageError(option + " must be X,Y in pixels, got '" + value + "'");
    }

    @Command(name = "edit", mixinStandardHelpOptions = true,
            description = "Edit a ToyWorld segmentation colour map: move, resize, flip, remove or add an object. "
                    + "A region is the connected area of one class under --region X,Y; holes left behind are filled from the "
                    + "surrounding classes. Or reorder a depth map: swap the depths of two objects (depth-swap). Or edit a generated "
                    + "segmentation by text (text): inversion under its caption, regeneration under the edited caption.",
            footer = {"", "Writes DIR/map.png (colours, or grey depth for depth-swap), DIR/labels.png (class indices, 255 = "
                    + "unlabeled; not for depth-swap) and DIR/edit.json. Regenerate the image from an edited map with "
                    + "`ldm4j fgdm sample --given seg=DIR/map.png` (or depth=...).",
                    "", "Examples:",
                    "  ldm4j fgdm edit --map seg.png --op move --region 20,40 --to 44,40 --out edited",
                    "  ldm4j fgdm edit --map seg.png --op resize --region 20,40 --scale 1.5 --out edited",
                    "  ldm4j fgdm edit --map seg.png --op flip --region 20,40 --axis horizontal --out edited",
                    "  ldm4j fgdm edit --map seg.png --op remove --region 20,40 --out edited",
                    "  ldm4j fgdm edit --map seg.png --op add --class house --to 40,44 --out edited",
                    "  ldm4j fgdm edit --map seg.png --op add --class tree --shape ellipse --to 48,30 --size 10,16 --out edited",
                    "  ldm4j fgdm edit --map seg.png --op add --class boat --shape stroke --stroke \"10,50 30,52\" --brush 3 --out edited",
                    "  ldm4j fgdm edit --map depth.png --op depth-swap --region 20,40 --with 44,30 --seg seg.png --out edited",
                    "  ldm4j fgdm edit --map fg/seg.png --op text --prompt \"a red car by a house\" --to-prompt \"a red boat by a house\" --out edited"})
    static final class Edit implements Callable<Integer> {
        @Option(names = "--map", required = true, description = "The map to edit: a segmentation colour map (PNG) in ToyWorld's "
                + "palette, or a grey depth map for depth-swap.")
        Path map;
        @Option(names = "--op", required = true, description = "move, resize, flip, remove, add, depth-swap (--map is then a depth map) "
                + "or text (needs the FG-DM model).")
        String op;
        @Option(names = "--region", description = "X,Y: a pixel of the object to edit (move, resize, flip, remove, depth-swap).")
        String region;
        @Option(names = "--with", description = "depth-swap: X,Y, a pixel of the object whose depth --region's object takes (and gives its own).")
        String with;
        @Option(names = "--seg", description = "depth-swap: the scene's segmentation colour map (same size); the objects are "
                + "its regions. Without it, an object is the area reachable from the pixel through depth steps <= --depth-step.")
        Path seg;
        @Option(names = "--prompt", description = "text: the caption the map was generated from.")
        String prompt;
        @Option(names = "--to-prompt", description = "text: the edited caption.")
        String toPrompt;
        @Option(names = "--model", description = "text: FG-DM folder with fgdm.json (default models/toyworld-fgdm).")
        Path model;
        @Option(names = "--steps", description = "text: DDIM steps of the inversion and the regeneration (default: the factor's).")
        Integer steps;
        @Option(names = "--cfg", description = "text: text guidance of the inversion and the regeneration (default: the factor's; "
                + "with --inversion ddim, 1 is the most faithful to the original).")
        Double cfg;
        @Option(names = "--inversion", defaultValue = "edit-friendly", description = "text: edit-friendly (default: a noise per step, "
                + "the inversion LEDITS++ uses; an unchanged caption gives the map back exactly at any --cfg) or ddim.")
        String inversion;
        @Option(names = "--semantic", arity = "0..1", fallbackValue = "5", description = "text: LEDITS++'s semantic guidance instead of "
                + "re-prompting, at this edit scale (5 when given without a value): the map regenerated under --prompt as inverted, "
                + "guided toward the objects --to-prompt adds and away from those it drops, each where its guidance is strongest "
                + "(edit-friendly inversion).")
        Double semantic;
        @Option(names = "--edit-threshold", defaultValue = "0.9", description = "text --semantic: the quantile of each concept's "
                + "guidance below which it is masked out (LEDITS++'s edit_threshold; default: ${DEFAULT-VALUE}).")
        double editThreshold;
        @Option(names = "--cross-attention-mask", description = "text --semantic: also intersect each concept's mask with its "
                + "cross-attention mask (LEDITS++'s use_intersect_mask).")
        boolean crossAttentionMask;
        @Option(names = "--depth-step", defaultValue = "0.02", description = "depth-swap without --seg: the largest depth "
                + "step inside one object (default ${DEFAULT-VALUE}, depth in [0, 1]).")
        float depthStep;
        @Option(names = "--to", description = "X,Y: move: where the --region pixel goes; add: the shape's centre.")
        String to;
        @Option(names = "--keep-old", description = "move: leave the object at its old place too (the official editor's behaviour).")
        boolean keepOld;
        @Option(names = "--scale", description = "resize: factor about the object's centroid, e.g. 0.5 or 2.")
        Double scale;
        @Option(names = "--axis", defaultValue = "horizontal", description = "flip: horizontal or vertical (default ${DEFAULT-VALUE}).")
        String axis;
        @Option(names = "--class", description = "add: the class to paint (" + "sky, grass, house, tree, boat, ...).")
        String className;
        @Option(names = "--shape", description = "add: object (ToyWorld's generator's outline of the class: a house as walls "
                + "under a roof; the default for object classes), ellipse (the default for the others), rect or stroke.")
        String shape;
        @Option(names = "--shape-seed", defaultValue = "0", description = "add --shape object: the outline is the first whole "
                + "object of the class in the generator's scenes from this seed (default ${DEFAULT-VALUE}).")
        long shapeSeed;
        @Option(names = "--size", description = "add: W,H of the shape (default: a quarter of the map's sides; an object's "
                + "outline a quarter of the height, at its own aspect).")
        String size;
        @Option(names = "--stroke", description = "add --shape stroke: the brush path, \"X,Y X,Y ...\".")
        String stroke;
        @Option(names = "--brush", defaultValue = "2", description = "add --shape stroke: brush radius in pixels (default ${DEFAULT-VALUE}).")
        double brush;
        @Option(names = "--tolerance", defaultValue = "63", description = "per-channel colour tolerance when reading the map (default ${DEFAULT-VALUE}; "
                + "ToyWorld colours differ by >= 127).")
        int tolerance;
        @Option(names = "--out", required = true, description = "Output folder.")
        Path out;

        @Override
        public Integer call() throws IOException {
            String operation = op.toLowerCase(Locale.ROOT);
            if (!List.of("move", "resize", "flip", "remove", "add", "depth-swap", "text").contains(operation)) {
                throw new Ldm4j.UsageError("unknown --op '" + op + "': use move, resize, flip, remove, add, depth-swap or text");
            }
            Ldm4j.requireFile("--map", map);
            if (operation.equals("depth-swap")) return depthSwap();
            if (operation.equals("text")) return textEdit();
            Palette palette = ToyWorldMaps.palette();
            ClassMap before = readSegmentation(palette);
            int unlabeled = before.area(ClassMap.UNLABELED);
            if (unlabeled * 20 > before.labels().length) {
                System.err.println("ldm4j: warning: " + Math.round(100.0 * unlabeled / before.labels().length) + "% of " + map
                        + " matches no ToyWorld colour (tolerance " + tolerance + "); those pixels are unlabeled");
            }
            ObjectNode report = new ObjectMapper().createObjectNode();
            report.put("map", map.toString());
            report.put("op", operation);
            ClassMap after;
            if (operation.equals("add")) {
                if (className == null) throw new Ldm4j.UsageError("--op add needs --class NAME (" + String.join(", ", palette.names()) + ")");
                int cls = palette.classOf(className);
                String addShape = shape != null ? shape.toLowerCase(Locale.ROOT) : palette.isObject(cls) ? "object" : "ellipse";
                boolean[] mask = addMask(before, palette, cls, addShape);
                after = MapEdits.add(before, mask, cls);
                report.put("class", palette.name(cls));
                report.put("shape", addShape);
                report.set("added", describe(Region.ofMask(cls, before.width(), before.height(), mask)));
            } else {
                if (region == null) throw new Ldm4j.UsageError("--op " + operation + " needs --region X,Y (a pixel of the object)");
                int[] at = point("--region", region);
                Region picked = Region.at(before, at[0], at[1]);
                report.put("class", palette.name(picked.classId()));
                report.set("region", describe(picked));
                after = switch (operation) {
                    case "move" -> {
                        if (to == null) throw new Ldm4j.UsageError("--op move needs --to X,Y (where the --region pixel goes)");
                        int[] target = point("--to", to);
                        report.put("clearedOldPlace", !keepOld);
                        yield MapEdits.move(before, picked, target[0] - at[0], target[1] - at[1], !keepOld);
                    }
                    case "resize" -> {
                        if (scale == null) throw new Ldm4j.UsageError("--op resize needs --scale S (e.g. 0.5 or 2)");
                        report.put("scale", scale);
                        yield MapEdits.resize(before, picked, scale);
                    }
                    case "flip" -> {
                        MapEdits.Axis a;
                        try {
                            a = MapEdits.Axis.valueOf(axis.toUpperCase(Locale.ROOT));
                        } catch (IllegalArgumentException e) {
                            throw new Ldm4j.UsageError("--axis must be horizontal or vertical, got '" + axis + "'");
                        }
                        report.put("axis", a.name().toLowerCase(Locale.ROOT));
                        yield MapEdits.flip(before, picked, a);
                    }
                    default -> MapEdits.remove(before, picked);
                };
            }
            writeSegmentation(before, after, palette, report);
            System.out.println("fgdm edit: " + operation + " " + report.path("class").asText() + " -> " + out.resolve("map.png").toAbsolutePath());
            return 0;
        }

        /** --map as ToyWorld classes; a map without any palette colour is a usage error. */
        private ClassMap readSegmentation(Palette palette) throws IOException {
            ClassMap classes = SegmentationMaps.decode(Images.readImage(map), palette, tolerance);
            if (classes.area(ClassMap.UNLABELED) == classes.labels().length) {
                throw new Ldm4j.UsageError("map " + map + " has no ToyWorld palette colours (tolerance " + tolerance
                        + "): is it a ToyWorld segmentation colour map?");
            }
            return classes;
        }

        /** An edited segmentation's DIR/map.png, DIR/labels.png and DIR/edit.json (with both maps' class areas). */
        private void writeSegmentation(ClassMap before, ClassMap after, Palette palette, ObjectNode report) throws IOException {
            report.set("areasBefore", areas(before, palette));
            report.set("areasAfter", areas(after, palette));
            Files.createDirectories(out);
            Images.writePng(after.toImage(palette), out.resolve("map.png"));
            Images.writePng(after.toLabelImage(), out.resolve("labels.png"));
            writeReport(report);
        }

        private void writeReport(ObjectNode report) throws IOException {
            AtomicFiles.write(out.resolve("edit.json"), new ObjectMapper().writerWithDefaultPrettyPrinter().writeValueAsBytes(report));
        }

        /** {@link MapTextEdit} on the FG-DM's segmentation factor: inversion under --prompt, regeneration under --to-prompt. */
        private int textEdit() throws IOException {
            if (prompt == null || prompt.isBlank() || toPrompt == null || toPrompt.isBlank()) {
                throw new Ldm4j.UsageError("--op text needs --prompt (the map's caption) and --to-prompt (the edited caption)");
            }
            FgdmFolder folder = FgdmSupport.read(model);
            FgdmManifest.Entry seg = folder.manifest.firstOf(FgdmManifest.MapKind.SEGMENTATION);
            if (seg == null || !seg.parents().isEmpty()) {
                throw new Ldm4j.UsageError(folder.folder + " has no root segmentation factor to edit by text");
            }
            Palette palette = ToyWorldMaps.palette();
            ClassMap before = readSegmentation(palette);
            FactorGraph graph = FgdmSupport.load(folder, palette, "cpu", "fp32", null);
            FactorSettings settings = graph.factor(seg.name()).settings();
            MapTextEdit edit;
            try {
                edit = new MapTextEdit(steps != null ? steps : settings.steps(), cfg != null ? cfg : settings.guidanceScale(),
                        MapTextEdit.Inversion.parse(inversion),
                        semantic == null ? null : new MapTextEdit.Semantic(semantic, editThreshold, crossAttentionMask));
            } catch (IllegalArgumentException e) {
                throw new Ldm4j.UsageError(e.getMessage());
            }
            MapTextEdit.Edited edited;
            try (InferenceMode ignored = new InferenceMode()) {
                edited = edit.edit(graph, seg.name(), before, palette, FgdmFolder.tolerance(palette), prompt, toPrompt, null);
            } catch (IllegalArgumentException e) {
                throw new Ldm4j.UsageError(e.getMessage());
            }
            ClassMap after = edited.map();
            ObjectNode report = new ObjectMapper().createObjectNode();
            report.put("map", map.toString());
            report.put("op", "text");
            report.put("prompt", prompt);
            report.put("toPrompt", toPrompt);
            report.put("steps", edit.steps());
            report.put("guidance", edit.guidance());
            report.put("inversion", edit.inversion().id());
            if (edit.semantic() != null) {
                report.put("semanticScale", edit.semantic().scale()).put("editThreshold", edit.semantic().threshold())
                        .put("crossAttentionMask", edit.semantic().crossAttention());
            }
            double same = MapTextEdit.Edited.sameFraction(before, after);
            report.put("unchangedFraction", same);
            // what encoding and decoding alone keep: the pixels where the edit's decode agrees with it keep the original
            report.put("roundTripUnchangedFraction", MapTextEdit.Edited.sameFraction(before, edited.roundTrip()));
            writeSegmentation(before, after, palette, report);
            System.out.printf("fgdm edit: text (%.0f%% of pixels keep their class) -> %s%n", 100.0 * same,
                    out.resolve("map.png").toAbsolutePath());
            return 0;
        }

        /** Swaps two objects' places in depth ({@link DepthEdits#swap}): each keeps its relief, shifted by the difference. */
        private int depthSwap() throws IOException {
            if (region == null || with == null) throw new Ldm4j.UsageError("--op depth-swap needs --region X,Y and --with X,Y (a pixel of each object)");
            DepthMap before = DepthMap.fromImage(Images.readImage(map));
            int[] a = point("--region", region), b = point("--with", with);
            for (int[] p : List.of(a, b)) {
                if (p[0] < 0 || p[1] < 0 || p[0] >= before.width() || p[1] >= before.height()) {
                    throw new Ldm4j.UsageError("point " + p[0] + "," + p[1] + " is outside the " + before.width() + "x" + before.height() + " depth map");
                }
            }
            boolean[] maskA, maskB;
            ObjectNode report = new ObjectMapper().createObjectNode();
            report.put("map", map.toString());
            report.put("op", "depth-swap");
            if (seg != null) {
                Ldm4j.requireFile("--seg", seg);
                Palette palette = ToyWorldMaps.palette();
                ClassMap classes = SegmentationMaps.decode(Images.readImage(seg), palette, tolerance);
                if (classes.width() != before.width() || classes.height() != before.height()) {
                    throw new Ldm4j.UsageError("--seg is " + classes.width() + "x" + classes.height() + " but the depth map is "
                            + before.width() + "x" + before.height());
                }
                Region ra = Region.at(classes, a[0], a[1]), rb = Region.at(classes, b[0], b[1]);
                maskA = ra.mask();
                maskB = rb.mask();
                report.put("seg", seg.toString());
                report.put("classA", palette.name(ra.classId()));
                report.put("classB", palette.name(rb.classId()));
            } else {
                maskA = DepthEdits.regionAt(before, a[0], a[1], depthStep);
                maskB = DepthEdits.regionAt(before, b[0], b[1], depthStep);
                report.put("depthStep", depthStep);
            }
            DepthMap after;
            try {
                after = DepthEdits.swap(before, maskA, maskB);
            } catch (IllegalArgumentException e) {
                throw new Ldm4j.UsageError("depth-swap: " + e.getMessage() + " (pick two different objects)");
            }
            report.put("depthA", DepthEdits.mean(before, maskA));
            report.put("depthB", DepthEdits.mean(before, maskB));
            Files.createDirectories(out);
            Images.writePng(after.toImage(), out.resolve("map.png"));
            writeReport(report);
            System.out.printf("fgdm edit: depth-swap (%.3f <-> %.3f) -> %s%n", report.get("depthA").asDouble(),
                    report.get("depthB").asDouble(), out.resolve("map.png").toAbsolutePath());
            return 0;
        }

        private boolean[] addMask(ClassMap m, Palette palette, int cls, String addShape) {
            int w = m.width(), h = m.height();
            switch (addShape) {
                case "object" -> {
                    if (to == null) throw new Ldm4j.UsageError("--op add --shape object needs --to X,Y (the object's centre)");
                    if (!palette.isObject(cls)) {
                        throw new Ldm4j.UsageError("--shape object needs an object class (" + String.join(", ", ToyClass.objectLabels())
                                + "), not " + palette.name(cls) + "; use ellipse, rect or stroke");
                    }
                    int[] c = point("--to", to);
                    Mask outline = EditMasks.silhouette(ToyClass.of(cls), shapeSeed);   // ToyWorld's palette: class i is ToyClass i
                    int[] s = size != null ? point("--size", size)
                            : new int[]{Math.max(1, (int) Math.round(h / 4.0 * outline.width() / outline.height())), Math.max(1, h / 4)};
                    if (s[0] < 1 || s[1] < 1) throw new Ldm4j.UsageError("--size must be positive, got '" + size + "'");
                    boolean[] mask = outline.placed(w, h, c[0] - s[0] / 2, c[1] - s[1] / 2, s[0], s[1]).bits();
                    for (boolean b : mask) if (b) return mask;
                    throw new Ldm4j.UsageError("the " + palette.name(cls) + " at " + to + " lies outside the " + w + "x" + h + " map");
                }
                case "stroke" -> {
                    if (stroke == null || stroke.isBlank()) throw new Ldm4j.UsageError("--shape stroke needs --stroke \"X,Y X,Y ...\"");
                    String[] parts = stroke.trim().split("\\s+");
                    int[][] pts = new int[parts.length][];
                    for (int i = 0; i < parts.length; i++) pts[i] = point("--stroke", parts[i]);
                    return Shapes.stroke(w, h, pts, brush);
                }
                case "ellipse", "rect" -> {
                    if (to == null) throw new Ldm4j.UsageError("--op add --shape " + addShape + " needs --to X,Y (the shape's centre)");
                    int[] c = point("--to", to);
                    int[] s = size != null ? point("--size", size) : new int[]{Math.max(1, w / 4), Math.max(1, h / 4)};
                    if (s[0] < 1 || s[1] < 1) throw new Ldm4j.UsageError("--size must be positive, got '" + size + "'");
                    boolean[] mask = addShape.equals("rect")
                            ? Shapes.rectangle(w, h, c[0] - s[0] / 2, c[1] - s[1] / 2, c[0] - s[0] / 2 + s[0] - 1, c[1] - s[1] / 2 + s[1] - 1)
                            : Shapes.ellipse(w, h, c[0] + 0.5, c[1] + 0.5, s[0] / 2.0, s[1] / 2.0);
                    for (boolean b : mask) if (b) return mask;
                    throw new Ldm4j.UsageError("the " + addShape + " at " + to + " lies outside the " + w + "x" + h + " map");
                }
                default -> throw new Ldm4j.UsageError("--shape must be object, ellipse, rect or stroke, got '" + shape + "'");
            }
        }

        private static ObjectNode describe(Region r) {
            ObjectNode n = new ObjectMapper().createObjectNode();
            n.put("area", r.area());
            ArrayNode box = n.putArray("box");
            box.add(r.minX()).add(r.minY()).add(r.maxX()).add(r.maxY());
            n.put("centroidX", r.centroidX());
            n.put("centroidY", r.centroidY());
            return n;
        }

        private static ObjectNode areas(ClassMap m, Palette palette) {
            ObjectNode n = new ObjectMapper().createObjectNode();
            for (Map.Entry<Integer, Integer> e : m.areas().entrySet()) n.put(palette.name(e.getKey()), e.getValue());
            return n;
        }
    }
}
