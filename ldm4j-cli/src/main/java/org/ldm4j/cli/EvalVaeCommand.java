package org.ldm4j.cli;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import org.bytedeco.pytorch.global.torch.ScalarType;
import org.ldm4j.models.vae.AutoencoderKL;
import org.ldm4j.nn.Dtypes;
import org.ldm4j.pipeline.ModelLoader;
import org.ldm4j.toyworld.Scene;
import org.ldm4j.toyworld.ToyClass;
import org.ldm4j.toyworld.eval.FrechetDistance;
import org.ldm4j.toyworld.eval.ImageQuality;
import org.ldm4j.toyworld.eval.ObjectRecall;
import org.ldm4j.toyworld.eval.SegmentationMetrics;
import org.ldm4j.toyworld.eval.ToyWorldFid;
import org.ldm4j.toyworld.eval.ToyWorldSegmenter;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;

/**
 * {@code ldm4j eval vae}: what autoencoders keep of held-out ToyWorld scenes, side by side in one run on the same
 * scenes. A latent model can at best show what its VAE reconstructs, so this is the ceiling every method on top of
 * it works under: PSNR and SSIM of the reconstructions, their ToyWorld-FID, the segmenter's mIoU on them against the
 * scenes' exact maps (the real scenes' row is the segmenter's own error), per-class IoU and recall of the caption's
 * objects. Meant for choosing an autoencoder before training a latent model on it, so it needs no UNet: any latent
 * channel count, any checkpoint exported from {@code train vae}.
 */
@Command(name = "vae", mixinStandardHelpOptions = true,
        description = "Autoencoders side by side on held-out ToyWorld scenes: PSNR, SSIM, ToyWorld-FID, mIoU and per-class IoU/recall of the reconstructions.",
        footer = {"", "Example:", "  ldm4j eval vae --vae models/toyworld-ldm/vae --vae runs/vae8-export --n 128 --json runs/eval/vae.json"})
final class EvalVaeCommand extends EvalCommand.Common implements Callable<Integer> {
    @Option(names = "--vae", required = true, description = "A VAE folder (config.json + weights); repeat to compare several.") List<Path> vaes;
    @Option(names = "--n", defaultValue = "128", description = "Held-out test scenes (default: ${DEFAULT-VALUE}).") int n;
    @Option(names = "--size", defaultValue = "64", description = "Scene size in pixels (default: ${DEFAULT-VALUE}).") int size;

    @Override
    public Integer call() throws Exception {
        if (n < 2) throw new Ldm4j.UsageError("--n must be >= 2 (ToyWorld-FID needs a covariance), got " + n);
        if (size < 8 || size % 8 != 0) throw new Ldm4j.UsageError("--size must be a positive multiple of 8, got " + size);
        List<AutoencoderKL> autoencoders = new ArrayList<>();
        for (Path folder : vaes) autoencoders.add(load(folder));
        ToyWorldSegmenter segmenter = loadSegmenter();
        List<Scene> scenes = ToyWorldFid.scenes(ToyWorldFid.TEST_SEEDS, n, size);
        ToyWorldFid fid = new ToyWorldFid(segmenter);
        // The FID reference is as many other test scenes, so every row has the same sample size and bias.
        FrechetDistance.Statistics reference = fid.realStatistics(ToyWorldFid.TEST_SEEDS + n, n, size);
        List<String> captions = scenes.stream().map(Scene::caption).toList();
        List<int[]> real = scenes.stream().map(Scene::rgb).toList();

        List<String> labels = new ArrayList<>(List.of("real scenes"));
        List<List<int[]>> imageSets = new ArrayList<>(List.of(real));
        for (int v = 0; v < autoencoders.size(); v++) {
            labels.add(vaes.get(v).toString());
            imageSets.add(EvalCommand.OfModel.vaeReconstructions(autoencoders.get(v), scenes));
        }

        ObjectRecall recall = new ObjectRecall();
        ObjectNode report = EvalCommand.JSON.createObjectNode().put("metric", "toyworld_vae").put("samples", n).put("size", size);
        ArrayNode rows = report.putArray("rows");
        System.out.printf(Locale.ROOT, "%-40s %8s %7s %8s %7s %7s%n", "images (" + n + " test scenes)", "PSNR", "SSIM", "FID", "mIoU", "recall");
        List<double[]> classIous = new ArrayList<>();
        List<Map<ToyClass, int[]>> classRecalls = new ArrayList<>();
        for (int s = 0; s < imageSets.size(); s++) {
            List<int[]> images = imageSets.get(s);
            int[][] maps = segmenter.classMaps(images, size, size);
            SegmentationMetrics metrics = new SegmentationMetrics(ToyClass.count());
            double psnr = 0, ssim = 0;
            for (int i = 0; i < n; i++) {
                metrics.add(scenes.get(i).seg(), maps[i]);
                if (s > 0) {
                    psnr += ImageQuality.psnr(images.get(i), real.get(i), null) / n;
                    ssim += ImageQuality.ssim(images.get(i), real.get(i), size, size, null) / n;
                }
            }
            Map<ToyClass, int[]> byClass = recall.byClass(captions, maps);
            double meanRecall = meanRecall(byClass);
            double fidValue = fid.fid(images, size, size, reference);
            double[] iou = metrics.iou();
            classIous.add(iou);
            classRecalls.add(byClass);
            ObjectNode row = rows.addObject().put("images", labels.get(s)).put("fid", fidValue).put("miou", metrics.meanIou())
                    .put("recall", meanRecall);
            if (s > 0) row.put("psnr", psnr).put("ssim", ssim);
            ObjectNode perClass = row.putObject("by_class");
            for (ToyClass c : ToyClass.values()) {
                ObjectNode cls = perClass.putObject(c.label()).put("iou", iou[c.ordinal()]);
                int[] counts = byClass.get(c);
                if (counts != null && counts[0] > 0) cls.put("recall", counts[1] / (double) counts[0]);
            }
            System.out.printf(Locale.ROOT, "%-40s %8s %7s %8.3f %7.3f %7.3f%n", shorten(labels.get(s)),
                    s == 0 ? "" : String.format(Locale.ROOT, "%.2f", psnr), s == 0 ? "" : String.format(Locale.ROOT, "%.4f", ssim),
                    fidValue, metrics.meanIou(), meanRecall);
        }

        // Per class: which objects an autoencoder loses (IoU against the exact maps; recall over the captions naming it).
        StringBuilder header = new StringBuilder(String.format(Locale.ROOT, "%-10s", "IoU/recall"));
        for (int s = 0; s < labels.size(); s++) header.append(String.format(Locale.ROOT, " %15s", s == 0 ? "real" : "vae " + s));
        System.out.println(header);
        for (ToyClass c : ToyClass.values()) {
            StringBuilder line = new StringBuilder(String.format(Locale.ROOT, "%-10s", c.label()));
            for (int s = 0; s < labels.size(); s++) {
                int[] counts = classRecalls.get(s).get(c);
                String r = counts == null || counts[0] == 0 ? "-" : String.format(Locale.ROOT, "%.2f", counts[1] / (double) counts[0]);
                line.append(String.format(Locale.ROOT, " %9.3f/%-5s", classIous.get(s)[c.ordinal()], r));
            }
            System.out.println(line);
        }
        for (int v = 0; v < vaes.size(); v++) System.out.printf("vae %d: %s%n", v + 1, vaes.get(v));
        System.out.println("mIoU and IoU: the segmenter's maps of the images against the scenes' exact maps; recall: the share of"
                + " (scene, object its caption names) pairs in which the segmenter finds the object");
        writeJson(report);
        return 0;
    }

    private AutoencoderKL load(Path folder) {
        try {
            return ModelLoader.loadVae(folder, Dtypes.device("cpu"), ScalarType.Float);
        } catch (IOException | RuntimeException e) {
            throw new Ldm4j.UsageError("cannot load VAE '" + folder + "': " + e.getMessage());
        }
    }

    private static double meanRecall(Map<ToyClass, int[]> byClass) {
        int named = 0, found = 0;
        for (int[] counts : byClass.values()) { named += counts[0]; found += counts[1]; }
        return named == 0 ? Double.NaN : found / (double) named;
    }

    private static String shorten(String label) {
        return label.length() <= 40 ? label : "..." + label.substring(label.length() - 37);
    }
}
