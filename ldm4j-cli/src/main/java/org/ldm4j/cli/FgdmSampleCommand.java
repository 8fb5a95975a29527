package org.ldm4j.cli;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import org.bytedeco.pytorch.InferenceMode;
import org.bytedeco.pytorch.Tensor;
import org.ldm4j.image.AtomicFiles;
import org.ldm4j.image.Images;
import org.ldm4j.image.Infotext;
import org.ldm4j.image.PngParameters;
import org.ldm4j.methods.fgdm.ClassMap;
import org.ldm4j.methods.fgdm.Factor;
import org.ldm4j.methods.fgdm.FactorGraph;
import org.ldm4j.methods.fgdm.FactorGraphRequest;
import org.ldm4j.methods.fgdm.FactorGraphResult;
import org.ldm4j.methods.fgdm.FactorGraphSampler;
import org.ldm4j.methods.fgdm.FactorSettings;
import org.ldm4j.methods.fgdm.FgdmFolder;
import org.ldm4j.methods.fgdm.MapReadout;
import org.ldm4j.methods.fgdm.FgdmManifest;
import org.ldm4j.methods.fgdm.ObjectRecall;
import org.ldm4j.methods.fgdm.Palette;
import org.ldm4j.studio.FactorGraphModel;
import org.ldm4j.train.toyworld.ToyWorldMaps;
import org.ldm4j.methods.fgdm.Sbpc;
import org.ldm4j.methods.fgdm.SbpcResult;
import org.ldm4j.methods.fgdm.SbpcSettings;
import org.ldm4j.methods.fgdm.SegmentationMaps;
import org.ldm4j.schedulers.Schedulers;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

import java.awt.image.BufferedImage;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.Callable;

/** {@code ldm4j fgdm sample}: one run of a trained FG-DM folder, optionally with SBPC over N segmentation samples. */
@Command(name = "sample", mixinStandardHelpOptions = true,
        description = "Sample a ToyWorld FG-DM: the condition factors (segmentation, depth, ...), then the image factor "
                + "(sequential, the released form) or all factors per step (joint, the paper's eqs. 4-6); optionally SBPC: "
                + "N segmentation samples scored by object recall, the image drawn once from the best.",
        footer = {"", "Writes DIR/<factor>.png for every factor (image.png with its PNG parameters) and DIR/sample.json "
                + "(each SBPC candidate's recall, timings).",
                "", "Examples:",
                "  ldm4j fgdm sample --prompt \"a house and two trees by a lake\" --out fg",
                "  ldm4j fgdm sample --prompt \"a boat on a lake\" --sbpc 10 --condition-steps 10 --half-res --out fg",
                "  ldm4j fgdm sample --prompt \"a red car\" --mode joint --out fg",
                "  ldm4j fgdm sample --prompt \"a red car\" --factors seg --out fg",
                "  ldm4j fgdm sample --prompt \"a red car\" --given seg=edited/map.png --out fg"})
final class FgdmSampleCommand implements Callable<Integer> {
    private static final ObjectMapper JSON = new ObjectMapper();

    @Mixin FgdmModelOptions fgdm;
    @Mixin GuideOptions guidance;
    @Option(names = {"-p", "--prompt"}, required = true, description = "The prompt.")
    String prompt;
    @Option(names = "--mode", defaultValue = "sequential", description = "sequential or joint (default ${DEFAULT-VALUE}).")
    String mode;
    @Option(names = "--seed", defaultValue = "42", description = "Seed (default ${DEFAULT-VALUE}, as the released code).")
    long seed;
    @Option(names = "--steps", description = "Condition-factor DDIM steps (default: the manifest's).")
    Integer steps;
    @Option(names = "--image-steps", description = "Image-factor DDIM steps (default: the manifest's).")
    Integer imageSteps;
    @Option(names = "--cfg", description = "Condition-factor guidance (default: the manifest's).")
    Double cfg;
    @Option(names = "--image-cfg", description = "Image-factor guidance (default: the manifest's).")
    Double imageCfg;
    @Option(names = "--image-map-guidance", description = "Image-factor guidance toward its maps, InstructPix2Pix's two-scale form "
            + "(1 = plain text guidance, one UNet call fewer per step; default: the manifest's \"map_guidance\").")
    Double imageMapGuidance;
    @Option(names = "--image-scale", description = "Image-factor conditioning scale: its ControlNet's residuals are multiplied by it "
            + "(diffusers' controlnet_conditioning_scale; default: the manifest's \"scale\").")
    Double imageScale;
    @Option(names = "--half-res", description = "Condition maps at half the image's side (the paper: no loss of image quality).")
    boolean halfRes;
    @Option(names = "--full-size", description = "Condition maps at the image's size.")
    boolean fullSize;
    @Option(names = {"--sbpc", "--n"}, defaultValue = "1", description = "SBPC: segmentation samples scored by object recall (default ${DEFAULT-VALUE}).")
    int sbpc;
    @Option(names = "--select", defaultValue = "recall", description = "How SBPC picks among the --n maps: recall (object recall of "
            + "the decoded segmentation, the paper's score and the only one; default ${DEFAULT-VALUE}).")
    String select;
    @Option(names = "--image-check", description = "SBPC with an image check (ldm4j's variant): segment the image of the best map and, short of "
            + "full recall, make images of the next-best maps, at most this many images in all; the best image is kept.")
    Integer imageCheck;
    @Option(names = "--segmenter", defaultValue = "models/toyworld-segmenter", description = "Segmenter folder for --image-check (default: ${DEFAULT-VALUE}).")
    Path segmenter;
    @Option(names = "--sbpc-batch", description = "SBPC candidates per UNet call (default: all N; lower it when a large model's batch does not fit in memory).")
    Integer sbpcBatch;
    @Option(names = "--condition-steps", description = "SBPC: steps of the candidate maps (default: --steps).")
    Integer conditionSteps;
    @picocli.CommandLine.Mixin SbpcCandidateOptions candidates;
    @Option(names = "--fast-candidates", description = "SBPC: ldm4j's measured fast candidates (SbpcSettings.fast): --condition-steps 3 "
            + "--condition-guidance 1 --condition-scheduler dpm++2m --min-area 0.01 --prefer-larger-objects, each unless given; with "
            + "--image-check 2 --image-min-area 0.002 the setting that passes the SBPC bar on models/toyworld-fgdm8.")
    boolean fastCandidates;
    @Option(names = "--objects", split = ",", description = "Objects the recall counts, e.g. house,tree (default: the ToyWorld objects the prompt names).")
    List<String> objects;
    @Option(names = "--min-area", description = "An object counts when it covers this fraction of the map (default 0.005; "
            + "--fast-candidates: 0.01).")
    Double minAreaOption;
    double minArea;
    @Option(names = "--image-min-area", description = "--image-check: an object counts in the image when it covers this fraction of it "
            + "(default: --min-area; e.g. score candidate maps strictly with --min-area 0.01 and images at the evaluator's 0.002).")
    Double imageMinArea;
    @Option(names = "--factors", split = ",", description = "Factors to run, e.g. seg,depth (default: all); the others are switched off.")
    List<String> factors;
    @Option(names = "--given", description = "FACTOR=PNG: use this (edited) map instead of sampling the factor.")
    Map<String, Path> given;
    @picocli.CommandLine.Mixin MapReadingOptions mapReading;
    @Option(names = "--out", required = true, description = "Output folder.")
    Path out;

    @Override
    public Integer call() throws IOException {
        long start = System.nanoTime();
        if (prompt.isBlank()) {
            throw new Ldm4j.UsageError("--prompt is empty: fgdm sample draws its maps and image from the prompt; say what the scene "
                    + "holds (e.g. --prompt \"a red house and a tree\")");
        }
        FactorGraphRequest.Mode m = switch (mode.toLowerCase(Locale.ROOT)) {
            case "sequential" -> FactorGraphRequest.Mode.SEQUENTIAL;
            case "joint" -> FactorGraphRequest.Mode.JOINT;
            default -> throw new Ldm4j.UsageError("--mode must be sequential or joint, got '" + mode + "'");
        };
        if (sbpc < 1) throw new Ldm4j.UsageError("--sbpc must be >= 1, got " + sbpc);
        if (fastCandidates) {   // the preset fills what was not given
            if (sbpc < 2) throw new Ldm4j.UsageError("--fast-candidates sets how SBPC samples its candidates: it needs --sbpc N > 1");
            SbpcSettings fast = SbpcSettings.fast(sbpc, 0);
            if (conditionSteps == null) conditionSteps = fast.conditionSteps();
            if (candidates.conditionGuidance == null) candidates.conditionGuidance = fast.conditionGuidance();
            if (candidates.conditionScheduler == null) candidates.conditionScheduler = fast.conditionScheduler();
            if (minAreaOption == null) minAreaOption = SbpcSettings.FAST_MAP_MIN_AREA;
            candidates.preferLargerObjects = true;
        }
        minArea = minAreaOption != null ? minAreaOption : 0.005;
        if (!select.equals("recall")) throw new Ldm4j.UsageError("--select: unknown score '" + select + "' (expected recall)");
        if (imageCheck != null && (imageCheck < 1 || imageCheck > 256)) throw new Ldm4j.UsageError("--image-check must be in 1..256 images, got " + imageCheck);
        if (imageCheck != null && sbpc < 2) throw new Ldm4j.UsageError("--image-check checks SBPC's image: it needs --sbpc N > 1");
        if (imageCheck != null && !Files.isDirectory(segmenter)) {
            throw new Ldm4j.UsageError("--image-check needs a segmenter; none at " + segmenter + " (give --segmenter DIR)");
        }
        if (sbpcBatch != null && (sbpcBatch < 1 || sbpcBatch > 256)) throw new Ldm4j.UsageError("--sbpc-batch must be in 1..256, got " + sbpcBatch);
        if (halfRes && fullSize) throw new Ldm4j.UsageError("--half-res and --full-size exclude each other");
        if (sbpc > 1 && m == FactorGraphRequest.Mode.JOINT) throw new Ldm4j.UsageError("--sbpc needs --mode sequential (the image factor runs only on the chosen map)");
        if (sbpc > 1 && given != null) throw new Ldm4j.UsageError("--sbpc samples the maps it scores: it cannot be combined with --given");
        if (conditionSteps != null && sbpc == 1) throw new Ldm4j.UsageError("--condition-steps sets the SBPC candidates' steps (needs --sbpc N > 1); use --steps");
        if ((candidates.conditionGuidance != null || candidates.conditionScheduler != null) && sbpc == 1) {
            throw new Ldm4j.UsageError("--condition-guidance and --condition-scheduler set the SBPC candidates' sampling (need --sbpc N > 1)");
        }
        candidates.check();
        if (!(minArea >= 0 && minArea < 1)) throw new Ldm4j.UsageError("--min-area must be in [0, 1), got " + minArea);
        if (candidates.preferLargerObjects && sbpc < 2) throw new Ldm4j.UsageError("--prefer-larger-objects ranks SBPC's candidates: it needs --sbpc N > 1");
        if (imageMinArea != null && imageCheck == null) throw new Ldm4j.UsageError("--image-min-area scores the image check's images: it needs --image-check");
        if (imageMinArea != null && !(imageMinArea >= 0 && imageMinArea < 1)) throw new Ldm4j.UsageError("--image-min-area must be in [0, 1), got " + imageMinArea);
        mapReading.check();

        FgdmFolder folder = fgdm.read();
        FgdmManifest manifest = folder.manifest;
        Palette palette = ToyWorldMaps.palette();
        Set<String> off = switchedOff(manifest);
        FgdmManifest.Entry seg = manifest.firstOf(FgdmManifest.MapKind.SEGMENTATION);
        Set<Integer> wanted = wanted(palette);
        if (sbpc > 1 && seg == null) throw new Ldm4j.UsageError("--sbpc scores segmentation maps, but " + folder.folder + " has no segmentation factor");
        if (sbpc > 1 && off.contains(seg.name())) throw new Ldm4j.UsageError("--sbpc scores the segmentation map: --factors must include " + seg.name());
        if (sbpc > 1 && wanted.isEmpty()) {
            throw new Ldm4j.UsageError("--sbpc needs objects to look for: the prompt names none of ToyWorld's objects; give --objects (e.g. house,tree)");
        }
        if (guidance.on()) {
            if (seg == null || off.contains(seg.name())) throw new Ldm4j.UsageError("--guide steers the image toward the segmentation map, but this run has none");
            if (m != FactorGraphRequest.Mode.SEQUENTIAL) throw new Ldm4j.UsageError("--guide needs --mode sequential (the map must be final before the image starts)");
            if (manifest.factors().stream().noneMatch(e -> e.role() == Factor.Role.IMAGE && !off.contains(e.name()))) {
                throw new Ldm4j.UsageError("--guide steers the image toward the segmentation map, but this run draws no image (--factors)");
            }
            guidance.check();   // a bad --guide-* value or folder is a usage error before anything loads
        }
        Map<String, FactorSettings> settings = settings(manifest);
        Map<String, BufferedImage> givenMaps = readGiven(manifest, settings, palette);

        long loadStart = System.nanoTime();
        FactorGraph graph = fgdm.load(folder, palette);
        for (Map.Entry<String, FactorSettings> e : settings.entrySet()) graph = graph.withSettings(e.getKey(), e.getValue());
        if (imageScale != null) {
            Factor image = graph.factors().stream().filter(f -> f.role() == Factor.Role.IMAGE).findFirst()
                    .orElseThrow(() -> new Ldm4j.UsageError("--image-scale: " + folder.folder + " has no image factor"));
            try {
                graph = graph.withConditioningScale(image.name(), imageScale);
            } catch (IllegalArgumentException e) {
                throw new Ldm4j.UsageError("--image-scale: " + e.getMessage());
            }
        }
        for (FgdmManifest.Entry e : manifest.factors()) {
            MapReadout readout = e.map() == FgdmManifest.MapKind.SEGMENTATION ? mapReading.readout(e, palette) : null;
            if (readout != null) graph = graph.withReadout(e.name(), readout);
        }
        long loadMillis = (System.nanoTime() - loadStart) / 1_000_000;

        ObjectNode report = JSON.createObjectNode();
        report.put("prompt", prompt);
        report.put("seed", seed);
        report.put("mode", m.name().toLowerCase(Locale.ROOT));
        report.put("model", folder.folder.toString());
        guidance.record(report);
        ArrayNode objectNames = report.putArray("objects");
        wanted.forEach(c -> objectNames.add(palette.name(c)));
        SbpcSettings sbpcSettings = new SbpcSettings(sbpc, conditionSteps != null ? conditionSteps : 0, false, null, FgdmFolder.tolerance(palette));
        sbpcSettings = candidates.applyTo(sbpcSettings);
        if (sbpcBatch != null) sbpcSettings = sbpcSettings.withBatch(Math.min(sbpcBatch, sbpc));
        if (sbpc > 1) {
            report.putObject("sbpc").put("samples", sbpc).put("candidate_steps", conditionSteps != null ? conditionSteps
                    : graph.factor(seg.name()).settings().steps()).put("min_area", minArea).put("batch", sbpcSettings.batch());
            if (imageCheck != null) report.with("sbpc").put("image_check_max_images", imageCheck);
            if (imageMinArea != null) report.with("sbpc").put("image_min_area", imageMinArea);
            if (fastCandidates) report.with("sbpc").put("fast_candidates", true);
            if (candidates.preferLargerObjects) report.with("sbpc").put("prefer_larger_objects", true);
            if (candidates.conditionGuidance != null) report.with("sbpc").put("candidate_guidance", candidates.conditionGuidance);
            if (candidates.conditionScheduler != null) report.with("sbpc").put("candidate_scheduler", candidates.conditionScheduler);
        }
        FactorGraphResult result;
        SbpcResult chosen = null;
        try (InferenceMode ignored = new InferenceMode()) {
            if (sbpc > 1) {
                Sbpc.ImageCheck check = imageCheck == null ? null
                        : new Sbpc.ImageCheck(FactorGraphModel.toyWorldSegmenter(org.ldm4j.toyworld.eval.ToyWorldSegmenter.load(segmenter)), imageCheck,
                                imageMinArea != null ? new ObjectRecall(wanted, imageMinArea) : null);
                ObjectRecall mapRecall = new ObjectRecall(wanted, minArea);
                chosen = Sbpc.run(graph, seg.name(), palette, prompt, seed, candidates.mapScorer(mapRecall),
                        sbpcSettings, off, check, guidance.mapGuidance(graph, seg.name(), palette), FgdmSupport.progress(), null);
                result = chosen.result();
            } else {
                Map<String, FactorGraphRequest.Given> fixed = new HashMap<>();
                // a given segmentation is redrawn in clean palette colours (an editor's antialiasing is not a class)
                givenMaps.forEach((name, img) -> fixed.put(name, new FactorGraphRequest.Given(null, manifest.factor(name).map()
                        == FgdmManifest.MapKind.SEGMENTATION ? SegmentationMaps.toImageTensor(SegmentationMaps.decode(img, palette,
                        FgdmFolder.tolerance(palette)), palette) : Images.toTensor(img))));
                result = FactorGraphSampler.run(graph, new FactorGraphRequest(prompt, seed, m, off, fixed), FgdmSupport.progress(), null,
                        guidance.on() ? guidance.mapGuidance(graph, seg.name(), palette) : org.ldm4j.methods.fgdm.FactorHooks.NONE);
            }
            Files.createDirectories(out);
            ArrayNode written = report.putArray("files");
            for (String name : result.factors()) written.add(write(graph, folder, result, name, chosen != null ? chosen.chosenSeed() : seed));
            candidates(report, chosen, result, seg, palette, wanted);
        }
        ObjectNode fs = report.putObject("factors");
        for (Factor f : graph.factors()) {
            ObjectNode n = fs.putObject(f.name());
            FactorSettings s = f.settings();
            n.put("role", f.role().name().toLowerCase(Locale.ROOT));
            FgdmManifest.MapKind kind = manifest.factor(f.name()).map();
            if (kind != null) n.put("map", kind.key());
            n.put("width", s.width()).put("height", s.height()).put("steps", s.steps()).put("guidance_scale", s.guidanceScale());
            if (!f.parents().isEmpty()) n.put("map_guidance", s.mapGuidance());
            n.put("state", off.contains(f.name()) ? "off" : givenMaps.containsKey(f.name()) ? "given" : "sampled");
            if (result.millis().containsKey(f.name())) n.put("millis", result.millis().get(f.name()));
        }
        ObjectNode timings = report.putObject("timings_ms");
        timings.put("load", loadMillis);
        if (chosen != null) {
            timings.put("candidates", chosen.candidateMillis().stream().mapToLong(Long::longValue).sum());
            timings.put("final_run", chosen.imageMillis());
        }
        timings.put("total", (System.nanoTime() - start) / 1_000_000);
        AtomicFiles.write(out.resolve("sample.json"), JSON.writerWithDefaultPrettyPrinter().writeValueAsBytes(report));
        System.out.println("fgdm sample: " + String.join(", ", result.factors()) + " -> " + out.toAbsolutePath()
                + (chosen != null ? " (SBPC chose candidate " + chosen.chosen() + " of " + chosen.scores().size() + ", recall "
                + String.format(Locale.ROOT, "%.2f", chosen.bestScore()) + ")" : ""));
        return 0;
    }

    /** The factors --factors leaves out (unknown names are usage errors). */
    private Set<String> switchedOff(FgdmManifest manifest) {
        if (factors == null) return Set.of();
        Set<String> on = new LinkedHashSet<>();
        for (String f : factors) {
            String name = f.trim();
            if (name.isEmpty()) continue;
            if (!manifest.names().contains(name)) {
                throw new Ldm4j.UsageError("unknown factor '" + name + "' in --factors; this FG-DM has " + String.join(", ", manifest.names()));
            }
            on.add(name);
        }
        if (on.isEmpty()) throw new Ldm4j.UsageError("--factors is empty; this FG-DM has " + String.join(", ", manifest.names()));
        Set<String> off = new HashSet<>(manifest.names());
        off.removeAll(on);
        return off;
    }

    /** Class indices the recall counts: --objects, or the objects the prompt names. */
    private Set<Integer> wanted(Palette palette) {
        if (objects == null) return ObjectRecall.namedIn(prompt, palette, true);
        Set<Integer> out = new LinkedHashSet<>();
        for (String o : objects) {
            if (o.isBlank()) continue;
            try {
                out.add(palette.classOf(o));
            } catch (IllegalArgumentException e) {
                throw new Ldm4j.UsageError("unknown object '" + o.trim() + "' in --objects; ToyWorld classes: " + String.join(", ", palette.names()));
            }
        }
        if (out.isEmpty()) throw new Ldm4j.UsageError("--objects is empty: name at least one ToyWorld object (e.g. house,tree)");
        return out;
    }

    /** Each factor's settings after --steps/--cfg/--image-*, --half-res and --full-size. */
    private Map<String, FactorSettings> settings(FgdmManifest manifest) {
        FgdmManifest.Entry image = manifest.factors().stream().filter(e -> e.role() == Factor.Role.IMAGE).findFirst().orElse(null);
        if ((halfRes || fullSize) && image == null) throw new Ldm4j.UsageError("--half-res/--full-size size the maps by the image factor, and this FG-DM has none");
        if (imageScale != null) {   // checked before the weights load; the graph applies it (Factor#withConditioningScale)
            if (!(Math.abs(imageScale) < 1e6)) throw new Ldm4j.UsageError("--image-scale must be a finite number, got " + imageScale);
            if (image == null || image.conditioning() == FgdmManifest.Conditioning.TEXT_ONLY) {
                throw new Ldm4j.UsageError("--image-scale scales the image factor's ControlNet, and this FG-DM's image factor has none");
            }
        }
        Map<String, FactorSettings> out = new java.util.LinkedHashMap<>();
        for (FgdmManifest.Entry e : manifest.factors()) {
            FactorSettings s = e.settings();
            boolean isImage = e.role() == Factor.Role.IMAGE;
            Integer st = isImage ? imageSteps : steps;
            Double g = isImage ? imageCfg : cfg;
            try {
                if (st != null) s = s.withSteps(st);
                if (g != null) s = s.withGuidance(g);
                if (isImage && imageMapGuidance != null) s = s.withMapGuidance(imageMapGuidance);
            } catch (IllegalArgumentException ex) {
                throw new Ldm4j.UsageError((isImage ? "image factor: " : "condition factors: ") + ex.getMessage());
            }
            if (!isImage && fullSize) s = s.withSize(image.width(), image.height());
            if (!isImage && halfRes) s = s.withSize(image.width() / 2, image.height() / 2);
            out.put(e.name(), s);
        }
        return out;
    }

    /** Reads --given maps: a condition factor, an existing PNG of the factor's size, palette colours for segmentation. */
    private Map<String, BufferedImage> readGiven(FgdmManifest manifest, Map<String, FactorSettings> settings, Palette palette) {
        Map<String, BufferedImage> out = new java.util.LinkedHashMap<>();
        if (given == null) return out;
        for (Map.Entry<String, Path> g : given.entrySet()) {
            String name = g.getKey();
            if (!manifest.names().contains(name)) throw new Ldm4j.UsageError("unknown factor '" + name + "' in --given; this FG-DM has " + String.join(", ", manifest.names()));
            FgdmManifest.Entry e = manifest.factor(name);
            if (e.role() == Factor.Role.IMAGE) throw new Ldm4j.UsageError("--given " + name + ": the image factor is sampled, not given; give a condition map");
            Path file = g.getValue();
            Ldm4j.requireFile("--given " + name + ":", file);
            BufferedImage img;
            try {
                img = Images.readImage(file);
            } catch (IOException | RuntimeException ex) {
                throw new Ldm4j.UsageError("--given " + name + ": cannot read " + file + ": " + ex.getMessage());
            }
            if (img == null) throw new Ldm4j.UsageError("--given " + name + ": " + file + " is not an image");
            FactorSettings s = settings.get(name);
            if (img.getWidth() != s.width() || img.getHeight() != s.height()) {
                throw new Ldm4j.UsageError("--given " + name + ": " + file + " is " + img.getWidth() + "x" + img.getHeight() + ", but factor '" + name
                        + "' samples " + s.width() + "x" + s.height() + " maps" + (halfRes || fullSize ? "" : " (--full-size / --half-res change that)"));
            }
            if (e.map() == FgdmManifest.MapKind.SEGMENTATION) {
                ClassMap classes = SegmentationMaps.decode(img, palette, FgdmFolder.tolerance(palette));
                if (classes.area(ClassMap.UNLABELED) == classes.labels().length) {
                    throw new Ldm4j.UsageError("--given " + name + ": " + file + " has no ToyWorld palette colours: is it a ToyWorld segmentation colour map?");
                }
            }
            out.put(name, img);
        }
        return out;
    }

    /** Writes one factor's output as DIR/name.png with its PNG parameters; returns the file name. */
    private String write(FactorGraph graph, FgdmFolder folder, FactorGraphResult result, String name, long usedSeed) throws IOException {
        Factor f = graph.factor(name);
        FactorSettings s = f.settings();
        Tensor decoded = result.decoded(name);
        BufferedImage img = Images.toImage(decoded);
        String file = name + ".png";
        Infotext info = Infotext.of(prompt + s.promptSuffix(), s.negativePrompt(), s.steps(), Schedulers.fromAlias(s.scheduler()).a1111Label(),
                s.guidanceScale(), graph.factorSeed(name, usedSeed), img.getWidth(), img.getHeight(), folder.folder.getFileName() + "/" + name);
        ObjectNode request = JSON.createObjectNode();
        request.put("mode", "fgdm-sample").put("model", folder.folder.toString()).put("factor", name).put("prompt", prompt)
                .put("seed", usedSeed).put("steps", s.steps()).put("guidance_scale", s.guidanceScale())
                .put("width", s.width()).put("height", s.height()).put("sampling", result.mode.name().toLowerCase(Locale.ROOT));
        PngParameters.write(out.resolve(file), img, info, request);
        return file;
    }

    /** sample.json's candidates: every SBPC candidate's seed, recall, objects found and time (one when no SBPC). */
    private void candidates(ObjectNode report, SbpcResult sbpc, FactorGraphResult result, FgdmManifest.Entry seg, Palette palette,
                            Set<Integer> wanted) throws IOException {
        ArrayNode list = report.putArray("candidates");
        ObjectRecall recall = new ObjectRecall(wanted, minArea);
        if (sbpc != null) {
            Files.createDirectories(out.resolve("candidates"));
            for (int k = 0; k < sbpc.scores().size(); k++) {
                ClassMap map = sbpc.maps().get(k);
                String file = "candidates/" + seg.name() + "-" + k + ".png";
                Images.writePng(map.toImage(palette), out.resolve(file));
                candidate(list.addObject(), seed + k, sbpc.scores().get(k), map, palette, sbpc.candidateMillis().get(k)).put("file", file);
            }
            report.put("chosen", sbpc.chosen());
            report.put("chosen_seed", sbpc.chosenSeed());
            if (!sbpc.imaged().isEmpty()) {   // --image-check: which candidates got an image, and how each image scored
                ArrayNode checked = report.putArray("image_check");
                for (int i = 0; i < sbpc.imaged().size(); i++) {
                    checked.addObject().put("candidate", sbpc.imaged().get(i)).put("recall", sbpc.imageScores().get(i));
                }
            }
        } else if (seg != null && result.factors().contains(seg.name())) {
            ClassMap map = FgdmSupport.classes(result.decoded(seg.name()), palette);
            candidate(list.addObject(), seed, recall.score(map), map, palette, result.millis().getOrDefault(seg.name(), 0L));
            report.put("chosen", 0);
            report.put("chosen_seed", seed);
        }
    }

    private ObjectNode candidate(ObjectNode n, long candidateSeed, double score, ClassMap map, Palette palette, long millis) {
        n.put("seed", candidateSeed);
        n.put("recall", score);
        ArrayNode present = n.putArray("present");
        for (int c : ObjectRecall.present(map, minArea)) present.add(palette.name(c));
        n.put("millis", millis);
        return n;
    }
}
