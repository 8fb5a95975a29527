package org.ldm4j.cli;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.NoGradGuard;
import org.bytedeco.pytorch.Tensor;
import org.ldm4j.image.Images;
import org.ldm4j.methods.gradop.BaselineSettings;
import org.ldm4j.methods.gradop.GradOp;
import org.ldm4j.methods.gradop.GradOpPlus;
import org.ldm4j.methods.gradop.GradOpPlusSettings;
import org.ldm4j.methods.gradop.GradOpSettings;
import org.ldm4j.methods.gradop.PaintingSettings;
import org.ldm4j.methods.gradop.Stroke2ImgBaselines;
import org.ldm4j.methods.gradop.StrokePainting;
import org.ldm4j.methods.gradop.StrokePrompt;
import org.ldm4j.nn.Dtypes;
import org.ldm4j.pipeline.ModelLoader;
import org.ldm4j.pipeline.StableDiffusion;
import org.ldm4j.toyworld.Painting;
import org.ldm4j.toyworld.PaintingOptions;
import org.ldm4j.toyworld.Scene;
import org.ldm4j.toyworld.eval.EvalImages;
import org.ldm4j.toyworld.eval.Faithfulness;
import org.ldm4j.toyworld.eval.FrechetDistance;
import org.ldm4j.toyworld.eval.ImageQuality;
import org.ldm4j.toyworld.eval.ObjectRecall;
import org.ldm4j.toyworld.eval.PaintingFunction;
import org.ldm4j.toyworld.eval.ToyWorldFid;
import org.ldm4j.toyworld.eval.ToyWorldSegmenter;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

import java.awt.image.BufferedImage;
import java.io.IOException;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.Map;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;
import java.util.function.Function;

/**
 * {@code ldm4j eval gradop}: the stroke-to-image comparison of GradOP+ (Singh et al., "High-fidelity guided image
 * synthesis with latent diffusion models", CVPR 2023, Table 1 / Fig. 5) on held-out ToyWorld test scenes. Every method
 * gets the same simulated stroke paintings, first captions and seeds; each row reports faithfulness to the painting,
 * PSNR vs the scene the painting was made from, ToyWorld-FID against other real test scenes, caption object recall
 * and seconds per image (plus the time relative to SDEdit at strength 0.8, the paper's speed comparison).
 *
 * <p>The GradOP painting function is the evaluator's blur ({@link PaintingFunction#forWidth}) so that the methods
 * optimise exactly what faithfulness measures: 35x35 / σ 7 at 512 px, scaled with the width.
 */
@Command(name = "gradop", mixinStandardHelpOptions = true,
        description = "Stroke-to-image on ToyWorld test scenes: SDEdit, iterative SDEdit, GradOP+ and GradOP, one row each.",
        footer = {"", "Example:", "  ldm4j eval gradop --model models/toyworld-ldm --n 16 --json runs/eval/gradop.json"})
final class EvalGradopCommand extends EvalCommand.OfModel implements Callable<Integer> {
    @Option(names = "--model", required = true, description = "Diffusers folder or checkpoint of the model under test.") String model;
    @Option(names = "--n", defaultValue = "16", description = "Test scenes (default: ${DEFAULT-VALUE}).") int n;
    @Option(names = "--seed", defaultValue = "0", description = "Noise seed of the first scene (scene i uses seed + i).") long seed;
    @Option(names = "--size", defaultValue = "64", description = "Scene side in pixels (default: ${DEFAULT-VALUE}).") int size;
    @Option(names = "--steps", defaultValue = "25", description = "Denoising steps (default: ${DEFAULT-VALUE}).") int steps;
    @Option(names = "--cfg", defaultValue = "5", description = "Classifier-free guidance scale (default: ${DEFAULT-VALUE}).") double cfg;
    @Option(names = "--strengths", split = ",", defaultValue = "0.6,0.7,0.8,0.9", description = "SDEdit strengths (default: ${DEFAULT-VALUE}).") List<Double> strengths;
    @Option(names = "--grad-steps", split = ",", defaultValue = "4,8,12,16", description = "GradOP+ Adam steps per iteration, one row each (default: ${DEFAULT-VALUE}).") List<Integer> gradSteps;
    @Option(names = "--loss-scales", split = ",", defaultValue = "2", description = "Extra GradOP+ rows with the lower-resolution "
            + "loss (latent area-averaged s x before the decoder: s^2 fewer decoder FLOPs), at the grid's grad-step count; "
            + "empty for none (default: ${DEFAULT-VALUE}).") List<String> lossScaleTexts;

    /** --loss-scales as numbers; "" (picocli hands it over as one empty element) means none. */
    private List<Integer> lossScales = List.of();
    @Option(names = "--loss-scale-grad-steps", split = ",", description = "Adam steps of the lower-resolution loss rows, one row "
            + "each per scale (default: the grid's count, 12 when run).") List<Integer> lossScaleGradSteps;
    @Option(names = "--iterative-sdedit", negatable = true, defaultValue = "true", fallbackValue = "true",
            description = "Run the iterative-SDEdit row (default: on; --no-iterative-sdedit to skip it).") boolean iterativeSdedit;
    @Option(names = "--gradop-strengths", split = ",", defaultValue = "0.8", description = "GradOP+ strengths (where its optimisation starts; "
            + "it always starts from noise), each with every --grad-steps (default: ${DEFAULT-VALUE}, the official).") List<Double> gradopStrengths;
    @Option(names = "--lr", defaultValue = "0.1", description = "GradOP+'s Adam learning rate (default: ${DEFAULT-VALUE}, the official).") double lr;
    @Option(names = "--iterations", defaultValue = "3", description = "GradOP+ iterations and iterative-SDEdit rounds (default: ${DEFAULT-VALUE}).") int iterations;
    @Option(names = "--gradop-grad-steps", defaultValue = "50", description = "Two-pass GradOP's Adam steps; 0 skips its row (default: ${DEFAULT-VALUE}).") int gradopGradSteps;
    @Option(names = "--device", defaultValue = "cpu") String device;
    @Option(names = "--dtype", defaultValue = "fp32") String dtype;
    @Option(names = "--grid", description = "Also write a PNG picture grid: one row per test scene (the first " + GRID_ROWS + " at most), "
            + "columns painting | SDEdit(0.8) | GradOP+(12) | ground-truth scene.") Path grid;

    /** Rows of the picture grid: enough to see the difference, small enough for a README. */
    static final int GRID_ROWS = 8;

    private StableDiffusion sd;

    /** One test case: the scene (ground truth), its stroke painting, the painting as GradOP's y, and the caption. */
    private record Case(Scene scene, int[] painting, Tensor y, String caption, long seed) {}

    /** A method under test: a name and how it turns a case into an image (1, 3, H, W) in [−1, 1]. */
    private record Method(String name, Function<Case, Tensor> run) {}

    @Override
    public Integer call() throws Exception {
        if (n < 2) throw new Ldm4j.UsageError("--n must be >= 2 (ToyWorld-FID needs a covariance), got " + n);
        if (size < 8) throw new Ldm4j.UsageError("--size must be >= 8, got " + size);
        if (steps < 1) throw new Ldm4j.UsageError("--steps must be >= 1, got " + steps);
        for (double g : gradopStrengths) if (!(g > 0 && g <= 1)) throw new Ldm4j.UsageError("--gradop-strengths must be in (0, 1], got " + g);
        if (strengths.isEmpty() || gradSteps.isEmpty()) throw new Ldm4j.UsageError("--strengths and --grad-steps need at least one value");
        for (double s : strengths) if (!(s > 0 && s <= 1)) throw new Ldm4j.UsageError("--strengths must be in (0, 1], got " + s);
        for (int g : gradSteps) if (g < 0) throw new Ldm4j.UsageError("--grad-steps must be >= 0, got " + g);
        if (lossScaleGradSteps != null) for (int g : lossScaleGradSteps) if (g < 0) throw new Ldm4j.UsageError("--loss-scale-grad-steps must be >= 0, got " + g);
        if (gradopGradSteps < 0) throw new Ldm4j.UsageError("--gradop-grad-steps must be >= 0, got " + gradopGradSteps);
        lossScales = new ArrayList<>();
        for (String text : lossScaleTexts) {
            if (text.isBlank()) continue;
            try {
                lossScales.add(Integer.parseInt(text.trim()));
            } catch (NumberFormatException e) {
                throw new Ldm4j.UsageError("--loss-scales: '" + text + "' is not an integer");
            }
        }
        for (int s : lossScales) if (s < 2 || s > 16) throw new Ldm4j.UsageError("--loss-scales must be in 2..16, got " + s);
        PictureGrid.check(grid);
        ToyWorldSegmenter segmenter = loadSegmenter();
        sd = loadModel(model, device, Dtypes.parse(dtype));
        Images.requireMultipleOf(sd.vaeScaleFactor(), size, size);
        for (int s : lossScales) {
            if (size % (sd.vaeScaleFactor() * s) != 0) throw new Ldm4j.UsageError("--size " + size + " is not a multiple of the VAE factor "
                    + sd.vaeScaleFactor() + " x loss scale " + s);
        }
        List<Method> methods = methods();

        List<Case> cases = new ArrayList<>();
        List<Scene> scenes = ToyWorldFid.scenes(ToyWorldFid.TEST_SEEDS, n, size);
        for (int i = 0; i < n; i++) {
            Scene s = scenes.get(i);
            Painting painting = s.painting(s.seed(), PaintingOptions.defaults());
            cases.add(new Case(s, painting.rgb(), StrokePainting.toTensor(painting.image()), s.caption(), seed + i));
        }
        // FID reference: as many other test scenes, so the generated and the real sets are the same size.
        ToyWorldFid fid = new ToyWorldFid(segmenter);
        FrechetDistance.Statistics reference = fid.realStatistics(ToyWorldFid.TEST_SEEDS + n, n, size);
        ObjectRecall recall = new ObjectRecall();

        // One untimed SDEdit first: libtorch's first calls allocate and warm caches, which would bias the first row.
        try (PointerScope scope = new PointerScope(); NoGradGuard g = new NoGradGuard()) {
            methods.get(0).run().apply(cases.get(0));
        }
        PaintingFunction blur = PaintingFunction.forWidth(size);
        ObjectNode report = EvalCommand.JSON.createObjectNode().put("metric", "gradop").put("model", model).put("vae", vaeSpec()).put("samples", n)
                .put("first_seed", ToyWorldFid.TEST_SEEDS).put("reference_first_seed", ToyWorldFid.TEST_SEEDS + n).put("size", size)
                .put("steps", steps).put("cfg", cfg).put("seed", seed).put("blur_kernel", blur.kernel().length).put("blur_sigma", blur.sigma());
        ArrayNode rows = report.putArray("methods");
        List<double[]> figures = new ArrayList<>();
        String sdeditColumn = gridSdedit(), gradopColumn = "gradop+(" + gridGradSteps() + ")";
        Map<String, List<int[]>> gridColumns = new HashMap<>();
        try (me.tongfei.progressbar.ProgressBar bar = progress("gradop", (long) methods.size() * n, "images")) {
            for (Method m : methods) {
                List<int[]> outputs = new ArrayList<>();
                long started = System.nanoTime();
                for (Case c : cases) {
                    try (PointerScope scope = new PointerScope(); NoGradGuard g = new NoGradGuard()) {
                        outputs.add(EvalImages.rgb(Images.toImage(m.run().apply(c))));
                    }
                    bar.step();
                }
                double secondsPerImage = (System.nanoTime() - started) / 1e9 / n;
                if (m.name().equals(sdeditColumn) || m.name().equals(gradopColumn)) gridColumns.put(m.name(), outputs);
                double faithful = 0, psnr = 0, recallSum = 0;
                int named = 0;
                int[][] maps = segmenter.classMaps(outputs, size, size);
                for (int i = 0; i < n; i++) {
                    Case c = cases.get(i);
                    faithful += Faithfulness.distance(outputs.get(i), c.painting(), size, size);
                    psnr += ImageQuality.psnr(outputs.get(i), c.scene().rgb(), null);
                    ObjectRecall.Result r = recall.recall(c.caption(), maps[i]);
                    if (!Double.isNaN(r.recall())) { recallSum += r.recall(); named++; }
                }
                double d = fid.fid(outputs, size, size, reference);
                figures.add(new double[]{faithful / n, psnr / n, d, named == 0 ? Double.NaN : recallSum / named, secondsPerImage});
            }
        }
        int sdedit08 = -1;
        for (int i = 0; i < methods.size(); i++) if (methods.get(i).name().equals("sdedit(0.8)")) sdedit08 = i;
        System.out.printf("%-20s %12s %10s %12s %8s %10s %15s%n", "method", "faithfulness", "PSNR", "ToyWorld-FID", "recall", "s/image", "vs SDEdit(0.8)");
        for (int i = 0; i < methods.size(); i++) {
            double[] f = figures.get(i);
            double ratio = sdedit08 < 0 ? Double.NaN : f[4] / figures.get(sdedit08)[4];
            System.out.printf(Locale.ROOT, "%-20s %12.5f %10.2f %12.3f %8s %10.3f %15s%n", methods.get(i).name(), f[0], f[1], f[2],
                    Double.isNaN(f[3]) ? "-" : f4(f[3]), f[4], Double.isNaN(ratio) ? "-" : String.format(Locale.ROOT, "%.2fx", ratio));
            ObjectNode row = rows.addObject().put("method", methods.get(i).name()).put("faithfulness", f[0]).put("psnr_truth", f[1])
                    .put("toyworld_fid", f[2]).put("seconds_per_image", f[4]).put("samples", n);
            putNumber(row, "object_recall", f[3]);
            putNumber(row, "time_vs_sdedit_0.8", ratio);
        }
        System.out.printf("%d ToyWorld test scenes from seed %d (%dx%d), FID against %d other test scenes; faithfulness = MSE after a "
                        + "%dx%d blur, sigma %.3f (lower is better)%n", n, ToyWorldFid.TEST_SEEDS, size, size, n,
                blur.kernel().length, blur.kernel().length, blur.sigma());
        // The test scenes themselves against the same reference: FID's sampling floor at this n. With 16 scenes it is
        // about 0.5, and method differences of 0.1 changed sign with the noise seed (README, issue #7).
        double floor = fid.fid(cases.stream().map(c -> c.scene().rgb()).toList(), size, size, reference);
        report.put("toyworld_fid_real_floor", floor);
        System.out.printf(Locale.ROOT, "ToyWorld-FID of the real test scenes themselves (sampling floor at n = %d): %.3f%n", n, floor);
        if (grid != null) writeGrid(cases, gridColumns.get(sdeditColumn), gridColumns.get(gradopColumn), sdeditColumn, gradopColumn, report);
        writeJson(report);
        return 0;
    }

    /** GradOP+'s grad steps in the grid (12, the official count, when run) and in the lower-resolution loss rows. */
    private int gridGradSteps() { return gradSteps.contains(12) ? 12 : gradSteps.get(0); }

    /** The SDEdit column of the grid: strength 0.8 (the paper's comparison) or, when not run, the strength nearest to it. */
    private String gridSdedit() {
        double best = strengths.get(0);
        for (double s : strengths) if (Math.abs(s - 0.8) < Math.abs(best - 0.8)) best = s;
        return String.format(Locale.ROOT, "sdedit(%s)", trim(best));
    }

    /** The README grid of issue #7: painting | SDEdit | GradOP+ | ground truth, one row per scene. */
    private void writeGrid(List<Case> cases, List<int[]> sdedit, List<int[]> gradop, String sdeditName, String gradopName,
                           ObjectNode report) throws IOException {
        int rows = Math.min(GRID_ROWS, cases.size());
        List<BufferedImage> tiles = new ArrayList<>();
        for (int i = 0; i < rows; i++) {
            Case c = cases.get(i);
            tiles.add(PictureGrid.image(c.painting(), size, size));
            tiles.add(PictureGrid.image(sdedit.get(i), size, size));
            tiles.add(PictureGrid.image(gradop.get(i), size, size));
            tiles.add(c.scene().image());
        }
        List<String> columns = List.of("painting", sdeditName, gradopName, "ground truth");
        PictureGrid.write(grid, tiles, columns, report);
    }

    /** NaN (no caption naming an object, no SDEdit(0.8) row) becomes JSON null rather than an invalid number. */
    private static void putNumber(ObjectNode row, String key, double v) {
        if (Double.isNaN(v)) row.putNull(key); else row.put(key, v);
    }


    /** SDEdit at each strength, iterative SDEdit, GradOP+ at each grad-step count, two-pass GradOP: all DDIM, same steps and CFG. */
    private List<Method> methods() {
        PaintingFunction f = PaintingFunction.forWidth(size);
        PaintingSettings paint = PaintingSettings.official().withBlur(f.kernel().length, f.sigma()).validate();
        BaselineSettings base = BaselineSettings.official().withSteps(steps).withGuidanceScale(cfg).withIterations(iterations);
        List<Method> out = new ArrayList<>();
        for (double s : strengths) {
            BaselineSettings b = base.withStrength(s).validate();
            out.add(new Method(String.format(Locale.ROOT, "sdedit(%s)", trim(s)), c -> Stroke2ImgBaselines.sdedit(sd, prompt(c), c.y(), b, List.of(), null)));
        }
        BaselineSettings it = base.validate();
        if (iterativeSdedit) {
            out.add(new Method("iterative-sdedit", c -> {
                List<Tensor> rounds = Stroke2ImgBaselines.iterativeSdedit(sd, prompt(c), c.y(), it, List.of(), null);
                return rounds.get(rounds.size() - 1);
            }));
        }
        for (double strength : gradopStrengths) {
            for (int g : gradSteps) {
                GradOpPlusSettings p = GradOpPlusSettings.official().withSteps(steps).withGuidanceScale(cfg).withIterations(iterations)
                        .withGradSteps(g).withPainting(paint).withLr(lr).withStrength(strength).validate();
                String name = strength == 0.8 ? "gradop+(" + g + ")" : "gradop+(" + g + ",s" + trim(strength) + ")";
                out.add(new Method(name, c -> GradOpPlus.run(sd, prompt(c), c.y(), p, null, List.of(), null).image()));
            }
        }
        for (int s : lossScales) {
            for (int g : lossScaleGradSteps == null ? List.of(gridGradSteps()) : lossScaleGradSteps) {
                GradOpPlusSettings p = GradOpPlusSettings.official().withSteps(steps).withGuidanceScale(cfg).withIterations(iterations)
                        .withGradSteps(g).withPainting(paint).withLossScale(s).withLr(lr).validate();
                out.add(new Method("gradop+(" + g + ",loss/" + s + ")", c -> GradOpPlus.run(sd, prompt(c), c.y(), p, null, List.of(), null).image()));
            }
        }
        if (gradopGradSteps > 0) {
            GradOpSettings two = GradOpSettings.defaults().withSteps(steps).withGuidanceScale(cfg).withGradSteps(gradopGradSteps)
                    .withPainting(paint).validate();
            out.add(new Method("gradop(" + gradopGradSteps + ")", c -> GradOp.run(sd, prompt(c), c.y(), two, null, List.of(), null).image()));
        }
        return out;
    }

    private static StrokePrompt prompt(Case c) { return StrokePrompt.of(c.caption(), c.seed()); }

    private static String trim(double v) { return v == Math.rint(v) ? String.valueOf((long) v) : String.valueOf(v); }

    private static String f4(double v) { return EvalCommand.f4(v); }
}
