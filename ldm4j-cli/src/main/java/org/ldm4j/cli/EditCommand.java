package org.ldm4j.cli;

import com.fasterxml.jackson.annotation.JsonInclude;
import org.bytedeco.pytorch.InferenceMode;
import org.bytedeco.pytorch.Tensor;
import org.ldm4j.image.Images;
import org.ldm4j.image.PngParameters;
import org.ldm4j.methods.blended.BackgroundPsnr;
import org.ldm4j.methods.blended.BackgroundRepair;
import org.ldm4j.methods.blended.BlendSettings;
import org.ldm4j.methods.blended.BlendedLatentDiffusion;
import org.ldm4j.methods.blended.ClipEditScore;
import org.ldm4j.methods.blended.EditResult;
import org.ldm4j.methods.blended.EditScorer;
import org.ldm4j.methods.blended.Masks;
import org.ldm4j.methods.blended.Resampling;
import org.ldm4j.pipeline.GenerationRequest;
import org.ldm4j.pipeline.ProgressCounter;
import org.ldm4j.pipeline.ProgressHook;
import org.ldm4j.pipeline.StableDiffusion;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

import java.awt.image.BufferedImage;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;

@Command(name = "edit", mixinStandardHelpOptions = true,
        description = "Text-driven local edit inside a mask (Blended Latent Diffusion): white mask pixels are "
                + "regenerated from the prompt, the rest is kept; several samples are ranked, the best is repaired.",
        footer = {"", "Writes every sample as OUT-<k>.png (seed + k) and the best, repaired, as OUT.",
                "", "Examples:",
                "  ldm4j edit --image lake.png --mask mask.png --prompt \"a red boat\" --n 4 --out boat.png",
                "  ldm4j edit --image photo.png --mask stroke.png --prompt \"a necklace\" --dilate 3 --shrink-until 38 --out n.png",
                "  ldm4j edit --preset official --model stabilityai/stable-diffusion-2-1-base --image i.png --mask m.png -p \"a hat\" --steps 50 --cfg 7.5 --out o.png"})
final class EditCommand implements Callable<Integer> {
    @Mixin GenerationOptions options;
    @Mixin GuideOptions steering;
    @Option(names = "--guide-class", description = "With --guide: the class to steer toward inside the mask, by the guide's class names "
            + "(ToyWorld's, e.g. boat; default: the one ToyWorld object the prompt names).")
    String guideClass;

    @Option(names = "--image", required = true, description = "The image to edit (PNG/JPEG); its size is the output size.")
    Path image;

    @Option(names = "--mask", required = true, description = "PNG of the image's size, white = the region to change.")
    Path mask;

    @Option(names = "--preset", defaultValue = "recommended",
            description = "recommended (the paper's Algorithm 1 + repair) or official (the diffusers SD2 script exactly).")
    String preset;

    @Option(names = "--blend-start", description = "Fraction of the steps skipped before blending starts, in [0, 1) "
            + "(recommended: 0, official: 0.25).")
    Double blendStart;

    @Option(names = "--start", description = "source (noised input latents) or noise (pure noise, as the SD2 script).")
    String start;

    @Option(names = "--rank-with", defaultValue = "background", description = "How the --n samples are ranked: background "
            + "(PSNR outside the mask, no extra weights; the default) or clip (the official code's ranking: CLIP's cosine between "
            + "the prompt and the sample with its background blacked out; weights from --clip).")
    String rankWith;

    @Option(names = "--clip", defaultValue = ClipEditScore.OFFICIAL, description = "CLIP for --rank-with clip: a transformers "
            + "folder or a Hugging Face id (default: ${DEFAULT-VALUE}, the official code's ViT-B/16).")
    String clip;

    @Option(names = "--repair-steps", description = "Adam steps of the decoder repair of the best sample (default 75).")
    Integer repairSteps;

    @Option(names = "--repair-weight", description = "Background weight of the repair against 1 for the edit (recommended preset: 4 "
            + "with per-region means; official: 100 with means over the image).")
    Double repairWeight;

    @Option(names = "--repair-averaging", description = "image (each error a mean over the whole image, the official) or region "
            + "(the edit's error a mean over the mask, the background's over the rest: a small edit keeps its object; the recommended preset's).")
    String repairAveraging;

    @Option(names = "--no-repair", description = "Skip the background repair.")
    boolean noRepair;

    @Option(names = "--no-pixel-blend", description = "Do not paste the input pixels back outside the mask at the end.")
    boolean noPixelBlend;

    @Option(names = "--dilate", defaultValue = "0", description = "Thin masks: blend with masks dilated by K squares early, then shrink.")
    int dilate;

    @Option(names = "--mask-attention", split = ",", description = "Bias the cross-attention toward the prompt inside the mask with this "
            + "strength w' (ldm4j's addition; 0 = off). Several (0,2) are cycled over the samples, which --samples then ranks. The recommended "
            + "preset alternates 0 and 2, best when replacing an object; to add an object into an empty area give 2 (on the ToyWorld model "
            + "0.85 of additions against 0.78, but 0.63 of replacements against 0.71).")
    List<Double> maskAttention;

    @Option(names = "--zoom", description = "Small masks: edit a box this many times the mask's size, enlarged to the image size, "
            + "and shrink the result back (ldm4j's addition; 0 = off, the default; e.g. 3).")
    Double zoom;

    @Option(names = "--resample", defaultValue = "1", description = "RePaint's resampling: run each of the first steps this many "
            + "times, noising the blended latent back up between runs, so the inside is drawn next to the true background "
            + "(costs up to that many times the steps; default: 1, off).")
    int resample;

    @Option(names = "--resample-until", defaultValue = "0.5", description = "Fraction of the steps --resample applies to, from the "
            + "first (default: ${DEFAULT-VALUE}).")
    double resampleUntil;

    @Option(names = "--shrink-until", description = "Step index from which the true mask is used (default: K + 1 equal parts).")
    Integer shrinkUntil;

    @Option(names = "--mask-downsampling", description = "nearest-centre (PIL, default), nearest-top-left, area or max "
            + "(max keeps strokes thinner than the VAE factor).")
    String downsampling;

    @Override
    public Integer call() throws Exception {
        options.requireText("an edit draws the masked region from its text; say what to put there (e.g. --prompt \"a red boat\")");
        for (Path p : List.of(image, mask)) Ldm4j.requireFile(p == image ? "--image" : "--mask", p);
        GenerateSupport.checkOutputs(options.out, GenerateSupport.editOutputFiles(options.out, options.count));
        Ranking ranking = Ldm4j.enumOption(Ranking.class, "--rank-with", rankWith);
        BlendSettings settings = settings();
        BufferedImage img;
        Tensor m;
        try {
            img = Images.readImage(image);
            m = Images.readMask(mask);
        } catch (IOException e) {
            throw new Ldm4j.UsageError(e.getMessage());
        }
        if (m.size(3) != img.getWidth() || m.size(2) != img.getHeight()) {
            throw new Ldm4j.UsageError("mask " + mask + " is " + m.size(3) + "x" + m.size(2) + " but image " + image + " is "
                    + img.getWidth() + "x" + img.getHeight() + ": they must have the same size");
        }
        if (Masks.isEmpty(m)) throw new Ldm4j.UsageError("mask " + mask + " is empty (all black): paint the region to change white");
        int wantedClass = steering.on() ? guideClass() : -1;
        StableDiffusion sd = GenerateSupport.load(options);
        GenerationRequest request = GenerateSupport.request(options, sd, "edit", null, image.toString(),
                img.getWidth(), img.getHeight());
        if (img.getWidth() != request.width() || img.getHeight() != request.height()) {
            throw new Ldm4j.UsageError("image is " + img.getWidth() + "x" + img.getHeight() + "; resize it or leave --width/--height out");
        }
        EditScorer scorer = switch (ranking) {
            case BACKGROUND -> new BackgroundPsnr();
            case CLIP -> clipScore(sd);
        };
        EditResult result;
        Tensor x = Images.toTensor(img);
        try (InferenceMode inference = new InferenceMode(); ProgressHook progress = new ProgressHook("edit");
             ProgressCounter repair = new ProgressCounter("repair", settings.repair().steps(), "steps")) {
            BlendedLatentDiffusion bld = new BlendedLatentDiffusion(sd, settings).repairProgress(repair);
            if (wantedClass >= 0) bld = bld.guidedToward(new BlendedLatentDiffusion.Guide(steering.segmenter(), wantedClass, steering.settings()));
            result = bld.edit(request, x, m, scorer, List.of(progress), null);
        }
        for (String w : result.warnings()) System.err.println("ldm4j: warning: " + w);
        write(result, request, settings, sd);
        return 0;
    }

    /** --rank-with's values. */
    enum Ranking { BACKGROUND, CLIP }

    /** The CLIP ranking's model; one that cannot be read or fetched is named, as a --model is. */
    private EditScorer clipScore(StableDiffusion sd) {
        try {
            return ClipEditScore.load(clip, sd.device());
        } catch (IOException e) {
            String why = e.getMessage() != null ? e.getMessage() : e.getClass().getSimpleName();
            throw new Ldm4j.UsageError("cannot load CLIP '" + clip + "' for --rank-with clip: " + why);
        }
    }

    private BlendSettings settings() {
        BlendSettings s = BlendSettings.preset(preset);   // an unknown one is an IllegalArgumentException: exit 2
        if (blendStart != null) s = s.withBlendStart(blendStart);
        if (start != null) s = s.withStart(Ldm4j.enumOption(BlendSettings.Start.class, "--start", start));
        if (downsampling != null) s = s.withDownsampling(Ldm4j.enumOption(Masks.Downsampling.class, "--mask-downsampling", downsampling));
        if (dilate != 0 || shrinkUntil != null) s = s.withShrinking(dilate, shrinkUntil);
        if (noRepair && repairSteps != null) throw new Ldm4j.UsageError("--no-repair and --repair-steps contradict each other");
        if (noRepair && repairWeight != null) throw new Ldm4j.UsageError("--no-repair and --repair-weight contradict each other");
        if (noRepair && repairAveraging != null) throw new Ldm4j.UsageError("--no-repair and --repair-averaging contradict each other");
        if (noRepair) s = s.withRepair(BackgroundRepair.Settings.off());
        if (repairSteps != null) s = s.withRepairOn(repairSteps);
        if (repairWeight != null || repairAveraging != null) {
            s = s.withRepairOn(null);   // either asks for the repair (on in the recommended preset, off in the official one)
            BackgroundRepair.Settings repair = s.repair();
            if (repairWeight != null) repair = repair.withBackgroundWeight(repairWeight);   // <= 0: IllegalArgumentException, exit 2
            if (repairAveraging != null) repair = repair.withAveraging(BackgroundRepair.Averaging.parse(repairAveraging));   // unknown: exit 2
            s = s.withRepair(repair);
        }
        if (noPixelBlend) s = s.withPixelBlend(false);
        if (maskAttention != null) s = s.withMaskAttention(maskAttention);
        if (zoom != null) s = s.withZoom(zoom);   // a negative one is an IllegalArgumentException: exit 2
        Resampling.Settings resampling = new Resampling.Settings(resample, resampleUntil);   // out of range: exit 2
        if (resampling.enabled()) s = s.withResampling(resampling);
        return s;
    }

    /** The class --guide steers toward: --guide-class, or the one ToyWorld object the prompt names. */
    private int guideClass() {
        steering.check();
        org.ldm4j.methods.fgdm.Palette palette = org.ldm4j.train.toyworld.ToyWorldMaps.palette();
        if (guideClass != null) {
            try {
                return palette.classOf(guideClass);
            } catch (IllegalArgumentException e) {
                throw new Ldm4j.UsageError("--guide-class: " + e.getMessage());
            }
        }
        java.util.Set<Integer> named = org.ldm4j.methods.fgdm.ObjectRecall.namedIn(options.prompt, palette, true);
        if (named.size() != 1) {
            throw new Ldm4j.UsageError("--guide needs one class to steer toward; the prompt names " + (named.isEmpty() ? "no ToyWorld object" : named.size() + " objects")
                    + ": give --guide-class (e.g. boat)");
        }
        return named.iterator().next();
    }

    /** What the PNG's request JSON holds: the generation request plus the method's settings and this sample's rank. */
    @JsonInclude(JsonInclude.Include.NON_NULL)
    record EditRequest(GenerationRequest request, String mask, BlendSettings blended, String scorer, Integer rank,
                       Double score, Boolean repaired, Long repairMillis) {}

    private void write(EditResult r, GenerationRequest request, BlendSettings settings, StableDiffusion sd) throws IOException {
        Path out = options.out;
        Path parent = out.toAbsolutePath().getParent();
        if (parent != null) Files.createDirectories(parent);
        String base = out.getFileName().toString().replaceFirst("(?i)\\.png$", "");
        List<Integer> ranking = r.ranking();
        for (int rank = 1; rank <= ranking.size(); rank++) {   // files in seed order (OUT-k = seed + k), printed best first
            int k = ranking.get(rank - 1);
            EditResult.Sample s = r.samples().get(k);
            GenerationRequest single = request.withSeed(s.seed());
            Path p = out.resolveSibling(base + "-" + k + ".png");
            PngParameters.write(p, Images.toImage(s.image()), GenerateSupport.a1111(single, sd),
                    new EditRequest(single, mask.toString(), settings, r.scorer(), rank, finite(s.score()), false, null));
            System.out.printf(Locale.ROOT, "rank %d: seed %d  %s %s  -> %s%n", rank, s.seed(), r.scorer(), fmt(s.score()), p);
        }
        EditResult.Sample best = r.bestSample();
        GenerationRequest single = request.withSeed(best.seed());
        BackgroundRepair.Result repair = r.repair();
        if (repair != null) {
            System.out.printf(Locale.ROOT, "background repair: %d steps in %d ms, loss %.5g -> %.5g%n", repair.losses().size(),
                    repair.millis(), repair.losses().get(0), repair.losses().get(repair.losses().size() - 1));
        }
        PngParameters.write(out, Images.toImage(r.best()), GenerateSupport.a1111(single, sd),
                new EditRequest(single, mask.toString(), settings, r.scorer(), 1, finite(best.score()), repair != null,
                        repair != null ? repair.millis() : null));
        System.out.println("wrote " + out + " (best: seed " + best.seed() + ")");
    }

    private static Double finite(double v) { return Double.isFinite(v) ? v : null; }   // JSON has no infinity

    private static String fmt(double v) { return Double.isInfinite(v) ? "inf" : String.format(Locale.ROOT, "%.2f dB", v); }
}
