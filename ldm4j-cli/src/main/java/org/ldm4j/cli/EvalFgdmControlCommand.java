package org.ldm4j.cli;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.InferenceMode;
import org.bytedeco.pytorch.Tensor;
import org.ldm4j.image.Images;
import org.ldm4j.methods.fgdm.ClassMap;
import org.ldm4j.methods.fgdm.FactorGraphRequest;
import org.ldm4j.methods.fgdm.FactorGraphResult;
import org.ldm4j.methods.fgdm.FactorGraphSampler;
import org.ldm4j.methods.fgdm.FgdmFolder;
import org.ldm4j.methods.fgdm.SegmentationMaps;
import org.ldm4j.toyworld.Scene;
import org.ldm4j.toyworld.ToyClass;
import org.ldm4j.toyworld.eval.EvalImages;
import org.ldm4j.toyworld.eval.SegmentationMetrics;
import org.ldm4j.toyworld.eval.ToyWorldSegmenter;
import org.ldm4j.train.toyworld.ToyWorldMaps;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

import java.nio.file.Path;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.Callable;

/**
 * {@code ldm4j eval fgdm control}: how closely the image factor alone follows a segmentation map, with the
 * condition factors out of the picture. Each held-out test scene's exact class map, at the size the segmentation
 * factor generates, is given to the graph as the segmentation (clean palette colours, as an edited map is given);
 * the image factor draws the image from it and the scene's caption; the agreement is the mIoU between that map
 * and the evaluator's segmentation of the image (the fidelity table's agreement). Two rows bound it on the same
 * scenes and seeds: the <b>floor</b>, the image factor with its map switched off (the null, black hint: what the
 * caption alone explains of the layout), and the <b>ceiling</b>, the real rendered scene against its own map at
 * that size (the evaluator's and the map resolution's own error). A fourth row passes the real scene through the base
 * model's VAE (posterior mode, encode then decode): every image the image factor draws is a decode of a latent, so
 * what the VAE loses of a scene's objects bounds what any latent image factor can show the segmenter. A fifth row
 * gives the exact map as latents (encoded, posterior mean): the graph decodes and reads it back as it reads a
 * generated map (map decoder, palette tolerance, the hint's fill), and the agreement is taken against that read-back
 * map, as the fidelity table takes it against a generated one. It separates what the map's trip through the
 * autoencoder costs from what the segmentation factor's shapes cost; the line under the table says how many labelled
 * pixels of the exact map the read-back keeps.
 */
@Command(name = "control", mixinStandardHelpOptions = true,
        description = "The image factor's agreement with exact ToyWorld maps (mIoU map vs the evaluator's segmentation of the image), "
                + "between a floor (map switched off) and a ceiling (the real scene).",
        footer = {"", "Example: ldm4j eval fgdm control --model models/toyworld-fgdm --n 50"})
final class EvalFgdmControlCommand extends EvalFgdmCommand.Base implements Callable<Integer> {
    @Option(names = "--model", description = "FG-DM folder (default models/toyworld-fgdm).") Path model;
    @Option(names = "--map-size", description = "Side of the exact maps given to the image factor (default: the side the "
            + "segmentation factor generates; the image's side gives the maps at full size).") Integer mapSizeOption;

    private static final String[] ROWS = {"map switched off (floor)", "image factor, exact map", "real scene (ceiling)",
            "real scene through the VAE", "exact map via its latents"};

    @Override
    public Integer call() throws Exception {
        int count = count(50, 1);
        ToyWorldSegmenter segmenter = loadSegmenter();
        EvalFgdmCommand.Loaded m = load(model);
        int size = m.size(), mapSize = mapSizeOption != null ? mapSizeOption : m.graph().factor(m.seg()).settings().width();
        if (mapSize < 1 || mapSize > size) throw new CommandLine.ParameterException(new CommandLine(this), "--map-size must be 1.." + size + ", got " + mapSize);
        List<Scene> scenes = FgdmEvaluation.heldOut(count, 0, size, palette);
        SegmentationMetrics[] metrics = new SegmentationMetrics[ROWS.length];
        for (int r = 0; r < ROWS.length; r++) metrics[r] = new SegmentationMetrics(ToyClass.count());
        double millis = 0;
        long keptLabels = 0, labelled = 0;
        try (InferenceMode ignored = new InferenceMode(); me.tongfei.progressbar.ProgressBar bar = progress("control", scenes.size(), "scenes")) {
            for (int i = 0; i < scenes.size(); i++) {
                try (PointerScope scope = new PointerScope()) {
                    Scene scene = scenes.get(i);
                    long s = seed + i;
                    ClassMap map = ToyWorldMaps.classes(scene, mapSize);
                    ClassMap big = map.resizeNearest(size, size);
                    FactorGraphResult off = FactorGraphSampler.run(m.graph(), new FactorGraphRequest(scene.caption(), s,
                            FactorGraphRequest.Mode.SEQUENTIAL, Set.of(m.seg()), Map.of()), null, null);
                    FgdmEvaluation.addAgreement(metrics[0], big, segment(segmenter, off, m));
                    long start = System.nanoTime();
                    FactorGraphResult given = FactorGraphSampler.run(m.graph(), new FactorGraphRequest(scene.caption(), s,
                            FactorGraphRequest.Mode.SEQUENTIAL, Set.of(), Map.of(m.seg(), new FactorGraphRequest.Given(null,
                            SegmentationMaps.toImageTensor(map, palette)))), null, null);
                    millis += (System.nanoTime() - start) / 1e6;
                    FgdmEvaluation.addAgreement(metrics[1], big, segment(segmenter, given, m));
                    FgdmEvaluation.addAgreement(metrics[2], big, segmenter.classMaps(List.of(scene.rgb()), size, size)[0]);
                    FgdmEvaluation.addAgreement(metrics[3], big, segmenter.classMaps(vaeReconstructions(m.graph().sd.vae, List.of(scene)), size, size)[0]);
                    Tensor latents = FactorGraphSampler.encodeMean(m.graph().sd, SegmentationMaps.toImageTensor(map, palette));
                    FactorGraphResult viaLatents = FactorGraphSampler.run(m.graph(), new FactorGraphRequest(scene.caption(), s,
                            FactorGraphRequest.Mode.SEQUENTIAL, Set.of(), Map.of(m.seg(), new FactorGraphRequest.Given(latents, null))), null, null);
                    ClassMap readBack = SegmentationMaps.decode(viaLatents.decoded(m.seg()), palette, FgdmFolder.tolerance(palette));
                    if (readBack.width() != map.width() || readBack.height() != map.height()) readBack = readBack.resizeNearest(map.width(), map.height());
                    for (int p = 0; p < map.labels().length; p++) {
                        if (map.labels()[p] == ClassMap.UNLABELED) continue;
                        labelled++;
                        if (readBack.labels()[p] == map.labels()[p]) keptLabels++;
                    }
                    FgdmEvaluation.addAgreement(metrics[4], readBack.resizeNearest(size, size), segment(segmenter, viaLatents, m));
                }
                bar.step();
            }
        }
        ObjectNode report = report("control", count).put("model", m.folder().folder.toString()).put("size", size).put("map_size", mapSize);
        ArrayNode rows = report.putArray("rows");
        System.out.printf("%-28s %8s %15s%n", "row", "mIoU", "pixel accuracy");
        for (int r = 0; r < ROWS.length; r++) {
            System.out.printf(Locale.ROOT, "%-28s %8.4f %15.4f%n", ROWS[r], metrics[r].meanIou(), metrics[r].pixelAccuracy());
            ObjectNode row = rows.addObject().put("row", ROWS[r]).put("miou", metrics[r].meanIou()).put("pixel_accuracy", metrics[r].pixelAccuracy());
            ObjectNode perClass = row.putObject("iou_per_class");
            double[] iou = metrics[r].iou();
            for (int c = 0; c < iou.length; c++) if (!Double.isNaN(iou[c])) perClass.put(palette.name(c), iou[c]);
        }
        StringBuilder classes = new StringBuilder("IoU per class (image factor, exact map | real scene through the VAE | real scene):");
        double[] factor = metrics[1].iou(), real = metrics[2].iou(), vae = metrics[3].iou();
        for (int c = 0; c < factor.length; c++) {
            if (!Double.isNaN(factor[c]) || !Double.isNaN(real[c])) {
                classes.append(String.format(Locale.ROOT, " %s %.2f|%.2f|%.2f", palette.name(c), factor[c], vae[c], real[c]));
            }
        }
        System.out.println(classes);
        double readBackKeeps = labelled == 0 ? Double.NaN : (double) keptLabels / labelled;
        report.put("seconds_per_image", millis / 1000.0 / count).put("read_back_keeps", readBackKeeps);
        System.out.printf(Locale.ROOT, "the exact map read back from its latents keeps the class of %.4f of its pixels%n", readBackKeeps);
        System.out.printf(Locale.ROOT, "%d held-out test scenes; maps %dx%d resized nearest to %dx%d; image factor %.3f s/image%n",
                count, mapSize, mapSize, size, size, millis / 1000.0 / count);
        writeJson(report);
        return 0;
    }

    private static int[] segment(ToyWorldSegmenter segmenter, FactorGraphResult r, EvalFgdmCommand.Loaded m) {
        return segmenter.classMaps(List.of(EvalImages.rgb(Images.toImage(r.decoded(m.image())))), m.size(), m.size())[0];
    }
}
