package org.ldm4j.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.ldm4j.nn.Engine;
import org.ldm4j.toyworld.eval.SegmentationMetrics;
import org.ldm4j.toyworld.eval.SegmenterConfig;
import org.ldm4j.toyworld.eval.ToyWorldSegmenter;
import org.ldm4j.train.Trainer;
import org.ldm4j.train.toyworld.SceneBatches;
import org.ldm4j.train.toyworld.SegmenterRecipe;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Locale;
import java.util.concurrent.Callable;

@Command(name = "eval", mixinStandardHelpOptions = true, description = "ToyWorld evaluator: recall, mIoU, ToyWorld-FID, faithfulness, edit locality.",
        subcommands = {})
final class EvalCommand {

    /** {@code ldm4j train segmenter}: registered under {@link TrainCommand}. */
    @Command(name = "segmenter", mixinStandardHelpOptions = true,
            description = "Train the ToyWorld evaluator's segmenter; resumes from the run folder's last checkpoint.",
            footer = {"", "Example:", "  ldm4j train segmenter --config configs/train/toyworld-segmenter.json --run runs/toyworld-segmenter",
                    "  ldm4j train segmenter --config configs/train/toyworld-segmenter.json --run runs/toyworld-segmenter --export models/toyworld-segmenter"})
    static final class TrainSegmenter implements Callable<Integer> {
        @Option(names = "--config", required = true) Path config;
        @Option(names = "--run", required = true, description = "Run folder (checkpoints, metrics.jsonl).") Path run;
        @Option(names = "--until", description = "Stop at this step (default: the config's total).") Long until;
        @Option(names = "--threads", defaultValue = "1") int threads;
        @Option(names = "--export", description = "Write the EMA weights (fp16) and config.json here, print validation mIoU, and exit.") Path export;

        @Override
        public Integer call() throws Exception {
            Engine.threads(threads);
            if (!Files.isRegularFile(config)) throw new Ldm4j.UsageError("no such config file: " + config);
            JsonNode c = new ObjectMapper().readTree(Files.readString(config));
            if (!c.has("segmenter")) throw new Ldm4j.UsageError(config + ": missing object 'segmenter'");
            SegmenterConfig segConfig = SegmenterConfig.parse(c.get("segmenter"), config.toString());
            org.bytedeco.pytorch.global.torch.manual_seed(c.path("seed").asLong(0));
            ToyWorldSegmenter model = new ToyWorldSegmenter(segConfig);
            int size = c.path("size").asInt(64);
            Trainer trainer = new Trainer(model, TrainCommand.Vae.options(c, run));
            if (export != null) {
                SegmentationMetrics v = SegmenterRecipe.export(model, trainer, export, size);
                System.out.printf(Locale.ROOT, "exported step %d to %s: %d parameters, validation mIoU %.4f, pixel accuracy %.4f (%d scenes)%n",
                        trainer.step(), export, model.parameterCount(), v.meanIou(), v.pixelAccuracy(), v.images());
                return 0;
            }
            SceneBatches batches = new SceneBatches(c.get("batch_size").asInt(), size);
            double loss = trainer.run(new SegmenterRecipe(model, batches, c.path("noise_std").asDouble(0)),
                    until != null ? until : c.get("steps").asLong());
            System.out.printf(Locale.ROOT, "step %d, loss %.5f%n", trainer.step(), loss);
            return 0;
        }
    }
}
