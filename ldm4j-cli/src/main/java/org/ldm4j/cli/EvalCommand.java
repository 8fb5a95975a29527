package org.ldm4j.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.NoGradGuard;
import org.bytedeco.pytorch.Tensor;
import org.ldm4j.image.AtomicFiles;
import org.ldm4j.image.Images;
import org.ldm4j.image.PngParameters;
import org.ldm4j.models.vae.AutoencoderKL;
import org.ldm4j.toyworld.Mask;
import org.ldm4j.toyworld.PaintingOptions;
import org.ldm4j.toyworld.Scene;
import org.ldm4j.toyworld.ToyClass;
import org.ldm4j.toyworld.eval.EditLocality;
import org.ldm4j.toyworld.eval.EvalImages;
import org.ldm4j.toyworld.eval.Faithfulness;
import org.ldm4j.toyworld.eval.FrechetDistance;
import org.ldm4j.toyworld.eval.ImageQuality;
import org.ldm4j.toyworld.eval.ObjectRecall;
import org.ldm4j.toyworld.eval.PaintingFunction;
import org.ldm4j.toyworld.eval.ToyWorldFid;
import org.ldm4j.weights.WeightLoader;
import org.ldm4j.nn.Engine;
import org.ldm4j.toyworld.eval.SegmentationMetrics;
import org.ldm4j.toyworld.eval.SegmenterConfig;
import org.ldm4j.toyworld.eval.ToyWorldSegmenter;
import org.ldm4j.train.Trainer;
import org.ldm4j.train.toyworld.SceneBatches;
import org.ldm4j.train.toyworld.SegmenterRecipe;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

import java.awt.image.BufferedImage;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;
import java.util.stream.Stream;

@Command(name = "eval", mixinStandardHelpOptions = true, description = "ToyWorld evaluator: recall, mIoU, ToyWorld-FID, faithfulness, edit locality.",
        subcommands = {EvalCommand.Segmenter.class, EvalCommand.Recall.class, EvalCommand.Fid.class, EvalCommand.Faithful.class,
                EvalCommand.Locality.class, EvalCommand.Sanity.class, EvalModelCommand.class, EvalGradopCommand.class, EvalGradopRegionsCommand.class,
                EvalBlendedCommand.class, EvalFgdmCommand.class, EvalVaeCommand.class})
final class EvalCommand {
    static final ObjectMapper JSON = new ObjectMapper();

    /** The options of evaluations that load a text-to-image model: {@code --vae} swaps its autoencoder (a decoder under test). */
    static class OfModel extends Common {
        @Option(names = "--vae", description = "A VAE folder to use instead of the model's (e.g. a decoder fine-tune under test).") Path vae;

        /** The model under test; a folder/file/id (or --vae) that cannot be loaded is a usage error naming it. */
        org.ldm4j.pipeline.StableDiffusion loadModel(String model, String device, org.bytedeco.pytorch.global.torch.ScalarType dtype) {
            org.ldm4j.pipeline.StableDiffusion sd;
            try {
                sd = org.ldm4j.pipeline.ModelLoader.load(model, org.ldm4j.pipeline.ModelLoader.Options.defaults(),
                        org.ldm4j.nn.Dtypes.device(device), dtype);
            } catch (java.io.IOException e) {
                throw new Ldm4j.UsageError("cannot load model '" + model + "': " + e.getMessage());
            }
            return GenerateSupport.withVae(sd, vae);
        }

        /** --vae as given, for the JSON report (null: the model's own). */
        String vaeSpec() { return vae == null ? null : vae.toString(); }
    }

    /** Options every evaluation shares: the segmenter folder and an optional JSON report. */
    static class Common {
        @Option(names = "--segmenter", defaultValue = "models/toyworld-segmenter", description = "Segmenter folder (default: ${DEFAULT-VALUE}).") Path segmenter;
        @Option(names = "--json", description = "Also write the figures to this JSON file.") Path json;
        @Option(names = "--threads", defaultValue = "1") int threads;

        ToyWorldSegmenter loadSegmenter() throws Exception {
            Engine.threads(threads);
            if (!Files.isDirectory(segmenter)) {
                throw new Ldm4j.UsageError("no segmenter at " + segmenter + " (train one: ldm4j train segmenter --config configs/train/toyworld-segmenter.json --run runs/toyworld-segmenter --export " + segmenter + ")");
            }
            return ToyWorldSegmenter.load(segmenter);
        }

        /**
         * The scenes encoded (posterior mode, as the VAE's own validation) and decoded by the model's VAE, 16 per
         * call, as 8-bit RGB in scene order: what any latent model can at best show of them.
         */
        static List<int[]> vaeReconstructions(AutoencoderKL vae, List<org.ldm4j.toyworld.Scene> scenes) {
            List<int[]> reconstructions = new java.util.ArrayList<>(scenes.size());
            for (int start = 0; start < scenes.size(); start += 16) {
                List<org.ldm4j.toyworld.Scene> batch = scenes.subList(start, Math.min(scenes.size(), start + 16));
                try (org.bytedeco.javacpp.PointerScope scope = new org.bytedeco.javacpp.PointerScope();
                     org.bytedeco.pytorch.NoGradGuard g = new org.bytedeco.pytorch.NoGradGuard()) {
                    org.bytedeco.pytorch.Tensor x = org.ldm4j.nn.Dtypes.to(org.ldm4j.toyworld.eval.EvalImages.scenes(batch), vae.device(), vae.dtype());
                    org.bytedeco.pytorch.Tensor recon = org.ldm4j.nn.Dtypes.to(vae.reconstruct(x), org.ldm4j.nn.Dtypes.device("cpu"),
                            org.bytedeco.pytorch.global.torch.ScalarType.Float);
                    for (java.awt.image.BufferedImage image : org.ldm4j.image.Images.toImages(recon)) {
                        reconstructions.add(org.ldm4j.toyworld.eval.EvalImages.rgb(image));
                    }
                }
            }
            return reconstructions;
        }

        /** The progress bar of an evaluation loop over {@code total} items (on stderr, as every ldm4j bar). */
        static me.tongfei.progressbar.ProgressBar progress(String task, long total, String unit) {
            return new me.tongfei.progressbar.ProgressBarBuilder().setTaskName(task).setInitialMax(total)
                    .setStyle(me.tongfei.progressbar.ProgressBarStyle.ASCII).setUnit(" " + unit, 1).showSpeed().build();
        }

        void writeJson(ObjectNode report) throws Exception {
            if (json == null) return;
            if (json.toAbsolutePath().getParent() != null) Files.createDirectories(json.toAbsolutePath().getParent());
            AtomicFiles.write(json, JSON.writerWithDefaultPrettyPrinter().writeValueAsString(report).getBytes(StandardCharsets.UTF_8));
            System.out.println("wrote " + json);
        }
    }

    /** A folder of same-size PNGs, sorted by file name. */
    record ImageSet(List<Path> files, List<int[]> rgb, int width, int height) {
        static ImageSet read(Path dir, String what) throws Exception {
            if (!Files.isDirectory(dir)) throw new Ldm4j.UsageError(what + " folder not found: " + dir);
            List<Path> files;
            try (Stream<Path> s = Files.list(dir)) {
                files = s.filter(f -> f.getFileName().toString().toLowerCase(Locale.ROOT).endsWith(".png")).sorted().toList();
            }
            if (files.isEmpty()) throw new Ldm4j.UsageError("no .png files in " + what + " folder " + dir);
            List<int[]> rgb = new ArrayList<>();
            int w = -1, h = -1;
            for (Path f : files) {
                BufferedImage img = Images.readImage(f);
                if (w < 0) { w = img.getWidth(); h = img.getHeight(); }
                if (img.getWidth() != w || img.getHeight() != h) {
                    throw new Ldm4j.UsageError(f + " is " + img.getWidth() + "x" + img.getHeight() + ", the other " + what + " images " + w + "x" + h);
                }
                rgb.add(EvalImages.rgb(img));
            }
            return new ImageSet(files, rgb, w, h);
        }

        void requireSameAs(ImageSet other, String what) {
            if (files.size() != other.files.size() || width != other.width || height != other.height) {
                throw new Ldm4j.UsageError(what + ": " + files.size() + " images of " + width + "x" + height + " vs " + other.files.size() + " of " + other.width + "x" + other.height);
            }
        }

        String name(int i) { return files.get(i).getFileName().toString(); }
    }

    /** The prompt of an image: --prompt if given, else the PNG's infotext (as txt2img writes it). */
    static String promptOf(Path file, String prompt) throws Exception {
        if (prompt != null) return prompt;
        PngParameters.Contents c = PngParameters.read(file);
        if (c.infotext() == null) throw new Ldm4j.UsageError(file + " carries no prompt (no 'parameters' text chunk); pass --prompt");
        return c.infotext().prompt();
    }

    static String f4(double v) { return String.format(Locale.ROOT, "%.4f", v); }

    @Command(name = "segmenter", mixinStandardHelpOptions = true, description = "Segmentation mIoU of the segmenter on held-out ToyWorld test scenes.")
    static final class Segmenter extends Common implements Callable<Integer> {
        @Option(names = "--count", defaultValue = "256") int count;
        @Option(names = "--first-seed", defaultValue = "2000000", description = "Test scenes start here (default: the test split).") long firstSeed;
        @Option(names = "--size", defaultValue = "64") int size;

        @Override
        public Integer call() throws Exception {
            ToyWorldSegmenter model = loadSegmenter();
            List<Scene> scenes = ToyWorldFid.scenes(firstSeed, count, size);
            int[][] maps = model.classMaps(scenes.stream().map(Scene::rgb).toList(), size, size);
            SegmentationMetrics m = new SegmentationMetrics(ToyClass.count());
            for (int i = 0; i < scenes.size(); i++) m.add(scenes.get(i).seg(), maps[i]);
            ObjectNode report = JSON.createObjectNode().put("metric", "segmentation").put("scenes", count).put("first_seed", firstSeed)
                    .put("size", size).put("miou", m.meanIou()).put("pixel_accuracy", m.pixelAccuracy());
            ObjectNode perClass = report.putObject("iou");
            System.out.printf("%-10s %8s%n", "class", "IoU");
            for (ToyClass c : ToyClass.values()) {
                double iou = m.iou()[c.ordinal()];
                System.out.printf("%-10s %8s%n", c.label(), Double.isNaN(iou) ? "-" : f4(iou));
                if (!Double.isNaN(iou)) perClass.put(c.label(), iou);
            }
            System.out.printf("mIoU %s, pixel accuracy %s (%d test scenes from seed %d, %dx%d)%n", f4(m.meanIou()), f4(m.pixelAccuracy()), count, firstSeed, size, size);
            writeJson(report);
            return 0;
        }
    }

    @Command(name = "recall", mixinStandardHelpOptions = true,
            description = "Object recall (FG-DM): the fraction of the objects each prompt names that the segmenter finds in its image.")
    static final class Recall extends Common implements Callable<Integer> {
        @Option(names = "--images", required = true, description = "Folder of PNGs (prompts from their infotext unless --prompt).") Path images;
        @Option(names = "--prompt", description = "One prompt for every image.") String prompt;
        @Option(names = "--min-area", defaultValue = "0.002", description = "Fraction of the image a class must cover to count (default: ${DEFAULT-VALUE}).") double minArea;

        @Override
        public Integer call() throws Exception {
            ToyWorldSegmenter model = loadSegmenter();
            ImageSet set = ImageSet.read(images, "images");
            int[][] maps = model.classMaps(set.rgb(), set.width(), set.height());
            ObjectRecall recall = new ObjectRecall(minArea);
            ObjectNode report = JSON.createObjectNode().put("metric", "object_recall").put("min_area", minArea);
            ArrayNode rows = report.putArray("images");
            double sum = 0;
            int counted = 0;
            for (int i = 0; i < maps.length; i++) {
                String p = promptOf(set.files().get(i), prompt);
                ObjectRecall.Result r = recall.recall(p, maps[i]);
                System.out.printf("%-28s recall %-6s named %-30s found %s%n", set.name(i), Double.isNaN(r.recall()) ? "-" : f4(r.recall()), r.named(), r.found());
                rows.addObject().put("file", set.name(i)).put("prompt", p).put("recall", r.recall()).put("named", r.named().toString()).put("found", r.found().toString());
                if (!Double.isNaN(r.recall())) { sum += r.recall(); counted++; }
            }
            double mean = counted == 0 ? Double.NaN : sum / counted;
            report.put("mean_recall", mean).put("samples", counted);
            System.out.printf("mean object recall %s over %d images naming objects (%d images, area threshold %s)%n", f4(mean), counted, maps.length, minArea);
            writeJson(report);
            return 0;
        }
    }

    @Command(name = "fid", mixinStandardHelpOptions = true, description = "ToyWorld-FID of a folder of images against held-out real test scenes.")
    static final class Fid extends Common implements Callable<Integer> {
        @Option(names = "--images", required = true) Path images;
        @Option(names = "--reference-count", defaultValue = "1000", description = "Real test scenes in the reference set (default: ${DEFAULT-VALUE}).") int referenceCount;

        @Override
        public Integer call() throws Exception {
            // a Fréchet distance needs two feature vectors on each side (a covariance)
            if (referenceCount < 2 || referenceCount > org.ldm4j.toyworld.DatasetSplit.MAX_SCENES) {
                throw new Ldm4j.UsageError("--reference-count must be in 2.." + org.ldm4j.toyworld.DatasetSplit.MAX_SCENES + " (test scenes), got " + referenceCount);
            }
            ToyWorldSegmenter model = loadSegmenter();
            ImageSet set = ImageSet.read(images, "images");
            if (set.rgb().size() < 2) throw new Ldm4j.UsageError("--images: ToyWorld-FID needs at least 2 images, got " + set.rgb().size() + " in " + images);
            if (set.width() != set.height()) throw new Ldm4j.UsageError("ToyWorld-FID needs square images, got " + set.width() + "x" + set.height());
            ToyWorldFid fid = new ToyWorldFid(model);
            double d = fid.fid(set.rgb(), set.width(), set.height(), fid.realStatistics(ToyWorldFid.TEST_SEEDS, referenceCount, set.width()));
            System.out.printf("ToyWorld-FID %.3f (%d images vs %d real test scenes, %d-dim segmenter features)%n", d, set.rgb().size(), referenceCount, model.config().embeddingDim());
            writeJson(JSON.createObjectNode().put("metric", "toyworld_fid").put("fid", d).put("samples", set.rgb().size()).put("reference_scenes", referenceCount));
            return 0;
        }
    }

    @Command(name = "faithfulness", mixinStandardHelpOptions = true,
            description = "Faithfulness to stroke paintings: MSE after GradOP's painting function (Gaussian blur 35x35, sigma 7 at 512 px, scaled), plus PSNR vs ground-truth scenes.")
    static final class Faithful extends Common implements Callable<Integer> {
        @Option(names = "--images", required = true, description = "Outputs (PNGs, paired with the paintings by sorted file order).") Path images;
        @Option(names = "--paintings", required = true) Path paintings;
        @Option(names = "--truth", description = "Ground-truth scenes the paintings were made from (optional).") Path truth;

        @Override
        public Integer call() throws Exception {
            ImageSet out = ImageSet.read(images, "images"), paint = ImageSet.read(paintings, "paintings");
            out.requireSameAs(paint, "images vs paintings");
            ImageSet gt = truth == null ? null : ImageSet.read(truth, "truth");
            if (gt != null) out.requireSameAs(gt, "images vs truth");
            ObjectNode report = JSON.createObjectNode().put("metric", "faithfulness").put("blur_sigma", PaintingFunction.forWidth(out.width()).sigma())
                    .put("blur_kernel", PaintingFunction.forWidth(out.width()).kernel().length);
            ArrayNode rows = report.putArray("images");
            double sumF = 0, sumP = 0;
            for (int i = 0; i < out.rgb().size(); i++) {
                double f = Faithfulness.distance(out.rgb().get(i), paint.rgb().get(i), out.width(), out.height());
                double p = gt == null ? Double.NaN : ImageQuality.psnr(out.rgb().get(i), gt.rgb().get(i), null);
                sumF += f;
                sumP += p;
                System.out.printf("%-28s faithfulness %s  PSNR vs truth %s%n", out.name(i), f4(f), gt == null ? "-" : String.format(Locale.ROOT, "%.2f dB", p));
                rows.addObject().put("file", out.name(i)).put("faithfulness", f).put("psnr_truth", p);
            }
            int n = out.rgb().size();
            report.put("mean_faithfulness", sumF / n).put("mean_psnr_truth", sumP / n).put("samples", n);
            System.out.printf("mean faithfulness (blurred MSE, lower is better) %s, mean PSNR vs truth %s (%d images)%n", f4(sumF / n),
                    gt == null ? "-" : String.format(Locale.ROOT, "%.2f dB", sumP / n), n);
            writeJson(report);
            return 0;
        }
    }

    @Command(name = "locality", mixinStandardHelpOptions = true,
            description = "Edit locality: PSNR/SSIM outside the mask vs the input, recall of the requested object inside the mask.")
    static final class Locality extends Common implements Callable<Integer> {
        @Option(names = "--inputs", required = true) Path inputs;
        @Option(names = "--outputs", required = true) Path outputs;
        @Option(names = "--masks", required = true, description = "White = edited region; paired by sorted file order.") Path masks;
        @Option(names = "--prompt", description = "The edit prompt for every image (else each output's infotext).") String prompt;
        @Option(names = "--min-area", defaultValue = "0.002") double minArea;

        @Override
        public Integer call() throws Exception {
            ToyWorldSegmenter model = loadSegmenter();
            ImageSet in = ImageSet.read(inputs, "inputs"), out = ImageSet.read(outputs, "outputs"), mk = ImageSet.read(masks, "masks");
            in.requireSameAs(out, "inputs vs outputs");
            in.requireSameAs(mk, "inputs vs masks");
            int[][] maps = model.classMaps(out.rgb(), out.width(), out.height());
            ObjectRecall recall = new ObjectRecall(minArea);
            ObjectNode report = JSON.createObjectNode().put("metric", "edit_locality");
            ArrayNode rows = report.putArray("images");
            double sp = 0, ss = 0, sr = 0;
            int n = maps.length, withObjects = 0;
            for (int i = 0; i < n; i++) {
                boolean[] bits = new boolean[out.width() * out.height()];
                int[] m = mk.rgb().get(i);
                for (int k = 0; k < bits.length; k++) bits[k] = ((m[k] >> 8) & 255) >= 128;
                String p = promptOf(out.files().get(i), prompt);
                EditLocality.Result r = EditLocality.measure(in.rgb().get(i), out.rgb().get(i), maps[i], new Mask(out.width(), out.height(), bits),
                        ObjectRecall.namedObjects(p), recall);
                sp += r.psnrOutside();
                ss += r.ssimOutside();
                if (!Double.isNaN(r.recallInside())) { sr += r.recallInside(); withObjects++; }
                System.out.printf("%-28s PSNR out %.2f dB  SSIM out %s  recall in %s%n", out.name(i), r.psnrOutside(), f4(r.ssimOutside()),
                        Double.isNaN(r.recallInside()) ? "-" : f4(r.recallInside()));
                rows.addObject().put("file", out.name(i)).put("psnr_outside", r.psnrOutside()).put("ssim_outside", r.ssimOutside()).put("recall_inside", r.recallInside());
            }
            double meanRecall = withObjects == 0 ? Double.NaN : sr / withObjects;
            report.put("mean_psnr_outside", sp / n).put("mean_ssim_outside", ss / n).put("mean_recall_inside", meanRecall).put("samples", n);
            System.out.printf("mean PSNR outside %.2f dB, SSIM outside %s, recall inside %s (%d edits, %d naming objects)%n", sp / n, f4(ss / n), f4(meanRecall), n, withObjects);
            writeJson(report);
            return 0;
        }
    }

    @Command(name = "sanity", mixinStandardHelpOptions = true,
            description = "Checks the evaluator: ToyWorld-FID of real vs real (near 0), of flat stroke paintings (far worse), of VAE reconstructions; mIoU and recall on real scenes.")
    static final class Sanity extends Common implements Callable<Integer> {
        @Option(names = "--count", defaultValue = "500", description = "Images per set (default: ${DEFAULT-VALUE}).") int count;
        @Option(names = "--vae", description = "A ToyWorld VAE folder (config.json + weights), e.g. models/toyworld-vae (or models/toyworld-ldm/vae).") Path vae;
        @Option(names = "--size", defaultValue = "64") int size;

        @Override
        public Integer call() throws Exception {
            ToyWorldSegmenter model = loadSegmenter();
            ToyWorldFid fid = new ToyWorldFid(model);
            List<Scene> test = ToyWorldFid.scenes(ToyWorldFid.TEST_SEEDS, count, size);
            List<Scene> other = ToyWorldFid.scenes(ToyWorldFid.VALIDATION_SEEDS, count, size);
            FrechetDistance.Statistics reference = fid.statistics(test.stream().map(Scene::rgb).toList(), size, size);
            ObjectNode report = JSON.createObjectNode().put("metric", "sanity").put("samples", count).put("size", size);
            ObjectNode fids = report.putObject("toyworld_fid");
            System.out.printf("%-44s %12s%n", "set (" + count + " images each) vs " + count + " real test scenes", "ToyWorld-FID");
            double real = fid.fid(other.stream().map(Scene::rgb).toList(), size, size, reference);
            row(fids, "real validation scenes", "real", real);
            List<int[]> paintings = other.stream().map(s -> s.painting(s.seed(), PaintingOptions.defaults()).rgb()).toList();
            row(fids, "flat stroke paintings of them", "paintings", fid.fid(paintings, size, size, reference));
            if (vae == null) {
                System.out.printf("%-44s %12s%n", "VAE reconstructions", "skipped (no --vae given)");
            } else if (!Files.isRegularFile(vae.resolve("config.json"))) {
                System.out.printf("%-44s %12s%n", "VAE reconstructions", "skipped: no VAE at " + vae + " (no config.json)");
                fids.put("vae", "missing: " + vae);
            } else {
                row(fids, "VAE reconstructions of them", "vae", fid.fid(reconstruct(other), size, size, reference));
            }
            int[][] maps = model.classMaps(test.stream().map(Scene::rgb).toList(), size, size);
            SegmentationMetrics m = new SegmentationMetrics(ToyClass.count());
            ObjectRecall recall = new ObjectRecall();
            double sum = 0;
            int named = 0;
            for (int i = 0; i < test.size(); i++) {
                m.add(test.get(i).seg(), maps[i]);
                ObjectRecall.Result r = recall.recall(test.get(i).caption(), maps[i]);
                if (!Double.isNaN(r.recall())) { sum += r.recall(); named++; }
            }
            report.put("test_miou", m.meanIou()).put("test_recall", sum / named);
            System.out.printf("segmenter on the real test scenes: mIoU %s, caption object recall %s (%d scenes)%n", f4(m.meanIou()), f4(sum / named), count);
            writeJson(report);
            return 0;
        }

        private static void row(ObjectNode fids, String label, String key, double value) {
            System.out.printf("%-44s %12.3f%n", label, value);
            fids.put(key, value);
        }

        private List<int[]> reconstruct(List<Scene> scenes) throws Exception {
            return vaeReconstructions(org.ldm4j.pipeline.ModelLoader.loadVae(vae, org.ldm4j.nn.Dtypes.device("cpu"), org.bytedeco.pytorch.global.torch.ScalarType.Float), scenes);
        }
    }

    /** {@code ldm4j train segmenter}: registered under {@link TrainCommand}. */
    @Command(name = "segmenter", mixinStandardHelpOptions = true,
            description = "Train the ToyWorld evaluator's segmenter; resumes from the run folder's last checkpoint.",
            footer = {"", "Example:", "  ldm4j train segmenter --config configs/train/toyworld-segmenter.json --run runs/toyworld-segmenter",
                    "  ldm4j train segmenter --config configs/train/toyworld-segmenter.json --run runs/toyworld-segmenter --export models/toyworld-segmenter"})
    static final class TrainSegmenter implements Callable<Integer> {
        @picocli.CommandLine.Mixin TrainRun train;
        @Option(names = "--export", description = "Write the EMA weights (fp16) and config.json here, print validation mIoU, and exit.") Path export;

        /** The keys of a {@code train segmenter} config besides the trainer's. */
        static final java.util.Set<String> CONFIG_KEYS = java.util.Set.of("segmenter", "init", "size", "batch_size", "first_seed",
                "reconstruction_vae", "reconstruction_fraction", "noise_std");

        @Override
        public Integer call() throws Exception {
            JsonNode c = train.start(CONFIG_KEYS, "segmenter");
            SegmenterConfig segConfig = SegmenterConfig.parse(c.get("segmenter"), train.config.toString());
            org.bytedeco.pytorch.global.torch.manual_seed(c.path("seed").asLong(0));
            ToyWorldSegmenter model = new ToyWorldSegmenter(segConfig);
            if (c.hasNonNull("init")) {   // a fine-tune: the segmenter folder's weights, its config as 'segmenter'
                Path init = Path.of(c.get("init").asText());
                try (org.ldm4j.weights.SafetensorsFile f = org.ldm4j.weights.SafetensorsFile.open(init.resolve(ToyWorldSegmenter.WEIGHTS_FILE))) {
                    WeightLoader.load(model, f, "segmenter " + init);
                } catch (java.io.IOException e) {
                    throw new Ldm4j.UsageError(train.config + ": 'init' " + init + " is not a segmenter folder: " + e.getMessage());
                }
            }
            int size = c.path("size").asInt(64);
            Trainer trainer = new Trainer(model, train.options(c));
            if (export != null) {
                SegmentationMetrics v = SegmenterRecipe.export(model, trainer, export, size);
                System.out.printf(Locale.ROOT, "exported step %d to %s: %d parameters, validation mIoU %.4f, pixel accuracy %.4f (%d scenes)%n",
                        trainer.step(), export, model.parameterCount(), v.meanIou(), v.pixelAccuracy(), v.images());
                return 0;
            }
            SceneBatches batches = new SceneBatches(c.get("batch_size").asInt(), size, c.path("first_seed").asLong(0));
            SegmenterRecipe recipe;
            if (c.hasNonNull("reconstruction_vae")) {   // part of each batch seen through a VAE (SegmenterRecipe.withReconstructions)
                Path vaeFolder = Path.of(c.get("reconstruction_vae").asText());
                org.ldm4j.models.vae.AutoencoderKL vae;
                try {
                    vae = org.ldm4j.pipeline.ModelLoader.loadVae(vaeFolder, org.ldm4j.nn.Dtypes.device("cpu"), org.bytedeco.pytorch.global.torch.ScalarType.Float);
                } catch (java.io.IOException e) {
                    throw new Ldm4j.UsageError(train.config + ": 'reconstruction_vae' " + vaeFolder + ": " + e.getMessage());
                }
                try {
                    recipe = new SegmenterRecipe(model, SegmenterRecipe.withReconstructions(batches, vae, c.path("reconstruction_fraction").asDouble(0.5)),
                            c.path("noise_std").asDouble(0));
                } catch (IllegalArgumentException e) {
                    throw new Ldm4j.UsageError(train.config + ": " + e.getMessage());
                }
            } else {
                recipe = new SegmenterRecipe(model, batches, c.path("noise_std").asDouble(0));
            }
            double loss = trainer.run(recipe, train.lastStep(c));
            System.out.println(TrainRun.closingLine(trainer.step(), loss));
            return 0;
        }
    }
}
