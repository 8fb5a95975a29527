package org.ldm4j.cli;

import com.fasterxml.jackson.databind.node.ObjectNode;
import org.ldm4j.methods.fgdm.Factor;
import org.ldm4j.methods.fgdm.FactorGraph;
import org.ldm4j.methods.fgdm.FactorGraphRequest;
import org.ldm4j.methods.fgdm.FactorSettings;
import org.ldm4j.methods.fgdm.FgdmFolder;
import org.ldm4j.methods.fgdm.FgdmManifest;
import org.ldm4j.methods.fgdm.MapReadout;
import org.ldm4j.methods.fgdm.Palette;
import org.ldm4j.toyworld.Scene;
import org.ldm4j.toyworld.ToyClass;
import org.ldm4j.train.toyworld.ToyWorldMaps;
import org.ldm4j.toyworld.eval.ToyWorldSegmenter;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

import java.nio.file.Path;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;
import java.util.stream.IntStream;

/**
 * {@code ldm4j eval fgdm TABLE}: the FG-DM measurements of issue #11 on ToyWorld (Sridhar et al., NeurIPS 2024,
 * Tables 2-4), one printed table per subcommand: {@code fidelity} (condition fidelity and the image factor's
 * agreement with its map), {@code sbpc} ({@link EvalFgdmSbpcCommand}, Tables 3-4), {@code joint} (eqs. 4-6 vs the
 * released sequential form), {@code edits} ({@link EvalFgdmEditsCommand}) and {@code ablation} (Table 2: with and
 * without attention distillation). The figures are defined in {@link FgdmEvaluation}.
 */
@Command(name = "fgdm", mixinStandardHelpOptions = true,
        description = "FG-DM tables on ToyWorld: fidelity, sbpc, joint, edits, ablation (one table each).",
        subcommands = {EvalFgdmCommand.Fidelity.class, EvalFgdmSbpcCommand.class, EvalFgdmCommand.Joint.class,
                EvalFgdmEditsCommand.class, EvalFgdmCommand.Ablation.class, EvalFgdmControlCommand.class, EvalFgdmAugmentationCommand.class, EvalFgdmChildrenCommand.class})
final class EvalFgdmCommand implements Runnable {
    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Override
    public void run() { throw new Ldm4j.UsageError("eval fgdm needs a table: fidelity, sbpc, joint, edits or ablation"); }

    /** A loaded FG-DM and what the tables read from it. */
    record Loaded(FgdmFolder folder, FactorGraph graph, String seg, String image, int size) {}

    /** Options every FG-DM table shares. */
    abstract static class Base extends EvalCommand.Common {
        @Option(names = "--n", description = "Held-out captions (default: the table's own: fidelity, joint, ablation 100; sbpc 200; edits 50).", defaultValue = "0") int n;
        @Option(names = "--seed", defaultValue = "0", description = "Noise seed of the first caption (caption i uses seed + i).") long seed;
        @Option(names = "--min-area", defaultValue = "0.002", description = "Fraction of a map an object must cover to count for recall (default: ${DEFAULT-VALUE}, the evaluator's).") double minArea;
        @Option(names = "--steps", description = "Condition factors' DDIM steps (default: the manifest's).") Integer steps;
        @Option(names = "--image-steps", description = "Image factor's DDIM steps (default: the manifest's).") Integer imageSteps;
        @Option(names = "--image-scale", description = "Image factor's conditioning scale, its ControlNet's residuals multiplied by it (default: the manifest's \"scale\").")
        Double imageScale;
        @picocli.CommandLine.Mixin MapReadingOptions mapReading;
        @Option(names = "--full-size", description = "Sample condition maps at the image's size (default: the manifest's, half the side).") boolean fullSize;
        @Option(names = "--device", defaultValue = "cpu") String device;
        @Option(names = "--dtype", defaultValue = "fp32") String dtype;
        @CommandLine.Mixin GuideOptions guidance;

        final Palette palette = ToyWorldMaps.palette();

        /** --n, or the table's default; below {@code min} is a usage error. */
        int count(int byDefault, int min) {
            int v = n == 0 ? byDefault : n;
            if (v < min) throw new Ldm4j.UsageError("--n must be >= " + min + " (Fréchet distances need a covariance), got " + v);
            if (!(minArea >= 0 && minArea < 1)) throw new Ldm4j.UsageError("--min-area must be in [0, 1), got " + minArea);
            if (steps != null && steps < 1) throw new Ldm4j.UsageError("--steps must be >= 1, got " + steps);
            if (imageSteps != null && imageSteps < 1) throw new Ldm4j.UsageError("--image-steps must be >= 1, got " + imageSteps);
            if (imageScale != null && !(Math.abs(imageScale) < 1e6)) throw new Ldm4j.UsageError("--image-scale must be a finite number, got " + imageScale);
            return v;
        }

        /** Reads and loads an FG-DM folder with the step and size overrides; it needs a segmentation and an image factor. */
        Loaded load(Path model) {
            mapReading.check();
            FgdmFolder folder = FgdmSupport.read(model);
            FgdmManifest.Entry seg = folder.manifest.firstOf(FgdmManifest.MapKind.SEGMENTATION);
            if (seg == null) throw new Ldm4j.UsageError(folder.folder + " has no segmentation factor: the FG-DM tables score segmentation maps");
            FgdmManifest.Entry image = folder.manifest.factors().stream().filter(e -> e.role() == Factor.Role.IMAGE).findFirst().orElse(null);
            if (image == null) throw new Ldm4j.UsageError(folder.folder + " has no image factor");
            if (image.width() != image.height()) throw new Ldm4j.UsageError("ToyWorld-FID needs square images; the image factor samples " + image.width() + "x" + image.height());
            FactorGraph graph = FgdmSupport.load(folder, palette, device, dtype, threads);
            for (Factor f : graph.factors()) {
                FactorSettings s = f.settings();
                boolean isImage = f.role() == Factor.Role.IMAGE;
                Integer st = isImage ? imageSteps : steps;
                if (st != null) s = s.withSteps(st);
                if (!isImage && fullSize) s = s.withSize(image.width(), image.height());
                graph = graph.withSettings(f.name(), s);
                if (isImage && imageScale != null) {
                    try {
                        graph = graph.withConditioningScale(f.name(), imageScale);
                    } catch (IllegalArgumentException e) {
                        throw new Ldm4j.UsageError("--image-scale: " + e.getMessage());
                    }
                }
            }
            MapReadout readout = mapReading.readout(seg, palette);
            if (readout != null) graph = graph.withReadout(seg.name(), readout);
            return new Loaded(folder, graph, seg.name(), image.name(), image.width());
        }

        ObjectNode report(String table, int count) {
            ObjectNode n = EvalCommand.JSON.createObjectNode().put("metric", "fgdm").put("table", table).put("samples", count).put("seed", seed)
                    .put("min_area", minArea).put("first_seed", org.ldm4j.toyworld.eval.ToyWorldFid.TEST_SEEDS)
                    .put("evaluator", segmenter.toString());   // which segmenter read the images (--segmenter)
            mapReading.record(n);
            return n;
        }
    }

    /** Held-out captions and the reference statistics, shared by fidelity, joint and ablation. */
    abstract static class SetTable extends Base {
        @Option(names = "--first", defaultValue = "0", description = "Skip this many held-out captions (e.g. to tune a setting on captions the table does not use).")
        int first;
        List<Scene> scenes;
        FgdmEvaluation.Reference reference;

        void prepare(ToyWorldSegmenter segmenter, int count, int size) {
            if (first < 0) throw new Ldm4j.UsageError("--first must be >= 0, got " + first);
            scenes = FgdmEvaluation.heldOut(first, count, 0, size, palette);
            reference = FgdmEvaluation.reference(segmenter, scenes, size);
        }

        List<String> captions() { return scenes.stream().map(Scene::caption).toList(); }

        FgdmEvaluation.Figures measure(Loaded m, FactorGraphRequest.Mode mode, ToyWorldSegmenter segmenter) {
            return FgdmEvaluation.figures(sample(m, mode), m.size(), m.size(), segmenter, reference, minArea);
        }

        /** Every held-out caption through the whole graph (seed + i for caption i). */
        List<FgdmEvaluation.Sample> sample(Loaded m, FactorGraphRequest.Mode mode) {
            return FgdmEvaluation.sample(m.graph(), m.seg(), m.image(), captions(), seed, mode, palette, guidance.mapGuidance(m.graph(), m.seg(), palette));
        }

        static final String HEADER = String.format("%-12s %10s %12s %8s %11s %13s %10s %10s", "row", "layout-FD", "ToyWorld-FID",
                "mIoU", "map recall", "image recall", "unlabeled", "s/prompt");

        static String row(String name, FgdmEvaluation.Figures f) {
            return String.format(Locale.ROOT, "%-12s %10.3f %12.3f %8.4f %11s %13s %10.4f %10.3f", name, f.layoutFd(), f.imageFid(), f.miou(),
                    num(f.mapRecall()), num(f.imageRecall()), f.unlabeled(), f.secondsPerPrompt())
                    + System.lineSeparator() + perClass(f.iouPerClass()) + System.lineSeparator() + drawnAs(f.drawnAs(), 0.1);
        }

        /**
         * The map classes whose pixels the image shows as another class for at least {@code minShare} of them, with
         * the classes they became (largest first): what a class's low IoU is made of.
         */
        static String drawnAs(double[][] shares, double minShare) {
            StringBuilder line = new StringBuilder("  map class drawn as another (share of its pixels >= " + minShare + "):");
            int listed = 0;
            for (int m = 0; m < shares.length; m++) {
                final int mapClass = m;
                List<Integer> others = IntStream.range(0, shares[m].length)
                        .filter(c -> c != mapClass && shares[mapClass][c] >= minShare).boxed()
                        .sorted((a, b) -> Double.compare(shares[mapClass][b], shares[mapClass][a])).toList();
                if (others.isEmpty()) continue;
                line.append(listed++ == 0 ? " " : "; ").append(ToyClass.values()[m].label()).append(" ->");
                for (int c : others) line.append(' ').append(ToyClass.values()[c].label()).append(' ').append(String.format(Locale.ROOT, "%.2f", shares[m][c]));
            }
            return listed == 0 ? line.append(" none").toString() : line.toString();
        }

        /** One line of the agreement's IoU by class, "-" for a class in neither map nor image. */
        static String perClass(double[] iou) {
            StringBuilder line = new StringBuilder("  IoU by class:");
            for (int c = 0; c < iou.length; c++) line.append(' ').append(ToyClass.values()[c].label()).append(' ').append(Double.isNaN(iou[c]) ? "-" : String.format(Locale.ROOT, "%.2f", iou[c]));
            return line.toString();
        }

        static ObjectNode putFigures(ObjectNode n, FgdmEvaluation.Figures f) {
            put(n, "layout_fd", f.layoutFd());
            put(n, "toyworld_fid", f.imageFid());
            put(n, "miou", f.miou());
            put(n, "map_recall", f.mapRecall());
            put(n, "image_recall", f.imageRecall());
            put(n, "unlabeled_fraction", f.unlabeled());
            put(n, "seconds_per_prompt", f.secondsPerPrompt());
            ObjectNode perClass = n.putObject("miou_per_class");
            for (int c = 0; c < f.iouPerClass().length; c++) put(perClass, ToyClass.values()[c].label(), f.iouPerClass()[c]);
            ObjectNode drawnAs = n.putObject("map_class_drawn_as");
            for (int m = 0; m < f.drawnAs().length; m++) {
                if (Double.isNaN(f.drawnAs()[m][m])) continue;
                ObjectNode row = drawnAs.putObject(ToyClass.values()[m].label());
                for (int c = 0; c < f.drawnAs()[m].length; c++) if (f.drawnAs()[m][c] > 0) row.put(ToyClass.values()[c].label(), f.drawnAs()[m][c]);
            }
            return n.put("samples", f.samples());
        }

        void footer(ObjectNode report, int count, int size) {
            report.put("size", size).put("reference_first_seed", org.ldm4j.toyworld.eval.ToyWorldFid.TEST_SEEDS + FgdmEvaluation.REFERENCE_OFFSET)
                    .put("layout_grid", FgdmEvaluation.LAYOUT_GRID);
            put(report, "layout_fd_real_floor", reference.layoutFloor());
            put(report, "toyworld_fid_real_floor", reference.imageFloor());
            System.out.printf(Locale.ROOT, "%d held-out test captions from seed %d; references: %d other real test scenes (real-vs-real floor: "
                            + "layout-FD %.3f, ToyWorld-FID %.3f); layout-FD = Fréchet distance of %dx%d-grid class histograms; "
                            + "mIoU = decoded map vs the segmenter on the image%n", count, org.ldm4j.toyworld.eval.ToyWorldFid.TEST_SEEDS, count,
                    reference.layoutFloor(), reference.imageFloor(), FgdmEvaluation.LAYOUT_GRID, FgdmEvaluation.LAYOUT_GRID);
        }
    }

    /** One shard's JSON report for a --merge, checked to be the {@code table}'s; an unreadable or other file is a usage error. */
    static com.fasterxml.jackson.databind.JsonNode shard(Path file, String table) {
        com.fasterxml.jackson.databind.JsonNode shard;
        try {
            shard = EvalCommand.JSON.readTree(file.toFile());
        } catch (java.io.IOException e) {
            throw new Ldm4j.UsageError("--merge: cannot read " + file + ": " + e.getMessage());
        }
        if (!table.equals(shard.path("table").asText())) {
            throw new Ldm4j.UsageError("--merge: " + file + " is not an `eval fgdm " + table + " --json` file");
        }
        return shard;
    }

    static String num(double v) { return Double.isNaN(v) ? "-" : String.format(Locale.ROOT, "%.4f", v); }

    /** NaN becomes JSON null rather than an invalid number. */
    static void put(ObjectNode n, String key, double v) {
        if (Double.isNaN(v) || Double.isInfinite(v)) n.putNull(key); else n.put(key, v);
    }

    @Command(name = "fidelity", mixinStandardHelpOptions = true,
            description = "Condition fidelity on held-out captions: layout Fréchet distance of the decoded segmentations vs real ToyWorld "
                    + "maps, the image factor's agreement with its map (mIoU, bar >= 0.75), image ToyWorld-FID and recall.",
            footer = {"", "Example: ldm4j eval fgdm fidelity --model models/toyworld-fgdm --json runs/eval/fgdm-fidelity.json"})
    static final class Fidelity extends SetTable implements Callable<Integer> {
        @Option(names = "--model", description = "FG-DM folder (default models/toyworld-fgdm).") Path model;
        @Option(names = "--mode", defaultValue = "sequential", description = "sequential or joint (default: ${DEFAULT-VALUE}).") String mode;
        @Option(names = "--dump", description = "Also write the first --dump-count samples' map, image and segmented image here.") Path dump;
        @Option(names = "--dump-count", defaultValue = "16", description = "Samples --dump writes (default: ${DEFAULT-VALUE}).") int dumpCount;
        @Option(names = "--grid", description = "Also write a PNG of the first --grid-rows captions: map | image | the evaluator's reading; "
                + "with --guide the unguided image of the same seed before the guided one.") Path grid;
        @Option(names = "--grid-rows", defaultValue = "8", description = "Rows of --grid (default: ${DEFAULT-VALUE}).") int gridRows;

        @Override
        public Integer call() throws Exception {
            int count = count(100, 2);
            FactorGraphRequest.Mode m = mode(mode);
            PictureGrid.check(grid);
            if (gridRows < 1) throw new Ldm4j.UsageError("--grid-rows must be >= 1, got " + gridRows);
            ToyWorldSegmenter segmenter = loadSegmenter();
            Loaded loaded = load(model);
            prepare(segmenter, count, loaded.size());
            List<FgdmEvaluation.Sample> samples = sample(loaded, m);
            int[][] segmented = FgdmEvaluation.segment(segmenter, samples.stream().map(FgdmEvaluation.Sample::image).toList(), loaded.size(), loaded.size());
            FgdmEvaluation.Figures f = FgdmEvaluation.figures(samples, segmented, loaded.size(), loaded.size(), segmenter, reference, minArea);
            if (dump != null) FgdmEvaluation.dump(samples, segmented, dumpCount, loaded.size(), loaded.size(), palette, dump);
            List<java.awt.image.BufferedImage> tiles = grid == null ? null : gridTiles(loaded, m, samples, segmented);
            boolean pass = f.miou() >= 0.75;
            System.out.println(HEADER);
            System.out.println(row(m.name().toLowerCase(Locale.ROOT), f));
            System.out.printf(Locale.ROOT, "bar: agreement mIoU %.4f >= 0.75: %s%n", f.miou(), pass ? "PASS" : "FAIL");
            ObjectNode report = report("fidelity", count).put("model", loaded.folder().folder.toString()).put("mode", m.name().toLowerCase(Locale.ROOT))
                    .put("map_size", loaded.graph().factor(loaded.seg()).settings().width()).put("first_caption", first);
            guidance.record(report);
            putFigures(report.putObject("figures"), f);
            report.putObject("checks").put("miou_at_least_0.75", pass);
            if (tiles != null) {
                PictureGrid.write(grid, tiles, guidance.on() ? List.of("map", "unguided image", "guided image", "evaluator on the guided image")
                        : List.of("map", "image", "evaluator on the image"), report);
            }
            footer(report, count, loaded.size());
            writeJson(report);
            return 0;
        }

        /** The grid's rows: the map, (with --guide) the same caption and seed unguided, the image, the evaluator's reading. */
        private List<java.awt.image.BufferedImage> gridTiles(Loaded loaded, FactorGraphRequest.Mode m, List<FgdmEvaluation.Sample> samples,
                                                              int[][] segmented) {
            int rows = Math.min(gridRows, samples.size()), size = loaded.size();
            List<FgdmEvaluation.Sample> unguided = guidance.on() ? FgdmEvaluation.sample(loaded.graph(), loaded.seg(), loaded.image(),
                    captions().subList(0, rows), seed, m, palette, org.ldm4j.methods.fgdm.FactorHooks.NONE) : null;
            List<java.awt.image.BufferedImage> tiles = new java.util.ArrayList<>();
            for (int i = 0; i < rows; i++) {
                tiles.add(samples.get(i).map().toImage(palette));
                if (unguided != null) tiles.add(PictureGrid.image(unguided.get(i).image(), size, size));
                tiles.add(PictureGrid.image(samples.get(i).image(), size, size));
                tiles.add(new org.ldm4j.methods.fgdm.ClassMap(size, size, segmented[i]).toImage(palette));
            }
            return tiles;
        }
    }

    @Command(name = "joint", mixinStandardHelpOptions = true,
            description = "Joint sampling (paper eqs. 4-6, all factors per step) vs sequential (the released code): recall and "
                    + "condition/image agreement side by side, same captions and seeds.",
            footer = {"", "Example: ldm4j eval fgdm joint --model models/toyworld-fgdm --json runs/eval/fgdm-joint.json"})
    static final class Joint extends SetTable implements Callable<Integer> {
        @Option(names = "--model", description = "FG-DM folder (default models/toyworld-fgdm).") Path model;

        @Override
        public Integer call() throws Exception {
            int count = count(100, 2);
            ToyWorldSegmenter segmenter = loadSegmenter();
            Loaded loaded = load(model);
            int steps = -1;
            for (Factor f : loaded.graph().factors()) {
                if (steps >= 0 && f.settings().steps() != steps) {
                    throw new Ldm4j.UsageError("joint sampling steps all factors together, but they have different step counts;"
                            + " give --steps and --image-steps the same value");
                }
                steps = f.settings().steps();
            }
            prepare(segmenter, count, loaded.size());
            ObjectNode report = report("joint", count).put("model", loaded.folder().folder.toString()).put("steps", steps);
            var rows = report.putArray("rows");
            System.out.println(HEADER);
            for (FactorGraphRequest.Mode m : FactorGraphRequest.Mode.values()) {
                FgdmEvaluation.Figures f = measure(loaded, m, segmenter);
                String name = m.name().toLowerCase(Locale.ROOT);
                System.out.println(row(name, f));
                putFigures(rows.addObject().put("mode", name), f);
            }
            footer(report, count, loaded.size());
            writeJson(report);
            return 0;
        }
    }

    @Command(name = "ablation", mixinStandardHelpOptions = true,
            description = "Attention-distillation ablation (paper Table 2): two FG-DMs trained with and without the loss, same budget; "
                    + "image ToyWorld-FID, condition layout-FD and recall side by side.",
            footer = {"", "Example: ldm4j eval fgdm ablation --with models/toyworld-fgdm --without models/toyworld-fgdm-nodistill"})
    static final class Ablation extends SetTable implements Callable<Integer> {
        @Option(names = "--with", required = true, description = "FG-DM folder trained with attention distillation.") Path with;
        @Option(names = "--without", required = true, description = "FG-DM folder trained without it.") Path without;

        @Override
        public Integer call() throws Exception {
            int count = count(100, 2);
            ToyWorldSegmenter segmenter = loadSegmenter();
            FgdmSupport.read(with);
            FgdmSupport.read(without);
            ObjectNode report = report("ablation", count);
            var rows = report.putArray("rows");
            int size = -1;
            FgdmEvaluation.Figures[] figures = new FgdmEvaluation.Figures[2];
            String[] names = {"with", "without"};
            Path[] folders = {with, without};
            for (int i = 0; i < 2; i++) {
                Loaded loaded = load(folders[i]);
                if (size < 0) {
                    size = loaded.size();
                    prepare(segmenter, count, size);
                } else if (loaded.size() != size) {
                    throw new Ldm4j.UsageError("the two FG-DMs sample different image sizes: " + size + " vs " + loaded.size());
                }
                figures[i] = measure(loaded, FactorGraphRequest.Mode.SEQUENTIAL, segmenter);
                putFigures(rows.addObject().put("distillation", names[i]).put("model", loaded.folder().folder.toString()), figures[i]);
            }
            System.out.println(HEADER);
            for (int i = 0; i < 2; i++) System.out.println(row(names[i], figures[i]));
            ObjectNode delta = report.putObject("with_minus_without");
            put(delta, "layout_fd", figures[0].layoutFd() - figures[1].layoutFd());
            put(delta, "toyworld_fid", figures[0].imageFid() - figures[1].imageFid());
            put(delta, "map_recall", figures[0].mapRecall() - figures[1].mapRecall());
            put(delta, "image_recall", figures[0].imageRecall() - figures[1].imageRecall());
            System.out.printf(Locale.ROOT, "with - without: layout-FD %+.3f, ToyWorld-FID %+.3f, map recall %s, image recall %s (lower FD/FID is better)%n",
                    figures[0].layoutFd() - figures[1].layoutFd(), figures[0].imageFid() - figures[1].imageFid(),
                    signed(figures[0].mapRecall() - figures[1].mapRecall()), signed(figures[0].imageRecall() - figures[1].imageRecall()));
            footer(report, count, size);
            writeJson(report);
            return 0;
        }
    }

    static String signed(double v) { return Double.isNaN(v) ? "-" : String.format(Locale.ROOT, "%+.4f", v); }

    static FactorGraphRequest.Mode mode(String mode) {
        return switch (mode.toLowerCase(Locale.ROOT)) {
            case "sequential" -> FactorGraphRequest.Mode.SEQUENTIAL;
            case "joint" -> FactorGraphRequest.Mode.JOINT;
            default -> throw new Ldm4j.UsageError("--mode must be sequential or joint, got '" + mode + "'");
        };
    }
}
