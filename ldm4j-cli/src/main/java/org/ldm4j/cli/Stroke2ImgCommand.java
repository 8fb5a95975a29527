package org.ldm4j.cli;

import org.bytedeco.pytorch.NoGradGuard;
import org.bytedeco.pytorch.Tensor;
import org.ldm4j.bench.EngineBenchmark;
import org.ldm4j.image.Images;
import org.ldm4j.methods.gradop.BaselineSettings;
import org.ldm4j.methods.gradop.GradOp;
import org.ldm4j.methods.gradop.GradOpPlus;
import org.ldm4j.methods.gradop.GradOpParameters;
import org.ldm4j.methods.gradop.GradOpPlusSettings;
import org.ldm4j.methods.gradop.GradOpSettings;
import org.ldm4j.methods.gradop.LatentOptimizer;
import org.ldm4j.methods.gradop.Region;
import org.ldm4j.methods.gradop.RegionSettings;
import org.ldm4j.methods.gradop.Stroke2ImgBaselines;
import org.ldm4j.methods.gradop.Stroke2ImgRecord;
import org.ldm4j.methods.gradop.Stroke2ImgSettings;
import org.ldm4j.methods.gradop.StrokePainting;
import org.ldm4j.methods.gradop.StrokePrompt;
import org.ldm4j.pipeline.GenerationRequest;
import org.ldm4j.pipeline.ProgressHook;
import org.ldm4j.pipeline.StableDiffusion;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

import java.awt.Color;
import java.awt.image.BufferedImage;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;

@Command(name = "stroke2img", mixinStandardHelpOptions = true,
        description = "Stroke painting + prompt -> realistic image (GradOP+, CVPR 2023), or the baselines it is compared with.",
        footer = {"", "Methods: gradop+ (one reverse pass, default), gradop (two passes), sdedit, iterative-sdedit, text (text-only samples).",
                "Defaults are the official code's: 50 DDIM steps, CFG 7.5, strength 0.8, 3 iterations x 12 Adam steps at lr 0.1,",
                "Gaussian blur 35x35 sigma 7 (always CFG 7.5 unless --cfg is given, also on the ToyWorld model).",
                "The output has the painting's size; --width/--height resize the painting (bicubic) first. Sizes must be",
                "multiples of the VAE factor; RGBA paintings are composited on --background. --scheduler defaults to the official DDIM.",
                "", "Examples:",
                "  ldm4j stroke2img --painting fox.png --prompt \"a photo of a fox beside a tree\" --out fox.png",
                "  ldm4j stroke2img --painting toyworld:2000007 --out house.png   (a ToyWorld scene's simulated painting; prompt = its caption)",
                "  ldm4j stroke2img --painting scene.png --prompt \"a photo of a cat and a dog\" --region \"#FF8800=cat\" --region \"#3344FF=dog:1.5\" --out pets.png"})
final class Stroke2ImgCommand implements Callable<Integer> {
    @Mixin GenerationOptions options;

    @Option(names = "--painting", required = true, description = "The stroke painting (PNG; RGBA is composited on --background), "
            + "or toyworld:SEED for the simulated stroke painting of ToyWorld scene SEED (then --prompt defaults to its caption).")
    String painting;

    @Option(names = "--method", defaultValue = "gradop+", description = "gradop+, gradop, sdedit, iterative-sdedit or text (default ${DEFAULT-VALUE}).")
    String method;

    @Option(names = "--preset", defaultValue = "official", description = "official (the paper's code exactly), recommended "
            + "(optimises the x0 prediction instead of the noisy latent; untested on SD) or fast (3 x 5 Adam steps at lr 0.4: "
            + "on ToyWorld more faithful than the official settings and SDEdit, at 1.8x SDEdit's time). Default ${DEFAULT-VALUE}.")
    String preset;

    @Option(names = "--strength", description = "Where optimisation starts (gradop+), projection strength (gradop), SDEdit strength (default 0.8).")
    Double strength;

    @Option(names = "--iterations", description = "GradOP+ iterations (default 3), or rounds of iterative SDEdit (default 3).")
    Integer iterations;

    @Option(names = "--grad-steps", description = "Adam steps per iteration (default 12 for gradop+, 50 for gradop).")
    Integer gradSteps;

    @Option(names = "--lr", description = "Adam learning rate on the latent (default 0.1).")
    Double lr;

    @Option(names = "--lambda", description = "GradOP proximity weight (default 1e-3).")
    Double lambda;

    @Option(names = "--painting-function", description = "blur (default) or median-palette.")
    String paintingFunction;

    @Option(names = "--blur-kernel", description = "Gaussian kernel side in pixels, odd (default 35).")
    Integer blurKernel;

    @Option(names = "--blur-sigma", description = "Gaussian sigma in pixels (default 7).")
    Double blurSigma;

    @Option(names = "--median-size", description = "Median window, odd; 0 = automatic (default).")
    Integer medianSize;

    @Option(names = "--palette-colours", description = "At most this many palette colours (default 16).")
    Integer paletteColours;

    @Option(names = "--loss-scale", description = "Compute the painting loss on an s-times smaller decode (default 1; 2 or 4 save memory).")
    Integer lossScale;

    @Option(names = "--region", description = "Colour -> phrase of the prompt, \"#RRGGBB=phrase[:weight]\" (repeatable).")
    List<String> regions = new ArrayList<>();

    @Option(names = "--region-strength", defaultValue = "0.4", description = "Cross-attention bias strength w' (default ${DEFAULT-VALUE}, paint-with-words' value for SD; the small ToyWorld model needs 1.5-4, see the README).")
    double regionStrength;

    @Option(names = "--region-tolerance", defaultValue = "64", description = "RGB distance within which a pixel matches a region colour (default ${DEFAULT-VALUE}).")
    double regionTolerance;

    @Option(names = "--background", defaultValue = "#FFFFFF", description = "Colour transparent pixels are composited on (default ${DEFAULT-VALUE}).")
    String background;

    /** {@code toyworld:SEED}: ToyWorld scene SEED's simulated stroke painting (paint seed = scene seed) and its caption. */
    record ToyWorldPainting(org.ldm4j.toyworld.Scene scene) {
        static ToyWorldPainting parse(String spec) {
            if (!spec.startsWith("toyworld:")) return null;
            long seed;
            try {
                seed = Long.parseLong(spec.substring("toyworld:".length()));
            } catch (NumberFormatException e) {
                throw new Ldm4j.UsageError("--painting " + spec + ": expected toyworld:SEED with a whole-number seed");
            }
            return new ToyWorldPainting(org.ldm4j.toyworld.ToyWorld.sample(seed));
        }

        String caption() { return scene.caption(); }

        BufferedImage image() { return scene.painting(scene.seed(), org.ldm4j.toyworld.PaintingOptions.defaults()).image(); }
    }

    @Override
    public Integer call() throws Exception {
        ToyWorldPainting toy = ToyWorldPainting.parse(painting);
        if (toy == null) Ldm4j.requireFile("painting", Path.of(painting));
        String promptText = options.prompt != null ? options.prompt : toy != null ? toy.caption() : options.requirePrompt();
        GenerateSupport.noteEmptyPrompt(promptText, options.negativePrompt);
        List<Path> outputs = new ArrayList<>(GenerateSupport.outputFiles(options.out, options.count));
        if (toy != null) outputs.add(GenerateSupport.sibling(options.out, "-painting"));
        GenerateSupport.checkOutputs(options.out, outputs);
        if (options.eta != 0) throw new Ldm4j.UsageError("--eta is not supported by stroke2img (GradOP runs deterministic DDIM)");
        String m = method.toLowerCase(Locale.ROOT);
        if (!GradOpParameters.METHODS.contains(m)) {
            throw new Ldm4j.UsageError("unknown --method '" + method + "' (expected gradop+, gradop, sdedit, iterative-sdedit or text)");
        }
        if (!regions.isEmpty() && !m.startsWith("gradop")) throw new Ldm4j.UsageError("--region applies to gradop+ and gradop only");
        Color bg = StrokePainting.parseColour(background);
        BufferedImage img;
        try {
            img = toy != null ? toy.image() : StrokePainting.read(Path.of(painting), bg);
        } catch (IOException e) {
            throw new Ldm4j.UsageError(e.getMessage());
        }
        int width = options.width != null ? options.width : img.getWidth();
        int height = options.height != null ? options.height : img.getHeight();
        img = StrokePainting.resize(img, width, height);
        List<Region> parsedRegions = regions.stream().map(Region::parse).toList();
        RegionSettings regionSettings = parsedRegions.isEmpty() ? null
                : new RegionSettings(parsedRegions, regionStrength, regionTolerance).validate();

        StableDiffusion sd = GenerateSupport.load(options);
        org.ldm4j.image.Images.requireMultipleOf(sd.vaeScaleFactor(), width, height);
        Tensor y = StrokePainting.toTensor(img);
        Stroke2ImgSettings settings = settings(m);
        String scheduler = options.scheduler != null ? options.scheduler : "ddim";
        GenerationRequest request = new GenerationRequest("stroke2img", sd.name, promptText, options.negativePrompt,
                width, height, settings.steps(), settings.guidanceScale(), scheduler, options.seed, options.count, options.clipSkip, 0.0,
                GradOpParameters.strengthOf(m, settings), painting).validate(sd.vaeScaleFactor());
        StrokePrompt prompt = new StrokePrompt(promptText, options.negativePrompt, options.seed, options.clipSkip);

        List<Tensor> images = new ArrayList<>();
        long started = System.nanoTime();
        try (NoGradGuard noGrad = new NoGradGuard(); ProgressHook progress = new ProgressHook("stroke2img " + m)) {
            if (m.equals("text")) {
                images.addAll(Stroke2ImgBaselines.textOnly(sd, prompt, width, height, options.count, (BaselineSettings) settings,
                        List.of(progress), null));
            } else {
                for (int k = 0; k < options.count; k++) {
                    StrokePrompt pk = prompt.withSeed(options.seed + k);
                    switch (m) {
                        case "gradop+" -> {
                            GradOpPlus.Result r = GradOpPlus.run(sd, pk, y, (GradOpPlusSettings) settings, regionSettings, List.of(progress), null);
                            reportLosses(r.iterations());
                            images.add(r.image());
                        }
                        case "gradop" -> {
                            GradOp.Result r = GradOp.run(sd, pk, y, (GradOpSettings) settings, regionSettings, List.of(progress), null);
                            reportLosses(List.of(r.optimisation()));
                            images.add(r.image());
                        }
                        case "sdedit" -> images.add(Stroke2ImgBaselines.sdedit(sd, pk, y, (BaselineSettings) settings, List.of(progress), null));
                        default -> {
                            List<Tensor> rounds = Stroke2ImgBaselines.iterativeSdedit(sd, pk, y, (BaselineSettings) settings, List.of(progress), null);
                            images.add(rounds.get(rounds.size() - 1));
                        }
                    }
                }
            }
        }
        double seconds = (System.nanoTime() - started) / 1e9;
        Stroke2ImgRecord record = new Stroke2ImgRecord(request, m, m.startsWith("gradop+") ? preset : null, settings,
                regions.isEmpty() ? null : regions, regionStrength, regionTolerance, painting, background);
        for (Path p : GenerateSupport.write(images, request, sd, options.out, record::forImage)) System.out.println("wrote " + p);
        if (toy != null) {   // the generated painting is input the user has not seen: write it beside the result
            Path p = GenerateSupport.sibling(options.out, "-painting");
            Images.writePng(toy.image(), p);
            System.out.println("wrote " + p + " (the painting; prompt: " + promptText + ")");
        }
        long peak = EngineBenchmark.peakRssBytes();
        System.out.printf(Locale.ROOT, "%s: %.1f s; peak memory (resident, whole process): %s%n", m, seconds,
                peak < 0 ? "unknown" : String.format(Locale.ROOT, "%.2f GB", peak / 1e9));
        return 0;
    }

    /** The method's settings: the preset's defaults, then every option given (an option the method lacks is an error). */
    private Stroke2ImgSettings settings(String m) {
        GradOpParameters given = new GradOpParameters(preset, options.scheduler, options.steps, options.cfg, strength, iterations,
                gradSteps, lr, lambda, lossScale, paintingFunction, blurKernel, blurSigma, medianSize, paletteColours);
        given.painting();   // the painting options are checked first, whatever the method
        switch (m) {
            case "gradop+" -> {
                if (lambda != null) throw new Ldm4j.UsageError("--lambda applies to --method gradop only");
            }
            case "gradop" -> {
                if (iterations != null) throw new Ldm4j.UsageError("--iterations applies to gradop+ and iterative-sdedit, not gradop");
            }
            default -> {
                if (given.hasGradOpOnly()) {
                    throw new Ldm4j.UsageError("--grad-steps, --lr, --lambda, --loss-scale and the painting-function options "
                            + "apply to gradop+ and gradop only");
                }
            }
        }
        return given.toSettings(m);   // an unknown --preset is an IllegalArgumentException: exit 2 as well
    }

    private static void reportLosses(List<LatentOptimizer.Result> iterations) {
        for (int i = 0; i < iterations.size(); i++) {
            LatentOptimizer.Result r = iterations.get(i);
            if (r.losses().length == 0) continue;
            System.out.printf(Locale.ROOT, "  optimisation %d: painting loss %.5f -> %.5f over %d Adam steps%n",
                    i + 1, r.first(), r.last(), r.losses().length);
        }
    }
}
