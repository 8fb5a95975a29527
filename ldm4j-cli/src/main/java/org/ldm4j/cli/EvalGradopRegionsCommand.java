package org.ldm4j.cli;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.NoGradGuard;
import org.bytedeco.pytorch.Tensor;
import org.ldm4j.image.Images;
import org.ldm4j.methods.gradop.GradOpPlus;
import org.ldm4j.methods.gradop.GradOpPlusSettings;
import org.ldm4j.methods.gradop.PaintingSettings;
import org.ldm4j.methods.gradop.Region;
import org.ldm4j.methods.gradop.RegionSettings;
import org.ldm4j.methods.gradop.StrokePainting;
import org.ldm4j.methods.gradop.StrokePrompt;
import org.ldm4j.nn.Dtypes;
import org.ldm4j.pipeline.ModelLoader;
import org.ldm4j.pipeline.StableDiffusion;
import org.ldm4j.toyworld.Painting;
import org.ldm4j.toyworld.PaintingOptions;
import org.ldm4j.toyworld.Scene;
import org.ldm4j.toyworld.SceneObject;
import org.ldm4j.toyworld.SceneOptions;
import org.ldm4j.toyworld.ToyClass;
import org.ldm4j.toyworld.ToyWorld;
import org.ldm4j.toyworld.eval.EvalImages;
import org.ldm4j.toyworld.eval.Faithfulness;
import org.ldm4j.toyworld.eval.PaintingFunction;
import org.ldm4j.toyworld.eval.ToyWorldFid;
import org.ldm4j.toyworld.eval.ToyWorldSegmenter;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

import java.awt.Color;
import java.awt.image.BufferedImage;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import java.util.stream.Collectors;
import java.util.concurrent.Callable;

/**
 * {@code ldm4j eval gradop-regions}: the region-semantics swap test of GradOP (Singh et al., CVPR 2023, abstract and
 * Fig. 1 right; the cross-attention correspondence of shared/design/gradop.md §4.2, verification idea §4.2.6).
 *
 * <p>Each case is a held-out ToyWorld test scene's stroke painting with two of its ground objects painted out and
 * a disc painted at each of their locations, in two greens 30 RGB units apart ({@link #COLOUR_1}, {@link #COLOUR_2}): the painting
 * alone cannot say which disc is the tree and which the car (ToyWorld paints both green). The prompt names both
 * ("a green car and an oak tree on the grass"). GradOP+ runs three times with the same seed: mapping A (colour 1 →
 * "tree", colour 2 → "car"), the swapped mapping B, and without region semantics (the baseline).
 *
 * <p>A region passes when, in the segmenter's class map of the output, the requested class covers at least
 * {@code --min-fraction} of the disc and more of it than any other object class. A mapping passes when both of its
 * regions pass; the swap passes when mapping A and mapping B both pass on the same scene. The baseline makes one
 * image per scene, which is judged against both mappings; its swap rate is 0 by construction (one image cannot show
 * the tree in disc 1 and the car in disc 1) and is printed for the table's shape only; its per-mapping rates are the
 * chance level the region rows must beat.
 */
@Command(name = "gradop-regions", mixinStandardHelpOptions = true,
        description = "Region-semantics swap test of GradOP+ on ToyWorld: two same-green discs mapped to 'tree' and 'car', then swapped; "
                + "the segmenter checks that each disc shows its class.",
        footer = {"", "Example:", "  ldm4j eval gradop-regions --model models/toyworld-ldm --n 32 --json runs/eval/gradop-regions.json --grid runs/eval/gradop-regions.png"})
final class EvalGradopRegionsCommand extends EvalCommand.OfModel implements Callable<Integer> {
    /** The two object classes: ToyWorld paints oak trees and green cars in nearly the same green (SceneLayout). */
    static final ToyClass CLASS_1 = ToyClass.TREE, CLASS_2 = ToyClass.CAR;
    /** One colour family: a darker and a lighter green, Euclidean RGB distance 30.3. */
    static final Color COLOUR_1 = new Color(52, 122, 56), COLOUR_2 = new Color(72, 144, 62);
    /** Region colour tolerance: the discs are flat, so a tight tolerance keeps green grass out of the region masks. */
    static final double TOLERANCE = 10;
    /** Disc radius at 64 px (113 px of area): about a median ToyWorld car or tree (86 and 67 px at 64x64). */
    static final int RADIUS_AT_64 = 6;
    static final int GRID_ROWS = 8;

    @Option(names = "--model", required = true, description = "The ToyWorld LDM (diffusers folder), e.g. models/toyworld-ldm.") String model;
    @Option(names = "--n", defaultValue = "16", description = "Test scenes with two usable object locations (default: ${DEFAULT-VALUE}).") int n;
    @Option(names = "--seed", defaultValue = "0", description = "Noise seed of the first scene; scene i uses seed + i in all three runs.") long seed;
    @Option(names = "--size", defaultValue = "64", description = "Scene side in pixels (default: ${DEFAULT-VALUE}).") int size;
    @Option(names = "--steps", defaultValue = "25", description = "Denoising steps (default: ${DEFAULT-VALUE}).") int steps;
    @Option(names = "--cfg", defaultValue = "5", description = "Classifier-free guidance scale (default: ${DEFAULT-VALUE}).") double cfg;
    @Option(names = "--grad-steps", defaultValue = "12", description = "GradOP+ Adam steps per iteration (default: ${DEFAULT-VALUE}).") int gradSteps;
    @Option(names = "--iterations", defaultValue = "3", description = "GradOP+ iterations (default: ${DEFAULT-VALUE}).") int iterations;
    @Option(names = "--region-strength", defaultValue = "0.4", description = "Cross-attention bias strength w' (default: ${DEFAULT-VALUE}).") double regionStrength;
    @Option(names = "--min-fraction", defaultValue = "0.2", description = "Share of a disc the requested class must cover (default: ${DEFAULT-VALUE}).") double minFraction;
    @Option(names = "--grid", description = "Also write a PNG grid, one row per scene (first " + GRID_ROWS + "): painting | plain GradOP+ | mapping A | mapping B.") Path grid;
    @Option(names = "--device", defaultValue = "cpu") String device;
    @Option(names = "--dtype", defaultValue = "fp32") String dtype;

    /** A test case: the scene, its painting with the two discs, the disc masks and centres (x, y), the two objects replaced. */
    record RegionCase(Scene scene, int[] painting, boolean[][] discs, int[][] centres, List<SceneObject> replaced) {}

    /** The three runs of a scene, in this order in every per-scene array. */
    static final List<String> RUNS = List.of("regions_a", "regions_b", "plain");

    @Override
    public Integer call() throws Exception {
        if (n < 1) throw new Ldm4j.UsageError("--n must be >= 1, got " + n);
        if (size < 8) throw new Ldm4j.UsageError("--size must be >= 8, got " + size);
        if (steps < 1) throw new Ldm4j.UsageError("--steps must be >= 1, got " + steps);
        if (gradSteps < 0) throw new Ldm4j.UsageError("--grad-steps must be >= 0, got " + gradSteps);
        if (iterations < 1) throw new Ldm4j.UsageError("--iterations must be >= 1, got " + iterations);
        if (!(Double.isFinite(cfg) && cfg >= 0)) throw new Ldm4j.UsageError("--cfg must be >= 0, got " + cfg);
        if (!(Double.isFinite(regionStrength) && regionStrength >= 0)) throw new Ldm4j.UsageError("--region-strength must be >= 0, got " + regionStrength);
        if (!(minFraction > 0 && minFraction <= 1)) throw new Ldm4j.UsageError("--min-fraction must be in (0, 1], got " + minFraction);
        PictureGrid.check(grid);
        PaintingFunction blur = PaintingFunction.forWidth(size);
        GradOpPlusSettings settings = GradOpPlusSettings.official().withSteps(steps).withGuidanceScale(cfg).withIterations(iterations)
                .withGradSteps(gradSteps).withPainting(PaintingSettings.official().withBlur(blur.kernel().length, blur.sigma()).validate()).validate();
        RegionSettings mappingA = mapping(CLASS_1, CLASS_2), mappingB = mapping(CLASS_2, CLASS_1);
        ToyWorldSegmenter segmenter = loadSegmenter();
        StableDiffusion sd = loadModel(model, device, Dtypes.parse(dtype));
        Images.requireMultipleOf(sd.vaeScaleFactor(), size, size);

        List<RegionCase> cases = new ArrayList<>();
        long tried = 0;
        for (long s = ToyWorldFid.TEST_SEEDS; cases.size() < n && tried < 20L * n + 20; s++, tried++) {
            RegionCase c = build(ToyWorld.sample(s, SceneOptions.square(size)));
            if (c != null) cases.add(c);
        }
        if (cases.isEmpty()) throw new Ldm4j.UsageError("no test scene among " + tried + " has two separable ground objects at " + size + "x" + size);
        if (cases.size() < n) System.out.printf("only %d of %d scenes found among %d test scenes%n", cases.size(), n, tried);

        // One untimed run first: libtorch's first calls allocate and warm caches.
        try (PointerScope scope = new PointerScope(); NoGradGuard g = new NoGradGuard()) {
            run(sd, cases.get(0), seed, settings, null);
        }
        List<List<int[]>> outputs = List.of(new ArrayList<>(), new ArrayList<>(), new ArrayList<>());
        double[] seconds = new double[RUNS.size()];
        try (me.tongfei.progressbar.ProgressBar bar = progress("regions", (long) cases.size() * RUNS.size(), "images")) {
            for (int i = 0; i < cases.size(); i++) {
                RegionSettings[] maps = {mappingA, mappingB, null};
                for (int r = 0; r < RUNS.size(); r++) {
                    long t0 = System.nanoTime();
                    try (PointerScope scope = new PointerScope(); NoGradGuard g = new NoGradGuard()) {
                        outputs.get(r).add(run(sd, cases.get(i), seed + i, settings, maps[r]));
                    }
                    seconds[r] += (System.nanoTime() - t0) / 1e9;
                    bar.step();
                }
            }
        }
        int[][][] classMaps = new int[RUNS.size()][][];
        for (int r = 0; r < RUNS.size(); r++) classMaps[r] = segmenter.classMaps(outputs.get(r), size, size);

        ObjectNode report = EvalCommand.JSON.createObjectNode().put("metric", "gradop_regions").put("model", model).put("vae", vaeSpec()).put("samples", cases.size())
                .put("scenes_tried", tried).put("first_seed", ToyWorldFid.TEST_SEEDS).put("seed", seed).put("size", size).put("steps", steps)
                .put("cfg", cfg).put("grad_steps", gradSteps).put("iterations", iterations).put("region_strength", regionStrength)
                .put("region_tolerance", TOLERANCE).put("disc_radius", radius(size)).put("min_fraction", minFraction)
                .put("mapping_a", mappingA.regions().toString()).put("mapping_b", mappingB.regions().toString());
        ArrayNode perScene = report.putArray("scenes");
        // Tallies: [arm: regions, plain][A pass, B pass, swap pass, region hits (of 4)]; plus summed faithfulness per run.
        double[][] tally = new double[2][4];
        double[] faithful = new double[RUNS.size()];
        for (int i = 0; i < cases.size(); i++) {
            RegionCase c = cases.get(i);
            ObjectNode scene = perScene.addObject().put("scene_seed", c.scene().seed()).put("prompt", prompt(c.scene()));
            ArrayNode discs = scene.putArray("discs");
            for (int k = 0; k < 2; k++) {
                discs.addObject().put("colour", hex(k == 0 ? COLOUR_1 : COLOUR_2))
                        .put("x", c.centres()[k][0]).put("y", c.centres()[k][1]).put("pixels", count(c.discs()[k]));
            }
            ToyClass[] a = {CLASS_1, CLASS_2}, b = {CLASS_2, CLASS_1};
            boolean[] ra = passes(classMaps[0][i], c, a), rb = passes(classMaps[1][i], c, b);
            boolean[] pa = passes(classMaps[2][i], c, a), pb = passes(classMaps[2][i], c, b);
            score(tally[0], ra, rb);
            score(tally[1], pa, pb);
            ObjectNode runs = scene.putObject("runs");
            boolean[][][] judged = {{ra}, {rb}, {pa, pb}};
            for (int r = 0; r < RUNS.size(); r++) {
                faithful[r] += Faithfulness.distance(outputs.get(r).get(i), c.painting(), size, size);
                ObjectNode run = runs.putObject(RUNS.get(r)).put("seed", seed + i);
                ArrayNode counts = run.putArray("object_pixels");
                for (int k = 0; k < 2; k++) {
                    ObjectNode o = counts.addObject();
                    int[] cnt = objectCounts(classMaps[r][i], c.discs()[k]);
                    for (ToyClass t : ToyClass.objects()) if (cnt[t.ordinal()] > 0) o.put(t.label(), cnt[t.ordinal()]);
                }
                for (int j = 0; j < judged[r].length; j++) {
                    ArrayNode pass = run.putArray(r < 2 ? "passes" : j == 0 ? "passes_a" : "passes_b");
                    for (boolean p : judged[r][j]) pass.add(p);
                }
            }
            scene.put("ab_mean_abs_diff", meanAbsDiff(outputs.get(0).get(i), outputs.get(1).get(i)));
        }
        int m = cases.size();
        String[] arms = {"gradop+ with regions", "gradop+ plain (baseline)"};
        System.out.printf("%-26s %10s %10s %8s %12s %12s %9s%n", "arm", "mapping A", "mapping B", "swap", "region hits", "faithfulness", "s/image");
        ArrayNode armRows = report.putArray("arms");
        for (int arm = 0; arm < 2; arm++) {
            double[] t = tally[arm];
            double f = arm == 0 ? (faithful[0] + faithful[1]) / (2 * m) : faithful[2] / m;
            double s = arm == 0 ? (seconds[0] + seconds[1]) / (2 * m) : seconds[2] / m;
            System.out.printf(Locale.ROOT, "%-26s %10.4f %10.4f %8.4f %12.4f %12.5f %9.3f%n", arms[arm], t[0] / m, t[1] / m, t[2] / m, t[3] / (4 * m), f, s);
            armRows.addObject().put("arm", arm == 0 ? "regions" : "plain").put("mapping_a", t[0] / m).put("mapping_b", t[1] / m)
                    .put("swap", t[2] / m).put("region_hits", t[3] / (4 * m)).put("faithfulness", f).put("seconds_per_image", s);
        }
        System.out.printf(Locale.ROOT, "%d ToyWorld test scenes (of %d tried from seed %d, %dx%d); discs of radius %d in %s and %s; mapping A %s, "
                        + "B %s; a disc passes when its class covers >= %.2f of it and more than any other object class; swap = A and B both "
                        + "pass; the plain baseline is one image judged against both mappings (swap 0 by construction)%n",
                m, tried, ToyWorldFid.TEST_SEEDS, size, size, radius(size), hex(COLOUR_1), hex(COLOUR_2), mappingA.regions(), mappingB.regions(), minFraction);
        if (grid != null) writeGrid(cases, outputs, report);
        writeJson(report);
        return 0;
    }

    /** colour 1 → first, colour 2 → second, with the command's strength and the tight tolerance. */
    RegionSettings mapping(ToyClass first, ToyClass second) {
        return new RegionSettings(List.of(new Region(COLOUR_1, first.label(), 1.0), new Region(COLOUR_2, second.label(), 1.0)),
                regionStrength, TOLERANCE).validate();
    }

    private Tensor runImage(StableDiffusion sd, RegionCase c, long s, GradOpPlusSettings settings, RegionSettings regions) {
        Tensor y = StrokePainting.toTensor(PictureGrid.image(c.painting(), size, size));
        return GradOpPlus.run(sd, StrokePrompt.of(prompt(c.scene()), s), y, settings, regions, List.of(), null).image();
    }

    private int[] run(StableDiffusion sd, RegionCase c, long s, GradOpPlusSettings settings, RegionSettings regions) {
        return EvalImages.rgb(Images.toImage(runImage(sd, c, s, settings, regions)));
    }

    /** Both object words, the green the painting shows, and the scene's ground in ToyWorld's caption words. */
    static String prompt(Scene scene) {
        String ground = switch (scene.ground()) {
            case GRASS -> "on the grass";
            case SAND -> "on the sand";
            case SNOW -> "in the snow";
        };
        return "a green car and an oak tree " + ground;
    }

    static int radius(int size) { return Math.max(2, Math.round(RADIUS_AT_64 * size / 64f)); }

    /**
     * The case of a scene, or null when it has no two ground objects (boats excluded: a car on a lake is no fair
     * request) whose discs, kept inside the image, are disjoint, or when some other painted pixel is within the
     * region tolerance of a disc colour (it would join that region). Disc 1 sits on the larger object. The two objects
     * are first painted out (each pixel takes the nearest background paint on its row), so that neither their
     * colour nor their outline around the disc hints at what belongs there.
     */
    static RegionCase build(Scene scene) {
        int w = scene.width(), h = scene.height(), r = radius(Math.min(w, h));
        List<SceneObject> objects = scene.objects().stream().filter(o -> o.toyClass() != ToyClass.BOAT && o.box() != null)
                .sorted(Comparator.comparingInt(SceneObject::pixels).reversed()).toList();
        int[][] centres = null;
        List<SceneObject> chosen = null;
        for (int i = 0; i < objects.size() && centres == null; i++) {
            for (int j = i + 1; j < objects.size() && centres == null; j++) {
                int[] p = centre(objects.get(i), r, w, h), q = centre(objects.get(j), r, w, h);
                if (Math.hypot(p[0] - q[0], p[1] - q[1]) >= 2 * r + 2) {
                    centres = new int[][]{p, q};
                    chosen = List.of(objects.get(i), objects.get(j));
                }
            }
        }
        if (centres == null) return null;
        boolean[][] discs = new boolean[2][w * h];
        for (int k = 0; k < 2; k++) {
            for (int y = 0; y < h; y++) {
                for (int x = 0; x < w; x++) {
                    int dx = x - centres[k][0], dy = y - centres[k][1];
                    discs[k][y * w + x] = dx * dx + dy * dy <= r * r;
                }
            }
        }
        int[] painting = paintOut(scene, scene.painting(scene.seed(), PaintingOptions.defaults()), chosen);
        int c1 = COLOUR_1.getRGB() & 0xFFFFFF, c2 = COLOUR_2.getRGB() & 0xFFFFFF;
        for (int p = 0; p < painting.length; p++) {
            if (discs[0][p]) painting[p] = c1;
            else if (discs[1][p]) painting[p] = c2;
            else if (distance(painting[p], c1) <= TOLERANCE || distance(painting[p], c2) <= TOLERANCE) return null;
        }
        return new RegionCase(scene, painting, discs, centres, chosen);
    }

    /** The painting without the given objects: each of their pixels takes the paint of the nearest non-object pixel on its row. */
    static int[] paintOut(Scene scene, Painting painting, List<SceneObject> remove) {
        int w = painting.width(), h = painting.height();
        Set<Integer> gone = remove.stream().map(SceneObject::instanceId).collect(Collectors.toSet());
        Set<Integer> things = scene.objects().stream().map(SceneObject::instanceId).collect(Collectors.toSet());
        int[] src = painting.rgb(), region = painting.regionOf(), out = src.clone();
        for (int y = 0; y < h; y++) {
            for (int x = 0; x < w; x++) {
                if (!gone.contains(region[y * w + x])) continue;
                for (int d = 1; d < w; d++) {
                    int left = x - d, right = x + d;
                    if (left >= 0 && !things.contains(region[y * w + left])) { out[y * w + x] = src[y * w + left]; break; }
                    if (right < w && !things.contains(region[y * w + right])) { out[y * w + x] = src[y * w + right]; break; }
                }
            }
        }
        return out;
    }

    private static int[] centre(SceneObject o, int r, int w, int h) {
        int x = (int) Math.round(o.box().centreX()), y = (int) Math.round(o.box().centreY());
        return new int[]{Math.max(r, Math.min(w - 1 - r, x)), Math.max(r, Math.min(h - 1 - r, y))};
    }

    static double distance(int a, int b) {
        int dr = ((a >> 16) & 255) - ((b >> 16) & 255), dg = ((a >> 8) & 255) - ((b >> 8) & 255), db = (a & 255) - (b & 255);
        return Math.sqrt(dr * dr + dg * dg + db * db);
    }

    /** Pixels of each class (by index) inside the region. */
    static int[] objectCounts(int[] classMap, boolean[] region) {
        int[] counts = new int[ToyClass.count()];
        for (int p = 0; p < region.length; p++) if (region[p]) counts[classMap[p]]++;
        return counts;
    }

    /** The success rule: the requested class covers >= minFraction of the region and more of it than any other object class. */
    static boolean regionPasses(int[] classMap, boolean[] region, ToyClass requested, double minFraction) {
        int[] counts = objectCounts(classMap, region);
        int area = count(region), mine = counts[requested.ordinal()];
        if (area == 0 || mine < minFraction * area) return false;
        for (ToyClass t : ToyClass.objects()) if (t != requested && counts[t.ordinal()] >= mine) return false;
        return true;
    }

    private boolean[] passes(int[] classMap, RegionCase c, ToyClass[] requested) {
        return new boolean[]{regionPasses(classMap, c.discs()[0], requested[0], minFraction), regionPasses(classMap, c.discs()[1], requested[1], minFraction)};
    }

    /** Adds one scene to an arm's tally: A passes, B passes, swap, region hits. */
    private static void score(double[] t, boolean[] a, boolean[] b) {
        boolean okA = a[0] && a[1], okB = b[0] && b[1];
        t[0] += okA ? 1 : 0;
        t[1] += okB ? 1 : 0;
        t[2] += okA && okB ? 1 : 0;
        for (boolean p : new boolean[]{a[0], a[1], b[0], b[1]}) t[3] += p ? 1 : 0;
    }

    static int count(boolean[] bits) {
        int c = 0;
        for (boolean b : bits) if (b) c++;
        return c;
    }

    /** Mean absolute difference of two images over pixels and channels, 0..255: how much the mapping moved the image. */
    static double meanAbsDiff(int[] a, int[] b) {
        long sum = 0;
        for (int p = 0; p < a.length; p++) {
            for (int shift = 0; shift <= 16; shift += 8) sum += Math.abs(((a[p] >> shift) & 255) - ((b[p] >> shift) & 255));
        }
        return sum / (3.0 * a.length);
    }

    private static String hex(Color c) { return String.format("#%06X", c.getRGB() & 0xFFFFFF); }

    private void writeGrid(List<RegionCase> cases, List<List<int[]>> outputs, ObjectNode report) throws IOException {
        List<BufferedImage> tiles = new ArrayList<>();
        for (int i = 0; i < Math.min(GRID_ROWS, cases.size()); i++) {
            tiles.add(PictureGrid.image(cases.get(i).painting(), size, size));
            tiles.add(PictureGrid.image(outputs.get(2).get(i), size, size));
            tiles.add(PictureGrid.image(outputs.get(0).get(i), size, size));
            tiles.add(PictureGrid.image(outputs.get(1).get(i), size, size));
        }
        PictureGrid.write(grid, tiles, List.of("painting", "plain gradop+", "mapping A " + hex(COLOUR_1) + "=" + CLASS_1.label(),
                "mapping B " + hex(COLOUR_1) + "=" + CLASS_2.label()), report);
    }
}
