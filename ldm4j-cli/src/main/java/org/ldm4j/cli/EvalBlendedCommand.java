package org.ldm4j.cli;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.InferenceMode;
import org.bytedeco.pytorch.Tensor;
import org.ldm4j.image.Images;
import org.ldm4j.methods.blended.BackgroundPsnr;
import org.ldm4j.methods.blended.BackgroundRepair;
import org.ldm4j.methods.blended.BlendSettings;
import org.ldm4j.methods.blended.BlendedLatentDiffusion;
import org.ldm4j.methods.blended.EditResult;
import org.ldm4j.methods.blended.EditScorer;
import org.ldm4j.methods.blended.Masks;
import org.ldm4j.methods.blended.Resampling;
import org.ldm4j.nn.Dtypes;
import org.ldm4j.pipeline.GenerationRequest;
import org.ldm4j.pipeline.ModelLoader;
import org.ldm4j.pipeline.StableDiffusion;
import org.ldm4j.pipeline.Txt2Img;
import org.ldm4j.toyworld.EditMasks;
import org.ldm4j.toyworld.Mask;
import org.ldm4j.toyworld.Scene;
import org.ldm4j.toyworld.SceneObject;
import org.ldm4j.toyworld.SceneOptions;
import org.ldm4j.toyworld.ToyClass;
import org.ldm4j.toyworld.ToyWorld;
import org.ldm4j.toyworld.eval.EditLocality;
import org.ldm4j.toyworld.eval.EvalImages;
import org.ldm4j.toyworld.eval.ObjectRecall;
import org.ldm4j.toyworld.eval.ToyWorldFid;
import org.ldm4j.toyworld.eval.ToyWorldSegmenter;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

import java.awt.image.BufferedImage;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.Callable;

/**
 * {@code ldm4j eval blended}: Blended Latent Diffusion (Avrahami et al. 2023) measured on held-out ToyWorld test
 * scenes, three kinds of edit × the library's presets. Kinds: "add" (a user-style blob, {@link EditMasks#blob}, over
 * an empty patch of ground, prompt "a house" etc.), "replace" (an object's exact mask, prompt another object) and
 * "thin" (a road/river-like stroke, {@link EditMasks#thin}, filled with water or sand — ToyWorld has no road or
 * river words). Locality is measured on the image before the final pixel paste (after it, outside-mask PSNR is
 * exact by construction), so it shows what the latent blend and the background repair themselves preserve.
 *
 * <p>"recommended, no repair" is not a separate run: the samples and their ranking do not depend on the repair
 * (it runs on the best sample afterwards), so its row is the recommended run's best sample before repair, its time
 * the edit time less the repair's.
 */
@Command(name = "blended", mixinStandardHelpOptions = true,
        description = "Blended Latent Diffusion on ToyWorld test scenes: PSNR/SSIM outside the mask (before the pixel paste), "
                + "recall of the requested object inside it, time vs one txt2img; per edit kind and preset.",
        footer = {"", "Example:", "  ldm4j eval blended --model models/toyworld-ldm --n 16 --samples 4 --json runs/eval/blended.json"})
final class EvalBlendedCommand extends EvalCommand.OfModel implements Callable<Integer> {
    static final List<String> KINDS = List.of("add", "replace", "thin");
    static final List<String> PRESETS = List.of("recommended-no-repair", "recommended", "official");
    /** Objects that can stand on the ground (a boat needs water). */
    private static final List<ToyClass> GROUND_OBJECTS = List.of(ToyClass.HOUSE, ToyClass.TREE, ToyClass.CAR, ToyClass.ROCK, ToyClass.FLOWERS);
    private static final Set<ToyClass> GROUND = EnumSet.of(ToyClass.GRASS, ToyClass.SAND, ToyClass.SNOW);

    @Option(names = "--model", required = true, description = "The ToyWorld LDM (diffusers folder), e.g. models/toyworld-ldm.") String model;
    @Option(names = "--n", defaultValue = "16", description = "Test scenes (seeds from 2,000,000) (default: ${DEFAULT-VALUE}).") int n;
    @Option(names = "--rank-raw", description = "Rank samples by recall on their raw decode, as sessions before 7 did; by default on the "
            + "sample as the preset delivers it (the input outside the mask) when the preset restores the background.") boolean rankRaw;
    @Option(names = "--first", defaultValue = "0", description = "Skip this many test scenes (one shard of a long run, or one edit to look at).") int first;
    @Option(names = "--seed", defaultValue = "0", description = "Seed of the first sample of each edit (sample k: seed + k).") long seed;
    @Option(names = "--size", defaultValue = "64") int size;
    @Option(names = "--samples", defaultValue = "4", description = "Samples per edit, ranked by recall inside the mask (default: ${DEFAULT-VALUE}).") int samples;
    @Option(names = "--steps", defaultValue = "25") int steps;
    @Option(names = "--cfg", description = "Guidance scale (default 5 on small models, 7.5 otherwise).") Double cfg;
    @Option(names = "--repair-weight", description = "Background weight of the recommended preset's repair (default: its 4, with per-region means).") Double repairWeight;
    @Option(names = "--repair-averaging", description = "Averaging of the recommended preset's repair terms: image (official) or region (default: the preset's, region).") String repairAveraging;
    private BackgroundRepair.Averaging averaging;   // --repair-averaging, parsed once
    @Option(names = "--repair-steps", description = "Background repair steps of the recommended preset (default: its 75; 0 = off, for quick recall sweeps).") Integer repairSteps;
    @Option(names = "--blob-radius", defaultValue = "8", description = "Blob mask reach around the spot, pixels at 64x64 (default: ${DEFAULT-VALUE}).") double blobRadius;
    @Option(names = "--thin-width", defaultValue = "6", description = "Thin mask stroke width, pixels at 64x64 (default: ${DEFAULT-VALUE}).") double thinWidth;
    @Option(names = "--min-area", defaultValue = "0.002") double minArea;
    @Option(names = "--device", defaultValue = "cpu") String device;
    @Option(names = "--dilate", defaultValue = "0", description = "Progressive mask shrinking in the recommended preset: N dilated "
            + "masks before the true one (default: ${DEFAULT-VALUE}).") int dilate;
    @Option(names = "--shrink-until", description = "With --dilate: the step index from which the true mask is used (default: "
            + "N + 1 equal parts; the step count keeps the dilated mask to the end, the final latent and pixel pastes still "
            + "use the true one).") Integer shrinkUntil;
    @Option(names = "--mask-attention", split = ",", description = "Cross-attention bias w' toward the prompt inside the mask, "
            + "recommended preset (default: the preset's, 0,2; 0 = off); several are cycled over the samples.") List<Double> maskAttention;
    @Option(names = "--negative-replaced", description = "Replacements: the replaced object's phrase as the negative prompt "
            + "(\"a rock\" when a rock is replaced; default: no negative prompt).") boolean negativeReplaced;
    @Option(names = "--mask-attention-pooling", description = "How mask attention's mask reaches the coarser cross-attention layers: "
            + "area (each cell's coverage, the preset) or max (full weight wherever the mask touches a cell).") String maskAttentionPooling;
    @Option(names = "--start", description = "Where the recommended preset's latents start: source (the input's latents noised to "
            + "the first step, the preset) or noise (pure noise, as the official script).") String start;
    @Option(names = "--zoom", description = "Small masks edited in an enlarged box this many times their size, recommended "
            + "preset (default: the preset's, off).") Double zoom;
    @Option(names = "--resample", defaultValue = "1", description = "RePaint's resampling: model calls per step over the first "
            + "--resample-until of the steps, recommended preset (default: 1, off).") int resample;
    @Option(names = "--resample-until", defaultValue = "0.5", description = "Fraction of the steps resampled, from the first "
            + "(default: ${DEFAULT-VALUE}).") double resampleUntil;
    private Resampling.Settings resampling;
    private BlendSettings.Start startMode;
    private org.ldm4j.methods.gradop.RegionSemantics.Pooling pooling;
    @Option(names = "--mask-downsampling", description = "How the recommended preset takes the mask to latent size: nearest-centre "
            + "(the preset's), nearest-top-left, area or max (a cell is edited if any of its pixels is).") String maskDownsampling;
    private Masks.Downsampling downsampling;   // --mask-downsampling, parsed once
    @Option(names = "--small-below", description = "Ask for a \"small\" object (ToyWorld's size word) when the add or replace mask "
            + "covers less than this many pixels at 64x64 (scaled to --size; default: never).") Integer smallBelow;
    @Option(names = "--scene-words", description = "Follow the requested object with its scene's setting as the scene's first caption "
            + "words it (\"a car on the grass by a lake under a clear blue sky\"; default: off, the object alone).") boolean sceneWords;
    @Option(names = "--colour-words", description = "Name a colour with the requested object as ToyWorld's captions do (\"a red "
            + "house\"), cycled over the scenes from the class's caption colours (default: off, \"a house\").") boolean colourWords;
    @picocli.CommandLine.Mixin GuideOptions steering;
    private org.ldm4j.methods.guidance.Segmenter guide;
    @Option(names = "--kinds", split = ",", defaultValue = "add,replace,thin", description = "Edit kinds to run (default: ${DEFAULT-VALUE}).") List<String> kinds;
    @Option(names = "--official", negatable = true, defaultValue = "true", fallbackValue = "true",
            description = "Also run the official preset (default: on).") boolean official;
    @Option(names = "--recommended", negatable = true, defaultValue = "true", fallbackValue = "true",
            description = "Run the recommended preset, with and without repair (default: on).") boolean recommendedPreset;
    @Option(names = "--grid", description = "Also write a PNG picture grid, one row per edit (the first " + GRID_ROWS + " that ran): input | mask | "
            + "recommended without background repair | recommended with repair | official (no repair in that preset).") Path grid;

    static final int GRID_ROWS = 8;
    static final List<String> GRID_COLUMNS = List.of("input", "mask", "recommended, no repair", "recommended, repaired", "official");

    /** One edit of one scene: the mask, the diffusion prompt and the classes it asks for. */
    record Edit(String kind, long sceneSeed, Mask mask, String prompt, Set<ToyClass> requested, String negativePrompt) {}

    /** Running sums of one (preset, kind) row. */
    static final class Row {
        double psnr, ssim, recall, recallUnranked, millis;
        int edits, skipped;
        /** Recall inside by the requested class: {sum, edits}. A class the base model cannot draw shows here, not as a method defect. */
        final Map<ToyClass, double[]> byClass = new java.util.EnumMap<>(ToyClass.class);
    }

    @Override
    public Integer call() throws Exception {
        if (n < 1) throw new Ldm4j.UsageError("--n must be >= 1, got " + n);
        if (first < 0) throw new Ldm4j.UsageError("--first must be >= 0, got " + first);
        if (samples < 1 || samples > 64) throw new Ldm4j.UsageError("--samples must be in 1..64, got " + samples);
        if (steps < 1) throw new Ldm4j.UsageError("--steps must be >= 1, got " + steps);
        for (String k : kinds) if (!KINDS.contains(k)) throw new Ldm4j.UsageError("--kinds: unknown kind '" + k + "' (expected " + KINDS + ")");
        if (!official && !recommendedPreset) throw new Ldm4j.UsageError("--no-official and --no-recommended leave nothing to run");
        if (repairSteps != null && repairSteps < 0) throw new Ldm4j.UsageError("--repair-steps must be >= 0, got " + repairSteps);
        if (repairWeight != null && !(repairWeight > 0)) throw new Ldm4j.UsageError("--repair-weight must be > 0, got " + repairWeight);
        if (size < 8) throw new Ldm4j.UsageError("--size must be >= 8, got " + size);
        if (shrinkUntil != null && (dilate == 0 || shrinkUntil < 1)) throw new Ldm4j.UsageError("--shrink-until needs --dilate > 0 and a step index >= 1, got " + shrinkUntil);
        if (smallBelow != null && smallBelow < 0) throw new Ldm4j.UsageError("--small-below must be >= 0 pixels, got " + smallBelow);
        try {
            resampling = new Resampling.Settings(resample, resampleUntil);
        } catch (IllegalArgumentException e) {
            throw new Ldm4j.UsageError("--resample / --resample-until: " + e.getMessage());
        }
        averaging = repairAveraging == null ? null : BackgroundRepair.Averaging.parse(repairAveraging);   // before any model loads: exit 2
        pooling = maskAttentionPooling == null ? null
                : Ldm4j.enumOption(org.ldm4j.methods.gradop.RegionSemantics.Pooling.class, "--mask-attention-pooling", maskAttentionPooling);
        startMode = start == null ? null : Ldm4j.enumOption(BlendSettings.Start.class, "--start", start);
        downsampling = maskDownsampling == null ? null : Ldm4j.enumOption(Masks.Downsampling.class, "--mask-downsampling", maskDownsampling);
        PictureGrid.check(grid);
        ToyWorldSegmenter segmenter = loadSegmenter();
        StableDiffusion sd = loadModel(model, device, org.bytedeco.pytorch.global.torch.ScalarType.Float);
        if (resampling.enabled() && !(sd.scheduler(null, 0) instanceof org.ldm4j.schedulers.DDIMScheduler.Config)) {
            throw new Ldm4j.UsageError("--resample needs the DDIM scheduler (a step taken twice); " + model + " samples with "
                    + sd.defaultScheduler().alias());
        }
        if (size % sd.vaeScaleFactor() != 0) throw new Ldm4j.UsageError("--size " + size + " must be a multiple of the VAE factor " + sd.vaeScaleFactor());
        double guidance = cfg != null ? cfg : (sd.defaultSize() <= 128 ? 5.0 : 7.5);
        ObjectRecall recall = new ObjectRecall(minArea);

        double txt2imgMillis = txt2imgMillis(sd, guidance);
        Map<String, Row> rows = new LinkedHashMap<>();
        for (String p : PRESETS) for (String k : KINDS) rows.put(p + "/" + k, new Row());
        ObjectNode report = EvalCommand.JSON.createObjectNode().put("metric", "blended_edits").put("model", model).put("vae", vaeSpec()).put("n", n)
                .put("first_seed", ToyWorldFid.TEST_SEEDS + first).put("seed", seed).put("size", size).put("samples", samples).put("steps", steps)
                .put("cfg", guidance).put("txt2img_ms", txt2imgMillis).put("ranking", "recall inside the mask, then background PSNR")
                .put("resample", resample).put("resample_until", resampleUntil)
                .put("start", start == null ? "preset" : start)
                .put("negative_replaced", negativeReplaced).put("scene_words", sceneWords)
                .put("mask_attention_pooling", pooling == null ? "preset" : pooling.name().toLowerCase(java.util.Locale.ROOT));
        steering.record(report);
        ArrayNode perEdit = report.putArray("edits");
        List<BufferedImage> tiles = new ArrayList<>();
        try (me.tongfei.progressbar.ProgressBar bar = progress("blended", n, "scenes")) {
            for (int i = 0; i < n; i++) {
                Scene scene = ToyWorld.sample(ToyWorldFid.TEST_SEEDS + first + i, SceneOptions.square(size));
                for (Edit e : edits(scene, first + i)) {
                    if (e == null || !kinds.contains(e.kind())) continue;
                    BufferedImage[] recommended = recommendedPreset ? runEdit(sd, segmenter, recall, e, "recommended", guidance, rows, perEdit) : null;
                    BufferedImage[] official = this.official ? runEdit(sd, segmenter, recall, e, "official", guidance, rows, perEdit) : null;
                    if (recommended != null && tiles.size() < GRID_ROWS * GRID_COLUMNS.size()) {
                        tiles.addAll(List.of(scene.image(), e.mask().image(), recommended[0], recommended[1],
                                official != null ? official[1] : PictureGrid.blank(size, size)));
                    }
                }
                bar.step();
            }
        }
        printAndReport(rows, txt2imgMillis, report);
        if (grid != null) PictureGrid.write(grid, tiles, GRID_COLUMNS, report);
        writeJson(report);
        return 0;
    }

    /** The three edits of scene i: add (blob over empty ground), replace (an object's exact mask), thin (a stroke). */
    List<Edit> edits(Scene scene, int i) {
        List<Edit> out = new ArrayList<>();
        ToyClass add = GROUND_OBJECTS.get(i % GROUND_OBJECTS.size());
        Mask spot = emptyGroundBlob(scene);
        out.add(spot == null ? null : new Edit("add", scene.seed(), spot, phrase(add, small(spot), colour(add, i)) + setting(scene), EnumSet.of(add), ""));
        SceneObject largest = scene.objects().stream().max((a, b) -> Integer.compare(a.pixels(), b.pixels())).orElse(null);
        if (largest == null) {
            out.add(null);
        } else {
            List<ToyClass> others = new ArrayList<>(largest.toyClass() == ToyClass.BOAT ? List.of(ToyClass.BOAT, ToyClass.ROCK) : GROUND_OBJECTS);
            others.remove(largest.toyClass());
            ToyClass to = others.get(i % others.size());
            Mask silhouette = scene.objectMask(largest);
            out.add(new Edit("replace", scene.seed(), silhouette, phrase(to, small(silhouette), colour(to, i)) + setting(scene), EnumSet.of(to),
                    negativeReplaced ? phrase(largest.toyClass()) : ""));
        }
        Mask thin = EditMasks.thin(scene, scene.seed() ^ 0x7417L, thinWidth);
        ToyClass fill = mostlyUnder(scene, thin) == ToyClass.WATER ? ToyClass.SAND : ToyClass.WATER;
        out.add(new Edit("thin", scene.seed(), thin, fill == ToyClass.WATER ? "a blue lake" : "sand", EnumSet.of(fill), ""));
        return out;
    }

    /** Where a ToyWorld list caption's objects end and its setting begins (the ground, or the water under boats). */
    private static final java.util.regex.Pattern SETTING = java.util.regex.Pattern.compile(
            " (on the grass|on a green meadow|on the sand|on a sandy beach|in the snow|on snowy ground|on the sea|on a lake|by a lake|near a lake|by the sea|near the ocean|under |on a sunny day|at sunset|at night)");

    /** With --scene-words, the setting words of the scene's first caption (" on the grass ... sky"), else "". */
    private String setting(Scene scene) {
        if (!sceneWords) return "";
        java.util.regex.Matcher m = SETTING.matcher(scene.caption());
        return m.find() ? scene.caption().substring(m.start()) : "";
    }

    /** The diffusion prompt asking for one object, in ToyWorld's caption words. */
    static String phrase(ToyClass c) {
        return phrase(c, false, null);
    }

    /**
     * As {@link #phrase(ToyClass)}, with the captions' size word "small" when asked and a colour word (null: none),
     * where the captions put them.
     */
    static String phrase(ToyClass c, boolean small, String colour) {
        String size = small ? "small " : "";
        String col = colour == null ? "" : colour + " ";
        return c == ToyClass.FLOWERS ? "a " + size + "patch of " + col + "flowers" : "a " + size + col + c.label();
    }

    /**
     * With --colour-words, scene i's colour for class c from its caption colours (cycled, independent of the class
     * cycle); else null. Trees get none: captions call a green tree just "a tree".
     */
    private String colour(ToyClass c, int i) {
        List<String> colours = org.ldm4j.toyworld.Vocabulary.colours(c);
        return colourWords && c != ToyClass.TREE && !colours.isEmpty() ? colours.get((i / 5) % colours.size()) : null;
    }

    /** True when --small-below is set and the mask covers fewer pixels than it (given at 64x64, scaled to the image). */
    private boolean small(Mask m) {
        return smallBelow != null && m.area() < smallBelow * (double) m.bits().length / (64 * 64);
    }

    private static ToyClass mostlyUnder(Scene scene, Mask m) {
        int[] counts = new int[ToyClass.count()];
        for (int k = 0; k < m.bits().length; k++) if (m.bits()[k]) counts[scene.seg()[k]]++;
        int best = 0;
        for (int c = 1; c < counts.length; c++) if (counts[c] > counts[best]) best = c;
        return ToyClass.of(best);
    }

    /**
     * A blob over the patch of ground farthest from anything else (objects, water, sky): a one-pixel "object" marks
     * the spot in a copy of the scene so that {@link EditMasks#blob} draws the same wobbly user brush around it.
     * Null when the scene shows no ground.
     */
    Mask emptyGroundBlob(Scene scene) {
        int w = scene.width(), h = scene.height();
        int bestAt = -1;
        double bestDist = -1;
        for (int y = 0; y < h; y++) {
            for (int x = 0; x < w; x++) {
                if (!GROUND.contains(ToyClass.of(scene.seg()[y * w + x]))) continue;
                double d = Double.MAX_VALUE;   // distance to the nearest non-ground pixel or image side (brute force: 64x64)
                for (int yy = 0; yy < h; yy++) {
                    for (int xx = 0; xx < w; xx++) {
                        if (!GROUND.contains(ToyClass.of(scene.seg()[yy * w + xx]))) d = Math.min(d, Math.hypot(xx - x, yy - y));
                    }
                }
                d = Math.min(d, Math.min(Math.min(x + 1, w - x), h - y));
                if (d > bestDist) { bestDist = d; bestAt = y * w + x; }
            }
        }
        if (bestAt < 0) return null;
        int[] instances = scene.instances().clone();
        int id = 1;
        for (int v : instances) id = Math.max(id, v + 1);
        instances[bestAt] = id;
        Scene marked = new Scene(scene.seed(), w, h, scene.time(), scene.ground(), scene.water(), scene.rgb(), scene.seg(), instances,
                scene.depth(), scene.sketch(), scene.normals(), scene.captions(), scene.objects());
        SceneObject spot = new SceneObject(ToyClass.ROCK, id, Map.of(), null, 0f, 1);
        return EditMasks.blob(marked, spot, scene.seed(), blobRadius);
    }

    /**
     * Runs one edit with one preset and adds its figures. Returns the kept image before and after the background
     * repair (the same image when the preset does not repair; both before the final pixel paste, as PSNR/SSIM are
     * measured), or null when the edit was skipped.
     */
    private BufferedImage[] runEdit(StableDiffusion sd, ToyWorldSegmenter segmenter, ObjectRecall recall, Edit e, String preset, double guidance,
                         Map<String, Row> rows, ArrayNode perEdit) {
        BlendSettings s = preset.equals("official") ? BlendSettings.official() : BlendSettings.recommended();
        if (repairSteps != null && s.repair().enabled()) {
            s = s.withRepair(repairSteps == 0 ? BackgroundRepair.Settings.off() : s.repair().withSteps(repairSteps));
        }
        if (repairWeight != null && s.repair().enabled()) s = s.withRepair(s.repair().withBackgroundWeight(repairWeight));
        if (averaging != null && s.repair().enabled()) s = s.withRepair(s.repair().withAveraging(averaging));
        if (dilate > 0 && preset.equals("recommended")) s = s.withShrinking(dilate, shrinkUntil);
        if (maskAttention != null && preset.equals("recommended")) s = s.withMaskAttention(maskAttention);
        if (zoom != null && preset.equals("recommended")) s = s.withZoom(zoom);
        if (preset.equals("recommended")) s = s.withResampling(resampling);
        if (startMode != null && preset.equals("recommended")) s = s.withStart(startMode);
        if (pooling != null && preset.equals("recommended")) s = s.withMaskAttentionPooling(pooling);
        if (downsampling != null && preset.equals("recommended")) s = s.withDownsampling(downsampling);
        boolean restoresBackground = !rankRaw && (s.repair().enabled() || s.pixelBlend());
        boolean pastes = s.pixelBlend();
        s = s.withPixelBlend(false);   // measure what the blend and the repair preserve, not the paste
        GenerationRequest request = new GenerationRequest("edit", sd.name, e.prompt(), e.negativePrompt(), size, size, steps, guidance, null, seed,
                samples, 0, 0.0, null, "toyworld:" + e.sceneSeed());
        Scene scene = ToyWorld.sample(e.sceneSeed(), SceneOptions.square(size));
        int[] input = scene.rgb();
        RecallInsideMask scorer = new RecallInsideMask(segmenter, recall, e.mask(), e.requested(), restoresBackground);
        try (PointerScope scope = new PointerScope(); InferenceMode inference = new InferenceMode()) {
            Tensor x = Images.toTensor(scene.image());
            Tensor m = Images.maskToTensor(e.mask().image());
            long t0 = System.nanoTime();
            EditResult r;
            try {
                BlendedLatentDiffusion bld = new BlendedLatentDiffusion(sd, s);
                if (steering.on() && preset.equals("recommended") && e.requested().size() == 1) {   // steered toward the one requested class
                    if (guide == null) guide = steering.segmenter();
                    bld = bld.guidedToward(new BlendedLatentDiffusion.Guide(guide, e.requested().iterator().next().ordinal(), steering.settings()));
                }
                r = bld.edit(request, x, m, scorer, List.of(), null);
            } catch (IllegalArgumentException ex) {   // e.g. a thin mask that vanishes at latent resolution
                rows.get(preset + "/" + e.kind()).skipped++;
                if (preset.equals("recommended")) rows.get("recommended-no-repair/" + e.kind()).skipped++;
                perEdit.addObject().put("preset", preset).put("kind", e.kind()).put("scene_seed", e.sceneSeed()).put("skipped", ex.getMessage());
                return null;
            }
            double millis = (System.nanoTime() - t0) / 1e6;
            // each sample's score, in sample order: runs that differ only in per-sample settings (mask attention) share
            // each sample's noise, so their JSON files can be combined afterwards into other mixes
            List<Double> sampleRecalls = new ArrayList<>();
            for (EditResult.Sample smp : r.samples()) sampleRecalls.add(scorer.rankedRecall(smp.image(), x, m));
            // PSNR/SSIM before the paste (after it the outside is the input exactly); recall on the image as the preset
            // delivers it, pasted when it pastes: the segmenter reads what is inside the mask in its context
            Tensor before = r.bestSample().image();
            if (preset.equals("recommended")) {
                double repairMillis = r.repair() != null ? r.repair().millis() : 0;
                add(rows, "recommended-no-repair", e, before, pastes, x, m, segmenter, recall, input, millis - repairMillis, sampleRecalls, perEdit);
                add(rows, "recommended", e, r.best(), pastes, x, m, segmenter, recall, input, millis, sampleRecalls, perEdit);
            } else {
                add(rows, preset, e, r.best(), pastes, x, m, segmenter, recall, input, millis, sampleRecalls, perEdit);
            }
            return new BufferedImage[]{Images.toImage(r.bestSample().image()), Images.toImage(r.best())};
        }
    }

    /**
     * Adds one edit's figures: PSNR/SSIM outside the mask on {@code image} (before any paste), recall inside it on the
     * image as delivered ({@code image} with the input pasted outside the mask when {@code pastes}).
     */
    private static void add(Map<String, Row> rows, String preset, Edit e, Tensor image, boolean pastes, Tensor x, Tensor m,
                            ToyWorldSegmenter segmenter, ObjectRecall recall, int[] input, double millis, List<Double> sampleRecalls,
                            ArrayNode perEdit) {
        int[] output = rgb(image);
        int[] delivered = pastes ? rgb(BackgroundRepair.pixelBlend(image, x, m)) : output;
        int[][] maps = segmenter.classMaps(pastes ? List.of(delivered, output) : List.of(output), e.mask().width(), e.mask().height());
        EditLocality.Result loc = EditLocality.measure(input, output, maps[0], e.mask(), e.requested(), recall);
        double recallUnpasted = pastes ? recall.recall(e.requested(), maps[1], e.mask().bits()).recall() : loc.recallInside();
        Row row = rows.get(preset + "/" + e.kind());
        row.psnr += loc.psnrOutside();
        row.ssim += loc.ssimOutside();
        row.recall += loc.recallInside();
        for (ToyClass c : e.requested()) {
            double[] sc = row.byClass.computeIfAbsent(c, k -> new double[2]);
            sc[0] += loc.recallInside();
            sc[1]++;
        }
        row.recallUnranked += sampleRecalls.stream().mapToDouble(Double::doubleValue).average().orElse(0);
        row.millis += millis;
        row.edits++;
        perEdit.addObject().put("preset", preset).put("kind", e.kind()).put("scene_seed", e.sceneSeed()).put("prompt", e.prompt())
                .put("negative_prompt", e.negativePrompt())
                .put("mask_area", e.mask().area()).put("psnr_outside", finite(loc.psnrOutside())).put("ssim_outside", loc.ssimOutside())
                .put("recall_inside", loc.recallInside()).put("recall_inside_unpasted", recallUnpasted)
                .put("found_inside", loc.foundInside().toString()).put("ms", millis)
                .set("sample_recalls", perEdit.arrayNode().addAll(sampleRecalls.stream().map(perEdit::numberNode).toList()));
    }

    /** Warm-up plus the median of three timed txt2img runs of the same size and steps: the unit of the time column. */
    private double txt2imgMillis(StableDiffusion sd, double guidance) {
        GenerationRequest r = new GenerationRequest("txt2img", sd.name, "a house", "", size, size, steps, guidance, null, seed,
                1, 0, 0.0, null, null).validate(sd.vaeScaleFactor());
        try (PointerScope scope = new PointerScope(); InferenceMode inference = new InferenceMode()) {
            Txt2Img.run(sd, r, List.of(), null);
            double[] ms = new double[3];   // median of three: one run of a small model is at the mercy of the JIT and the OS
            for (int k = 0; k < ms.length; k++) {
                long t0 = System.nanoTime();
                Txt2Img.run(sd, r, List.of(), null);
                ms[k] = (System.nanoTime() - t0) / 1e6;
            }
            java.util.Arrays.sort(ms);
            return ms[1];
        }
    }

    private void printAndReport(Map<String, Row> rows, double txt2imgMillis, ObjectNode report) {
        System.out.printf("%-22s %-8s %5s %10s %8s %9s %9s %10s%n", "preset", "edit", "n", "PSNR out", "SSIM out", "recall in", "unranked", "time/t2i");
        ArrayNode out = report.putArray("rows");
        List<String> byClassLines = new ArrayList<>();
        for (Map.Entry<String, Row> en : rows.entrySet()) {
            String[] pk = en.getKey().split("/");
            Row r = en.getValue();
            ObjectNode o = out.addObject().put("preset", pk[0]).put("kind", pk[1]).put("edits", r.edits).put("skipped", r.skipped);
            if (r.edits == 0) {
                System.out.printf("%-22s %-8s %5d %10s%n", pk[0], pk[1], 0, "- (" + r.skipped + " skipped)");
                continue;
            }
            double psnr = r.psnr / r.edits, ssim = r.ssim / r.edits, rec = r.recall / r.edits, unr = r.recallUnranked / r.edits;
            double ms = r.millis / r.edits, ratio = ms / txt2imgMillis;
            System.out.printf("%-22s %-8s %5d %7.2f dB %8s %9s %9s %9.2fx%s%n", pk[0], pk[1], r.edits, psnr, EvalCommand.f4(ssim),
                    EvalCommand.f4(rec), EvalCommand.f4(unr), ratio, r.skipped > 0 ? "  (" + r.skipped + " skipped)" : "");
            o.put("psnr_outside", finite(psnr)).put("ssim_outside", ssim).put("recall_inside", rec).put("recall_inside_unranked", unr)
                    .put("ms_per_edit", ms).put("time_ratio", ratio);
            ObjectNode byClass = o.putObject("recall_inside_by_class");
            StringBuilder line = new StringBuilder();
            for (Map.Entry<ToyClass, double[]> c : r.byClass.entrySet()) {
                double v = c.getValue()[0] / c.getValue()[1];
                byClass.putObject(c.getKey().label()).put("recall_inside", v).put("edits", (int) c.getValue()[1]);
                line.append(String.format(java.util.Locale.ROOT, "  %s %.2f (%d)", c.getKey().label(), v, (int) c.getValue()[1]));
            }
            byClassLines.add(String.format("%-22s %-8s%s", pk[0], pk[1], line));
        }
        System.out.println("recall inside by requested class (edits):");
        byClassLines.forEach(System.out::println);
        System.out.printf("PSNR/SSIM outside the mask before the final pixel paste; recall of the requested class inside the mask "
                + "on the image as the preset delivers it (after the paste when it pastes) (best of %d samples ranked by it; 'unranked' = mean over the samples, as ranked: over the input's background when the preset restores it); time per edit (all %d samples, repair "
                + "included) / one %dx%d txt2img of %d steps (%.0f ms); %d test scenes from seed %d%n",
                samples, samples, size, size, steps, txt2imgMillis, n, ToyWorldFid.TEST_SEEDS + first);
    }

    private static Double finite(double v) { return Double.isFinite(v) ? v : null; }   // JSON has no infinity

    static int[] rgb(Tensor image) { return EvalImages.rgb(Images.toImage(image)); }

    /**
     * Ranks samples by the ToyWorld segmenter's recall of the requested classes inside the mask, ties broken by the
     * background PSNR (scaled below one recall step, so it never outranks a found object).
     */
    static final class RecallInsideMask implements EditScorer {
        private final ToyWorldSegmenter segmenter;
        private final ObjectRecall recall;
        private final Mask mask;
        private final Set<ToyClass> requested;
        private final boolean restoresBackground;

        RecallInsideMask(ToyWorldSegmenter segmenter, ObjectRecall recall, Mask mask, Set<ToyClass> requested, boolean restoresBackground) {
            this.restoresBackground = restoresBackground;
            this.segmenter = segmenter;
            this.recall = recall;
            this.mask = mask;
            this.requested = requested;
        }

        double recallOf(Tensor edited) {
            int[] map = segmenter.classMaps(List.of(rgb(edited)), mask.width(), mask.height())[0];
            return recall.recall(requested, map, mask.bits()).recall();
        }

        /**
         * Recall is read on the sample as the preset delivers it when it restores the background (repair, pixel paste):
         * the input outside the mask, the sample inside. The segmenter reads an object in its context, and on the raw
         * decode (blurred everywhere by the VAE) it names more borderline blobs than it does once the background is
         * sharp again: ranking by the raw decode picked such blobs, which the repair then lost (32 scenes: 10 of 96 edits).
         */
        @Override public double score(Tensor edited, Tensor source, Tensor m, String prompt) {
            double psnr = BackgroundPsnr.psnrOutside(edited, source, m);
            return rankedRecall(edited, source, m) + Math.max(0, Math.min(100, psnr)) / 1e4 / requested.size();
        }

        /** The recall the ranking reads: on the sample as delivered (see {@link #score}). */
        double rankedRecall(Tensor edited, Tensor source, Tensor m) {
            return recallOf(restoresBackground ? BackgroundRepair.pixelBlend(edited, source, m) : edited);
        }

        @Override public String name() { return "toyworld-recall-inside-mask"; }
    }
}
