package org.ldm4j.cli;

import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.InferenceMode;
import org.bytedeco.pytorch.Tensor;
import org.ldm4j.image.Images;
import org.ldm4j.methods.fgdm.ClassMap;
import org.ldm4j.methods.fgdm.FactorGraph;
import org.ldm4j.methods.fgdm.FactorGraphRequest;
import org.ldm4j.methods.fgdm.FactorGraphResult;
import org.ldm4j.methods.fgdm.FactorGraphSampler;
import org.ldm4j.methods.fgdm.FgdmFolder;
import org.ldm4j.methods.fgdm.ObjectRecall;
import org.ldm4j.methods.fgdm.Palette;
import org.ldm4j.methods.fgdm.SegmentationMaps;
import org.ldm4j.toyworld.Scene;
import org.ldm4j.toyworld.ToyClass;
import org.ldm4j.toyworld.eval.EvalImages;
import org.ldm4j.toyworld.eval.FrechetDistance;
import org.ldm4j.toyworld.eval.SegmentationMetrics;
import org.ldm4j.toyworld.eval.ToyWorldFid;
import org.ldm4j.toyworld.eval.ToyWorldSegmenter;

import java.util.ArrayList;
import java.util.List;
import java.util.Set;

/**
 * The measurements {@code ldm4j eval fgdm} tables share (issue #11's condition-fidelity bar): sampling a set of
 * held-out captions through an FG-DM, and the figures of such a set.
 *
 * <p><b>Layout Fréchet distance</b> (the "condition FID" of the paper's Table 2, on ToyWorld). A decoded segmentation
 * map is described by its <i>spatial class histogram</i>: the fraction of each cell of a G x G grid covered by each
 * ToyWorld class (G = 4: 4 x 4 x 15 = 240 numbers; unlabeled pixels count for no class, so a map that decodes badly
 * has a small total mass). Gaussians are fitted to these vectors for the generated maps and for the ground-truth
 * maps of real ToyWorld test scenes, and compared with the Fréchet distance, as FID compares Inception features.
 * Why this statistic: (i) it is exactly what a ToyWorld layout is (which classes, how much, where: sky on top, water
 * and ground below, objects in the middle band), (ii) it is independent of the map's resolution (the factors sample
 * at half the image side, the real maps are full size), (iii) the evaluator segmenter's features are not an option
 * on colourised maps: it was trained on rendered scenes, and flat palette colours are far outside its training
 * distribution. The real-vs-real value at the same sample size is reported as the floor (Fréchet distances are
 * biased upwards for small sets).
 *
 * <p><b>Agreement</b>: the mIoU between the decoded map (resized nearest to the image size) and the evaluator
 * segmenter's map of the generated image, accumulated over the set (VOC convention, {@link SegmentationMetrics});
 * pixels the map leaves unlabeled are not counted. <b>Recall</b> (paper sec. 4): the fraction of the caption's
 * objects present, on the decoded map and on the segmenter's map of the image, with the same area threshold.
 */
final class FgdmEvaluation {
    /** Real reference scenes for FID / layout FD start this far into the test split, clear of the caption scenes. */
    static final long REFERENCE_OFFSET = 500_000L;
    static final int LAYOUT_GRID = 4;

    private FgdmEvaluation() {}

    /** What one held-out caption produced: the decoded segmentation (generated size) and the image (packed RGB). */
    record Sample(String caption, Set<Integer> wanted, ClassMap map, int[] image, long millis) {}

    /**
     * The figures of a sample set; NaN where undefined (e.g. no caption naming an object). {@code iouPerClass}: the
     * agreement's IoU of each class (NaN where a class is in neither map nor image); {@code drawnAs[m][c]}: the share
     * of the map's class-m pixels the evaluator reads as class c in the image ({@link SegmentationMetrics#predictedShares}).
     */
    record Figures(double layoutFd, double imageFid, double miou, double mapRecall, double imageRecall, double unlabeled,
                   double secondsPerPrompt, int samples, double[] iouPerClass, double[][] drawnAs) {}

    /** Real statistics the generated sets are compared with, and the real-vs-real floors at the same size. */
    record Reference(FrechetDistance.Statistics layout, FrechetDistance.Statistics image, double layoutFloor, double imageFloor) {}

    /** Test scenes from {@link ToyWorldFid#TEST_SEEDS} whose first caption names at least {@code minObjects} object classes. */
    static List<Scene> heldOut(int count, int minObjects, int size, Palette palette) {
        List<Scene> out = new ArrayList<>(count);
        for (long seed = ToyWorldFid.TEST_SEEDS; out.size() < count; seed++) {
            if (seed - ToyWorldFid.TEST_SEEDS >= REFERENCE_OFFSET) {
                throw new Ldm4j.UsageError("only " + out.size() + " test captions name >= " + minObjects + " objects; lower --n");
            }
            Scene s = ToyWorldFid.scenes(seed, 1, size).get(0);
            if (ObjectRecall.namedIn(s.caption(), palette, true).size() >= minObjects) out.add(s);
        }
        return out;
    }

    /** Captions [first, first + count) of {@link #heldOut(int, int, int, Palette)}: one shard of a longer run (--first). */
    static List<Scene> heldOut(int first, int count, int minObjects, int size, Palette palette) {
        return List.copyOf(heldOut(first + count, minObjects, size, palette).subList(first, first + count));
    }

    /** Reference statistics from {@code count} real test scenes, and the floors of {@code heldOut}'s own ground truth. */
    static Reference reference(ToyWorldSegmenter segmenter, List<Scene> heldOut, int size) {
        ToyWorldFid fid = new ToyWorldFid(segmenter);
        List<Scene> real = ToyWorldFid.scenes(ToyWorldFid.TEST_SEEDS + REFERENCE_OFFSET, heldOut.size(), size);
        FrechetDistance.Statistics layout = layoutStatistics(real.stream().map(FgdmEvaluation::truth).toList());
        FrechetDistance.Statistics image = fid.statistics(real.stream().map(Scene::rgb).toList(), size, size);
        double layoutFloor = FrechetDistance.distance(layoutStatistics(heldOut.stream().map(FgdmEvaluation::truth).toList()), layout);
        double imageFloor = fid.fid(heldOut.stream().map(Scene::rgb).toList(), size, size, image);
        return new Reference(layout, image, layoutFloor, imageFloor);
    }

    static ClassMap truth(Scene s) { return new ClassMap(s.width(), s.height(), s.seg()); }

    /**
     * Samples every caption through the whole graph (seed {@code seed + i} for caption i) and keeps the decoded map
     * of {@code segFactor} and the image of {@code imageFactor}.
     */
    static List<Sample> sample(FactorGraph graph, String segFactor, String imageFactor, List<String> captions, long seed,
                               FactorGraphRequest.Mode mode, Palette palette, org.ldm4j.methods.fgdm.FactorHooks hooks) {
        List<Sample> out = new ArrayList<>();
        try (InferenceMode ignored = new InferenceMode();
             me.tongfei.progressbar.ProgressBar bar = EvalCommand.OfModel.progress("fgdm", captions.size(), "captions")) {
            for (int i = 0; i < captions.size(); i++) {
                try (PointerScope scope = new PointerScope()) {
                    String caption = captions.get(i);
                    long start = System.nanoTime();
                    FactorGraphResult r = FactorGraphSampler.run(graph, FactorGraphRequest.of(caption, seed + i, mode), null, null, hooks);
                    Tensor image = r.decoded(imageFactor);
                    long millis = (System.nanoTime() - start) / 1_000_000;
                    ClassMap map = SegmentationMaps.decode(r.decoded(segFactor), palette, FgdmFolder.tolerance(palette));
                    out.add(new Sample(caption, ObjectRecall.namedIn(caption, palette, true), map, EvalImages.rgb(Images.toImage(image)), millis));
                }
                bar.step();
            }
        }
        return out;
    }

    /** The evaluator's class map of each sample's image. */
    static int[][] segment(ToyWorldSegmenter segmenter, List<int[]> images, int width, int height) {
        return segmenter.classMaps(images, width, height);
    }

    static Figures figures(List<Sample> samples, int width, int height, ToyWorldSegmenter segmenter, Reference reference, double minArea) {
        return figures(samples, segment(segmenter, samples.stream().map(Sample::image).toList(), width, height), width, height, segmenter,
                reference, minArea);
    }

    /** The same, on the evaluator's class maps of the samples' images ({@link #segment}) computed beforehand. */
    static Figures figures(List<Sample> samples, int[][] segmented, int width, int height, ToyWorldSegmenter segmenter, Reference reference,
                           double minArea) {
        List<int[]> images = samples.stream().map(Sample::image).toList();
        SegmentationMetrics agreement = new SegmentationMetrics(ToyClass.count());
        double mapRecall = 0, imageRecall = 0, unlabeled = 0, millis = 0;
        int named = 0;
        for (int i = 0; i < samples.size(); i++) {
            Sample s = samples.get(i);
            addAgreement(agreement, s.map().resizeNearest(width, height), segmented[i]);
            unlabeled += (double) s.map().area(ClassMap.UNLABELED) / s.map().labels().length;
            millis += s.millis();
            if (s.wanted().isEmpty()) continue;
            ObjectRecall recall = new ObjectRecall(s.wanted(), minArea);
            mapRecall += recall.score(s.map());
            imageRecall += recall.score(new ClassMap(width, height, segmented[i]));
            named++;
        }
        int n = samples.size();
        double layout = FrechetDistance.distance(layoutStatistics(samples.stream().map(Sample::map).toList()), reference.layout());
        double fid = FrechetDistance.distance(FrechetDistance.statistics(segmenter.embeddings(images, width, height)), reference.image());
        return new Figures(layout, fid, agreement.meanIou(), named == 0 ? Double.NaN : mapRecall / named,
                named == 0 ? Double.NaN : imageRecall / named, unlabeled / n, millis / 1000.0 / n, n, agreement.iou(), agreement.predictedShares());
    }

    /**
     * Writes the first {@code count} samples as {@code NNN-map.png} (the decoded map in palette colours),
     * {@code NNN-image.png} and {@code NNN-segmented.png} (the evaluator's reading of the image, {@code segmented[i]}),
     * and the captions to {@code captions.txt}: the pictures behind the agreement figure.
     */
    static void dump(List<Sample> samples, int[][] segmented, int count, int width, int height, Palette palette, java.nio.file.Path dir)
            throws java.io.IOException {
        java.nio.file.Files.createDirectories(dir);
        List<Sample> first = samples.subList(0, Math.min(count, samples.size()));
        StringBuilder captions = new StringBuilder();
        for (int i = 0; i < first.size(); i++) {
            Sample s = first.get(i);
            String name = String.format(java.util.Locale.ROOT, "%03d", i);
            Images.writePng(s.map().toImage(palette), dir.resolve(name + "-map.png"));
            Images.writePng(PictureGrid.image(s.image(), width, height), dir.resolve(name + "-image.png"));
            Images.writePng(new ClassMap(width, height, segmented[i]).toImage(palette), dir.resolve(name + "-segmented.png"));
            captions.append(name).append('\t').append(s.caption()).append('\n');
        }
        org.ldm4j.image.AtomicFiles.write(dir.resolve("captions.txt"), captions.toString().getBytes(java.nio.charset.StandardCharsets.UTF_8));
    }

    /** Adds the labelled pixels of {@code map} (image size) against the segmenter's {@code predicted} classes. */
    static void addAgreement(SegmentationMetrics metrics, ClassMap map, int[] predicted) {
        int[] labels = map.labels();
        int labelled = 0;
        for (int l : labels) if (l != ClassMap.UNLABELED) labelled++;
        int[] truth = new int[labelled], pred = new int[labelled];
        for (int p = 0, k = 0; p < labels.length; p++) {
            if (labels[p] == ClassMap.UNLABELED) continue;
            truth[k] = labels[p];
            pred[k++] = predicted[p];
        }
        metrics.add(truth, pred);
    }

    /** Gaussian statistics of the maps' spatial class histograms ({@link #layoutFeatures}). */
    static FrechetDistance.Statistics layoutStatistics(List<ClassMap> maps) {
        double[][] f = new double[maps.size()][];
        for (int i = 0; i < f.length; i++) f[i] = layoutFeatures(maps.get(i), LAYOUT_GRID, ToyClass.count());
        return FrechetDistance.statistics(f);
    }

    /**
     * The fraction of each of {@code grid x grid} cells covered by each class: index (cy * grid + cx) * classes + c.
     * Each cell's fractions sum to its labelled share (1 for a fully decoded map).
     */
    static double[] layoutFeatures(ClassMap map, int grid, int classes) {
        double[] out = new double[grid * grid * classes];
        int[] cellPixels = new int[grid * grid];
        int w = map.width(), h = map.height();
        for (int y = 0; y < h; y++) {
            int cy = y * grid / h;
            for (int x = 0; x < w; x++) {
                int cell = cy * grid + x * grid / w;
                cellPixels[cell]++;
                int l = map.get(x, y);
                if (l == ClassMap.UNLABELED) continue;
                if (l >= classes) throw new IllegalArgumentException("class " + l + " outside the " + classes + " ToyWorld classes");
                out[cell * classes + l]++;
            }
        }
        for (int cell = 0; cell < cellPixels.length; cell++) {
            for (int c = 0; c < classes; c++) if (cellPixels[cell] > 0) out[cell * classes + c] /= cellPixels[cell];
        }
        return out;
    }
}
