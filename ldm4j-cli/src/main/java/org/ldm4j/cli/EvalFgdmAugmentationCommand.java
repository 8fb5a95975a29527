package org.ldm4j.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import org.ldm4j.nn.Engine;
import org.ldm4j.toyworld.Scene;
import org.ldm4j.toyworld.SceneOptions;
import org.ldm4j.toyworld.ToyClass;
import org.ldm4j.toyworld.ToyWorld;
import org.ldm4j.toyworld.eval.EvalImages;
import org.ldm4j.toyworld.eval.SegmentationMetrics;
import org.ldm4j.toyworld.eval.SegmenterConfig;
import org.ldm4j.toyworld.eval.ToyWorldFid;
import org.ldm4j.toyworld.eval.ToyWorldSegmenter;
import org.ldm4j.train.LrSchedule;
import org.ldm4j.train.Trainer;
import org.ldm4j.train.toyworld.LabelledPool;
import org.ldm4j.train.toyworld.SegmenterRecipe;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

import javax.imageio.ImageIO;
import java.awt.image.BufferedImage;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;

/**
 * {@code ldm4j eval fgdm augmentation}: the paper's data-augmentation experiment on ToyWorld. The evaluator's
 * segmenter architecture is trained from the same initialisation, for the same steps, on (a) a small real set
 * (the first {@code --real} ToyWorld training scenes with their exact class maps), (b) the same plus an FG-DM
 * dataset ({@code ldm4j fgdm dataset}: generated images labelled with their generated segmentation, unlabeled
 * pixels ignored by the loss), (c) the generated set alone, and two ways of adding the generated set that keep the
 * real scenes' weight: (d) the real scenes repeated to half the pool, (e) half the steps on the generated set, then
 * half on the real one (pretraining, then fine-tuning), (f) the same with the generated half that (a)'s segmenter
 * reads most like its labels (a filter built from the real scenes only); each is scored by mIoU on real held-out
 * test scenes.
 * Every training checkpoints under {@code --run}, so a rerun resumes.
 */
@Command(name = "augmentation", mixinStandardHelpOptions = true,
        description = "Data augmentation with FG-DM samples: segmenters trained on real / real + generated / generated data, "
                + "mIoU on real test scenes.",
        footer = {"", "Example:", "  ldm4j fgdm dataset --n 256 --out runs/synthetic --seed 100000",
                "  ldm4j eval fgdm augmentation --synthetic runs/synthetic --real 64 --steps 600 --run runs/augmentation"})
final class EvalFgdmAugmentationCommand extends EvalCommand.Common implements Callable<Integer> {
    @Option(names = "--synthetic", required = true, description = "An `ldm4j fgdm dataset` folder (index.jsonl, *_image.png, *_segidx.png).") Path synthetic;
    @Option(names = "--real", defaultValue = "64", description = "Real training scenes (default: ${DEFAULT-VALUE}).") int real;
    @Option(names = "--steps", defaultValue = "600", description = "Training steps of each segmenter (default: ${DEFAULT-VALUE}).") int steps;
    @Option(names = "--test", defaultValue = "256", description = "Real test scenes scored (default: ${DEFAULT-VALUE}).") int test;
    @Option(names = "--config", defaultValue = "configs/train/toyworld-segmenter.json",
            description = "Segmenter recipe (architecture, batch, lr, noise); its steps are replaced by --steps (default: ${DEFAULT-VALUE}).") Path config;
    @Option(names = "--run", required = true, description = "Checkpoint folder (one subfolder per training set; a rerun resumes).") Path run;
    @Option(names = "--seed", description = "Initialisation and batch-order seed of every segmenter, in place of the recipe's "
            + "`seed`: rerun at other seeds to see how much of a difference is chance.") Long seed;

    @Override
    public Integer call() throws Exception {
        if (real < 1 || steps < 1 || test < 1) throw new Ldm4j.UsageError("--real, --steps and --test must be >= 1");
        Engine.threads(threads);
        JsonNode c;
        try {
            c = EvalCommand.JSON.readTree(Files.readString(config, StandardCharsets.UTF_8));
        } catch (IOException e) {
            throw new Ldm4j.UsageError("cannot read --config " + config + ": " + e.getMessage());
        }
        int size = c.path("size").asInt(64), batch = c.path("batch_size").asInt(8);
        long trainSeed = seed != null ? seed : c.path("seed").asLong(0);
        List<LabelledPool.Example> realSet = new ArrayList<>(), generated = readDataset(synthetic, size);
        SceneOptions options = SceneOptions.square(size);
        for (int i = 0; i < real; i++) {
            Scene s = ToyWorld.sample(i, options);
            realSet.add(new LabelledPool.Example(s.rgb(), s.seg()));
        }
        List<LabelledPool.Example> both = new ArrayList<>(realSet);
        both.addAll(generated);
        // the real scenes repeated until they are about half of the pool: half of every batch real on average
        List<LabelledPool.Example> balanced = new ArrayList<>();
        for (int k = 0; k < Math.max(1, Math.round((double) generated.size() / realSet.size())); k++) balanced.addAll(realSet);
        balanced.addAll(generated);
        Map<String, ToyWorldSegmenter> trained = new LinkedHashMap<>();
        Map<String, java.util.function.Supplier<List<Stage>>> arms = new LinkedHashMap<>();
        arms.put("real", () -> List.of(new Stage(realSet, steps)));
        arms.put("real+generated", () -> List.of(new Stage(both, steps)));
        arms.put("generated", () -> List.of(new Stage(generated, steps)));
        arms.put("real+generated, balanced", () -> List.of(new Stage(balanced, steps)));
        arms.put("generated, then real", () -> List.of(new Stage(generated, steps / 2), new Stage(realSet, steps - steps / 2)));
        // the generated tuples whose image the real-only segmenter reads most like their map: the labels most likely right
        arms.put("generated (filtered), then real", () -> List.of(new Stage(agreeing(trained.get("real"), generated, size), steps / 2),
                new Stage(realSet, steps - steps / 2)));

        ObjectNode report = EvalCommand.JSON.createObjectNode().put("metric", "fgdm").put("table", "augmentation").put("real", real)
                .put("generated", generated.size()).put("steps", steps).put("test", test).put("synthetic", synthetic.toString())
                .put("first_test_seed", ToyWorldFid.TEST_SEEDS).put("seed", trainSeed);
        ArrayNode rows = report.putArray("rows");
        Map<String, SegmentationMetrics> results = new LinkedHashMap<>();
        Map<String, Integer> examples = new LinkedHashMap<>();
        for (Map.Entry<String, java.util.function.Supplier<List<Stage>>> e : arms.entrySet()) {
            List<Stage> stages = e.getValue().get();
            org.bytedeco.pytorch.global.torch.manual_seed(trainSeed);   // the same initialisation for every set
            ToyWorldSegmenter model = new ToyWorldSegmenter(SegmenterConfig.parse(c.get("segmenter"), config.toString()));
            String folder = e.getKey().replace('+', '-').replace(", ", "-").replace(' ', '-').replace("(", "").replace(")", "");
            for (int i = 0; i < stages.size(); i++) {   // a later stage starts from the previous stage's EMA weights, with a fresh schedule
                Stage st = stages.get(i);
                Trainer trainer = new Trainer(model, new Trainer.Options(st.steps(),
                        new LrSchedule(c.get("lr").asDouble(), Math.min(c.path("warmup_steps").asInt(0), st.steps() / 10), st.steps(),
                                c.path("cosine").asBoolean(true), c.path("min_lr_factor").asDouble(0)),
                        c.path("clip_norm").asDouble(1.0), c.path("ema_decay").asDouble(0.995), c.path("weight_decay").asDouble(0),
                        Math.max(50, st.steps() / 10), c.path("log_every").asInt(20), trainSeed,
                        stages.size() == 1 ? run.resolve(folder) : run.resolve(folder).resolve("stage" + (i + 1))));
                LabelledPool pool = new LabelledPool(st.examples(), size, size, batch, trainSeed + i);
                trainer.run(new SegmenterRecipe(model, pool::batch, c.path("noise_std").asDouble(0)), st.steps());
                SegmenterRecipe.useEma(model, trainer);
            }
            model.requiresGrad(false);
            trained.put(e.getKey(), model);
            SegmentationMetrics m = SegmenterRecipe.evaluate(model, ToyWorldFid.TEST_SEEDS, test, size);
            results.put(e.getKey(), m);
            int n = stages.stream().mapToInt(st -> st.examples().size()).max().orElse(0);
            examples.put(e.getKey(), n);
            ObjectNode row = rows.addObject().put("train_set", e.getKey()).put("examples", n).put("miou", m.meanIou())
                    .put("pixel_accuracy", m.pixelAccuracy());
            ArrayNode stageSteps = row.putArray("stage_steps");
            stages.forEach(st -> stageSteps.add(st.steps()));
        }
        System.out.printf("%-32s %9s %8s %15s%n", "train set", "examples", "mIoU", "pixel accuracy");
        for (Map.Entry<String, SegmentationMetrics> e : results.entrySet()) {
            System.out.printf(Locale.ROOT, "%-32s %9d %8.4f %15.4f%n", e.getKey(), examples.get(e.getKey()), e.getValue().meanIou(), e.getValue().pixelAccuracy());
        }
        System.out.printf(Locale.ROOT, "segmenters (%s, seed %d) trained %d steps each from one initialisation (\"then\": half the steps on each set, "
                + "the second from the first's EMA weights; \"balanced\": the real scenes repeated to half the pool; \"filtered\": the generated half "
                + "whose labels the real-only segmenter agrees with most); mIoU on %d real test scenes%n",
                config, trainSeed, steps, test);
        writeJson(report);
        return 0;
    }

    /**
     * The half of {@code examples} whose labels {@code judge} agrees with most (pixel accuracy over the labelled
     * pixels): a filter that uses the small real set only, never the evaluator.
     */
    static List<LabelledPool.Example> agreeing(ToyWorldSegmenter judge, List<LabelledPool.Example> examples, int size) {
        double[] agreement = new double[examples.size()];
        for (int start = 0; start < examples.size(); start += 16) {
            try (org.bytedeco.javacpp.PointerScope scope = new org.bytedeco.javacpp.PointerScope()) {
                List<LabelledPool.Example> chunk = examples.subList(start, Math.min(examples.size(), start + 16));
                int[][] predicted = EvalImages.classMaps(judge.predict(EvalImages.tensor(chunk.stream().map(LabelledPool.Example::rgb).toList(), size, size)));
                for (int i = 0; i < chunk.size(); i++) {
                    int[] labels = chunk.get(i).labels();
                    int same = 0, labelled = 0;
                    for (int p = 0; p < labels.length; p++) {
                        if (labels[p] == SegmenterRecipe.IGNORED) continue;
                        labelled++;
                        if (predicted[i][p] == labels[p]) same++;
                    }
                    agreement[start + i] = labelled == 0 ? 0 : (double) same / labelled;
                }
            }
        }
        Integer[] order = new Integer[examples.size()];
        for (int i = 0; i < order.length; i++) order[i] = i;
        java.util.Arrays.sort(order, (a, b) -> Double.compare(agreement[b], agreement[a]));
        List<LabelledPool.Example> kept = new ArrayList<>();
        for (int i = 0; i < Math.max(1, order.length / 2); i++) kept.add(examples.get(order[i]));
        return kept;
    }

    /** One training stage of an arm: its examples and steps. */
    record Stage(List<LabelledPool.Example> examples, int steps) {}

    /** The dataset's images and their segmentation labels (255 = unlabeled -> ignored), at {@code size}. */
    static List<LabelledPool.Example> readDataset(Path dir, int size) throws IOException {
        Path index = dir.resolve("index.jsonl");
        if (!Files.isRegularFile(index)) throw new Ldm4j.UsageError(dir + " has no index.jsonl: write one with `ldm4j fgdm dataset --out " + dir + "`");
        List<LabelledPool.Example> out = new ArrayList<>();
        for (String line : Files.readAllLines(index, StandardCharsets.UTF_8)) {
            if (line.isBlank()) continue;
            JsonNode files = EvalCommand.JSON.readTree(line).path("files");
            if (!files.has("image") || !files.has("segidx")) {
                throw new Ldm4j.UsageError(index + ": an entry without image and segidx files (the dataset needs a segmentation factor): " + line);
            }
            BufferedImage image = ImageIO.read(dir.resolve(files.get("image").asText()).toFile());
            BufferedImage labels = ImageIO.read(dir.resolve(files.get("segidx").asText()).toFile());
            if (image == null || labels == null || image.getWidth() != size || image.getHeight() != size
                    || labels.getWidth() != size || labels.getHeight() != size) {
                throw new Ldm4j.UsageError(index + ": entry " + files + " is not a readable " + size + "x" + size + " image and label map");
            }
            int[] l = new int[size * size];
            var raster = labels.getRaster();
            for (int y = 0; y < size; y++) {
                for (int x = 0; x < size; x++) {
                    int v = raster.getSample(x, y, 0);
                    l[y * size + x] = v == 255 || v >= ToyClass.count() ? SegmenterRecipe.IGNORED : v;
                }
            }
            out.add(new LabelledPool.Example(EvalImages.rgb(image), l));
        }
        if (out.isEmpty()) throw new Ldm4j.UsageError(index + " lists no tuples");
        return out;
    }
}
