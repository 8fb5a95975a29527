package org.ldm4j.cli;

import com.fasterxml.jackson.databind.node.ObjectNode;
import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.NoGradGuard;
import org.ldm4j.image.Images;
import org.ldm4j.nn.Dtypes;
import org.ldm4j.pipeline.GenerationRequest;
import org.ldm4j.pipeline.ModelLoader;
import org.ldm4j.pipeline.StableDiffusion;
import org.ldm4j.pipeline.Txt2Img;
import org.ldm4j.toyworld.PaintingOptions;
import org.ldm4j.toyworld.Scene;
import org.ldm4j.toyworld.ToyClass;
import org.ldm4j.toyworld.eval.EvalImages;
import org.ldm4j.toyworld.eval.FrechetDistance;
import org.ldm4j.toyworld.eval.ImageQuality;
import org.ldm4j.toyworld.eval.ObjectRecall;
import org.ldm4j.toyworld.eval.ToyWorldFid;
import org.ldm4j.toyworld.eval.ToyWorldSegmenter;
import me.tongfei.progressbar.ProgressBar;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Locale;
import java.util.concurrent.Callable;

/**
 * {@code ldm4j eval model}: the quality bars of a ToyWorld text-to-image model (the embedded default model's issue),
 * all measured in one run on held-out test scenes:
 * <ul>
 *   <li>VAE reconstruction PSNR (bar: at least 28 dB);</li>
 *   <li>text2img on the scenes' captions (DDIM, 25 steps, guidance 5): caption object recall (bar: 0.75) and
 *       ToyWorld-FID, against the FID of the VAE's reconstructions of the same scenes (bar: at most 2x), since the
 *       decoder bounds what any latent model can reach;</li>
 *   <li>texture: the mean {@link ImageQuality#textureEnergy} of generated images relative to real scenes, next to the
 *       flat stroke paintings of the same scenes (a model that paints flat regions scores near the paintings);</li>
 *   <li>speed: seconds per image and images per second at the evaluated settings (bar: under 1 s per 64x64 image at
 *       25 steps on the 2-core CPU), after one untimed warm-up image.</li>
 * </ul>
 * Generated images and reconstructions are compared with as many <em>other</em> real test scenes (the FID reference),
 * so both FIDs have the same sample size and the same bias.
 */
@Command(name = "model", mixinStandardHelpOptions = true,
        description = "Quality bars of a ToyWorld text-to-image model: VAE PSNR, text2img recall, FID vs VAE-reconstruction FID, texture, speed.",
        footer = {"", "Example:", "  ldm4j eval model --model models/toyworld-ldm8 --n 128 --json runs/eval/model.json"})
final class EvalModelCommand extends EvalCommand.OfModel implements Callable<Integer> {
    static final double PSNR_BAR = 28, RECALL_BAR = 0.75, FID_RATIO_BAR = 2, SECONDS_BAR = 1;

    @Option(names = "--model", defaultValue = "models/toyworld-ldm8", description = "Diffusers folder of the model (default: ${DEFAULT-VALUE}).") String model;
    @Option(names = "--n", defaultValue = "128", description = "Held-out test scenes (captions) (default: ${DEFAULT-VALUE}).") int n;
    @Option(names = "--seed", defaultValue = "0", description = "Noise seed of the first caption (caption i uses seed + i).") long seed;
    @Option(names = "--steps", defaultValue = "25", description = "DDIM steps (default: ${DEFAULT-VALUE}).") int steps;
    @Option(names = "--cfg", defaultValue = "5", description = "Classifier-free guidance scale (default: ${DEFAULT-VALUE}).") double cfg;
    @Option(names = "--scheduler", defaultValue = "ddim", description = "Sampler (default: ${DEFAULT-VALUE}).") String scheduler;
    @Option(names = "--device", defaultValue = "cpu") String device;
    @Option(names = "--dtype", defaultValue = "fp32") String dtype;
    @Option(names = "--save", description = "Also write the generated images here (PNG with parameters).") java.nio.file.Path save;

    @Override
    public Integer call() throws Exception {
        if (n < 2) throw new Ldm4j.UsageError("--n must be >= 2 (ToyWorld-FID needs a covariance), got " + n);
        if (steps < 1) throw new Ldm4j.UsageError("--steps must be >= 1, got " + steps);
        ToyWorldSegmenter segmenter = loadSegmenter();
        StableDiffusion sd = loadModel(model, device, Dtypes.parse(dtype));
        int size = sd.defaultSize();
        List<Scene> scenes = ToyWorldFid.scenes(ToyWorldFid.TEST_SEEDS, n, size);
        ToyWorldFid fid = new ToyWorldFid(segmenter);
        FrechetDistance.Statistics reference = fid.realStatistics(ToyWorldFid.TEST_SEEDS + n, n, size);

        // VAE: reconstructions of the test scenes (posterior mode, as the VAE's own validation).
        List<int[]> reconstructions = vaeReconstructions(sd.vae, scenes);
        double psnr = 0;
        for (int i = 0; i < n; i++) psnr += ImageQuality.psnr(reconstructions.get(i), scenes.get(i).rgb(), null);
        psnr /= n;

        // text2img on the held-out captions.
        ObjectRecall recall = new ObjectRecall();
        List<int[]> generated = new ArrayList<>();
        generate(sd, scenes.get(0).caption(), seed, size, null);   // untimed warm-up: first calls allocate and fill caches
        long started = System.nanoTime();
        try (ProgressBar bar = progress("txt2img", n, "images")) {
            for (int i = 0; i < n; i++) {
                generated.add(generate(sd, scenes.get(i).caption(), seed + i, size, save == null ? null : save.resolve(String.format(Locale.ROOT, "%05d.png", i))));
                bar.step();
            }
        }
        double secondsPerImage = (System.nanoTime() - started) / 1e9 / n;
        if (save != null) writeGrid(generated, scenes, size);
        int[][] maps = segmenter.classMaps(generated, size, size);
        double recallSum = 0;
        int named = 0;
        for (int i = 0; i < n; i++) {
            ObjectRecall.Result r = recall.recall(scenes.get(i).caption(), maps[i]);
            if (!Double.isNaN(r.recall())) { recallSum += r.recall(); named++; }
        }
        double meanRecall = named == 0 ? Double.NaN : recallSum / named;

        List<int[]> real = scenes.stream().map(Scene::rgb).toList();
        List<int[]> paintings = scenes.stream().map(s -> s.painting(s.seed(), PaintingOptions.defaults()).rgb()).toList();
        double fidGenerated = fid.fid(generated, size, size, reference);
        double fidRecon = fid.fid(reconstructions, size, size, reference);
        double fidReal = fid.fid(real, size, size, reference);
        double fidPaintings = fid.fid(paintings, size, size, reference);
        double texReal = texture(real, size), texGen = texture(generated, size), texRecon = texture(reconstructions, size),
                texPaint = texture(paintings, size);

        System.out.printf(Locale.ROOT, "%-34s %10s %10s %8s%n", "figure", "value", "bar", "");
        row("VAE reconstruction PSNR (dB)", psnr, ">= 28", psnr >= PSNR_BAR);
        row("text2img object recall", meanRecall, ">= 0.75", meanRecall >= RECALL_BAR);
        row("ToyWorld-FID text2img", fidGenerated, "", null);
        row("ToyWorld-FID VAE reconstructions", fidRecon, "", null);
        row("FID ratio text2img / reconstruction", fidGenerated / fidRecon, "<= 2", fidGenerated / fidRecon <= FID_RATIO_BAR);
        row("ToyWorld-FID real (sampling floor)", fidReal, "", null);
        row("ToyWorld-FID flat paintings", fidPaintings, "", null);
        row("texture text2img / real", texGen / texReal, "", null);
        row("texture reconstruction / real", texRecon / texReal, "", null);
        row("texture paintings / real", texPaint / texReal, "", null);
        row("seconds per image", secondsPerImage, "< 1", secondsPerImage < SECONDS_BAR);
        System.out.printf(Locale.ROOT, "%.2f images/s; %d test scenes from seed %d (%dx%d), %s %d steps, guidance %s, FID against %d other test scenes%n",
                1 / secondsPerImage, n, ToyWorldFid.TEST_SEEDS, size, size, scheduler, steps, trim(cfg), n);

        // Which objects go missing, and where: an object the VAE cannot reconstruct, the LDM cannot draw either.
        List<String> captions = scenes.stream().map(Scene::caption).toList();
        Map<ToyClass, int[]> realByClass = recall.byClass(captions, segmenter.classMaps(real, size, size));
        Map<ToyClass, int[]> reconByClass = recall.byClass(captions, segmenter.classMaps(reconstructions, size, size));
        Map<ToyClass, int[]> genByClass = recall.byClass(captions, maps);
        System.out.printf(Locale.ROOT, "%-10s %7s %8s %10s %9s%n", "recall by", "named", "real", "VAE recon", "text2img");
        ObjectNode classes = EvalCommand.JSON.createObjectNode();
        for (Map.Entry<ToyClass, int[]> e : realByClass.entrySet()) {
            int naming = e.getValue()[0];
            double r = e.getValue()[1] / (double) naming, v = reconByClass.get(e.getKey())[1] / (double) naming,
                    g = genByClass.get(e.getKey())[1] / (double) naming;
            System.out.printf(Locale.ROOT, "%-10s %7d %8.2f %10.2f %9.2f%n", e.getKey().label(), naming, r, v, g);
            classes.putObject(e.getKey().label()).put("named", naming).put("real", r).put("vae_reconstruction", v).put("text2img", g);
        }

        ObjectNode report = EvalCommand.JSON.createObjectNode().put("metric", "toyworld_model").put("model", model).put("vae", vaeSpec()).put("samples", n)
                .put("size", size).put("steps", steps).put("cfg", cfg).put("scheduler", scheduler).put("seed", seed)
                .put("vae_psnr", psnr).put("fid_text2img", fidGenerated).put("fid_vae_reconstruction", fidRecon)
                .put("fid_ratio", fidGenerated / fidRecon).put("fid_real", fidReal).put("fid_paintings", fidPaintings)
                .put("texture_real", texReal).put("texture_text2img", texGen).put("texture_reconstruction", texRecon)
                .put("texture_paintings", texPaint).put("seconds_per_image", secondsPerImage).put("images_per_second", 1 / secondsPerImage);
        if (Double.isNaN(meanRecall)) report.putNull("object_recall"); else report.put("object_recall", meanRecall);
        report.set("recall_by_class", classes);
        writeJson(report);
        return 0;
    }

    /** One image; written to {@code file} (PNG with its parameters, so {@code eval recall} can re-read the prompt) unless null. */
    private int[] generate(StableDiffusion sd, String caption, long imageSeed, int size, java.nio.file.Path file) throws IOException {
        GenerationRequest request = new GenerationRequest("txt2img", model, caption, "", size, size, steps, cfg, scheduler,
                imageSeed, 1, 0, 0, null, null);
        java.awt.image.BufferedImage image;
        try (PointerScope scope = new PointerScope(); NoGradGuard g = new NoGradGuard()) {
            image = Images.toImage(Txt2Img.run(sd, request, List.of(), null).get(0));
        }
        if (file != null) {
            java.nio.file.Files.createDirectories(file.toAbsolutePath().getParent());
            org.ldm4j.image.PngParameters.write(file, image, GenerateSupport.a1111(request, sd), request);
        }
        return EvalImages.rgb(image);
    }

    /**
     * save/grid.png: the first (up to) 16 held-out captions, each as a pair (real test scene | generated image), in
     * rows of four pairs; save/grid.txt lists the captions in grid order.
     */
    private void writeGrid(List<int[]> generated, List<Scene> scenes, int size) throws IOException {
        int count = Math.min(16, generated.size());
        List<java.awt.image.BufferedImage> tiles = new ArrayList<>();
        StringBuilder captions = new StringBuilder();
        for (int i = 0; i < count; i++) {
            tiles.add(scenes.get(i).image());
            java.awt.image.BufferedImage g = new java.awt.image.BufferedImage(size, size, java.awt.image.BufferedImage.TYPE_INT_RGB);
            g.setRGB(0, 0, size, size, generated.get(i), 0, size);
            tiles.add(g);
            captions.append(i + 1).append(". ").append(scenes.get(i).caption()).append('\n');
        }
        Images.writePng(org.ldm4j.image.ImageGrid.of(tiles, 8), save.resolve("grid.png"));
        org.ldm4j.image.AtomicFiles.write(save.resolve("grid.txt"), captions.toString().getBytes(java.nio.charset.StandardCharsets.UTF_8));
        System.out.println("wrote " + save.resolve("grid.png") + " (pairs: real test scene | generated from its caption) and grid.txt");
    }


    private static double texture(List<int[]> images, int size) {
        double sum = 0;
        for (int[] rgb : images) sum += ImageQuality.textureEnergy(rgb, size, size);
        return sum / images.size();
    }

    private static void row(String label, double value, String bar, Boolean pass) {
        System.out.printf(Locale.ROOT, "%-34s %10.4f %10s %8s%n", label, value, bar, pass == null ? "" : pass ? "PASS" : "FAIL");
    }

    private static String trim(double v) { return v == Math.rint(v) ? String.valueOf((long) v) : String.valueOf(v); }
}
