package org.ldm4j.train;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import me.tongfei.progressbar.ProgressBar;
import me.tongfei.progressbar.ProgressBarBuilder;
import me.tongfei.progressbar.ProgressBarStyle;
import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.TensorVector;
import org.bytedeco.pytorch.global.torch;
import org.ldm4j.nn.Block;
import org.ldm4j.nn.Param;
import org.ldm4j.nn.Rng;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * The training loop shared by every recipe (ToyWorld VAE and LDM, FG-DM adapters, the evaluator's segmenter):
 * AdamW with warm-up/cosine learning rate, gradient clipping, EMA, a progress bar with loss and it/s, a JSONL
 * metrics log, and periodic checkpoints that resume exactly.
 *
 * <p>Exact resume needs no RNG state: an {@link Objective} derives its batch and noise from the step number
 * ({@code new Rng(seed + step)}), so step k draws the same data whether or not the run was interrupted before it.
 */
public final class Trainer {
    private static final Logger LOG = LoggerFactory.getLogger(Trainer.class);

    /** One training step's loss for step {@code step}; must draw all randomness from {@code rng}. */
    public interface Objective {
        Tensor loss(long step, Rng rng);

        /**
         * Figures of the last {@link #loss} call besides the loss (e.g. a discriminator's), averaged over each log
         * window into the same metrics.jsonl row as the loss.
         */
        default Map<String, Double> stepMetrics() { return Map.of(); }
    }

    public record Options(long totalSteps, LrSchedule lr, double clipNorm, double emaDecay, double weightDecay,
                          int checkpointEvery, int logEvery, long seed, Path runDir) {
        /** The keys of a training config (configs/train/*.json) that become these options, whatever the recipe. */
        public static final java.util.Set<String> CONFIG_KEYS = java.util.Set.of("steps", "lr", "warmup_steps", "cosine",
                "min_lr_factor", "clip_norm", "ema_decay", "weight_decay", "checkpoint_every", "log_every", "seed");
    }

    private final Block model;
    private final Options options;
    private final Map<String, Param> params;
    private final AdamW optimizer;
    private final Ema ema;
    private final Checkpoints checkpoints;
    private long step;

    public Trainer(Block model, Options options) {
        this.model = model;
        this.options = options;
        this.params = model.namedParameters();
        model.requiresGrad(true);
        this.optimizer = new AdamW(params, 0.9, 0.999, 1e-8, options.weightDecay());
        this.ema = options.emaDecay() > 0 ? new Ema(params, options.emaDecay()) : null;
        this.checkpoints = new Checkpoints(options.runDir());
        this.step = checkpoints.resume(model, optimizer, ema);
        if (step > 0) LOG.info("resumed {} at step {}", options.runDir(), step);
    }

    public long step() { return step; }

    public Ema ema() { return ema; }

    /** Trains until {@code totalSteps} (or {@code untilStep}, whichever is first); returns the mean loss of the last log window. */
    public double run(Objective objective, long untilStep) {
        long end = Math.min(untilStep, options.totalSteps());
        List<Tensor> paramList = new ArrayList<>();
        params.values().forEach(p -> paramList.add(p.t()));
        TensorVector all = new TensorVector(paramList.toArray(new Tensor[0]));
        double windowLoss = 0;
        int windowCount = 0;
        Map<String, Double> windowMetrics = new java.util.TreeMap<>();
        double lastMean = Double.NaN;
        long started = System.nanoTime();
        long startStep = step;
        // startsFrom: a resumed run's speed and ETA count only the steps this process makes (stepTo counted the
        // resumed steps as done in the first second, e.g. "6301 it/s")
        try (ProgressBar bar = new ProgressBarBuilder().setTaskName("train").setInitialMax(end).startsFrom(step, java.time.Duration.ZERO)
                .setStyle(ProgressBarStyle.ASCII).showSpeed().setUnit(" it", 1).continuousUpdate().build()) {
            while (step < end) {
                double lossValue;
                double lr = options.lr().at(step);
                try (PointerScope scope = new PointerScope()) {
                    Tensor loss = objective.loss(step, new Rng(options.seed() + step));
                    lossValue = loss.item_double();
                    objective.stepMetrics().forEach((k, v) -> windowMetrics.merge(k, v, Double::sum));
                    if (!Double.isFinite(lossValue)) {
                        throw new IllegalStateException("loss is " + lossValue + " at step " + step
                                + " (" + options.runDir() + "); the last checkpoint is intact");
                    }
                    loss.backward();
                    if (options.clipNorm() > 0) torch.clip_grad_norm_(all, options.clipNorm());
                    optimizer.step(lr);
                    optimizer.zeroGrad();
                    if (ema != null) ema.update(step);
                }
                step++;
                windowLoss += lossValue;
                windowCount++;
                bar.stepTo(step);
                bar.setExtraMessage(String.format(Locale.ROOT, " loss %.4f", lossValue));
                if (step % options.logEvery() == 0 || step == end) {
                    lastMean = windowLoss / windowCount;
                    double itPerSec = (step - startStep) / ((System.nanoTime() - started) / 1e9);
                    logMetrics(step, lastMean, lr, itPerSec, windowMetrics, windowCount);
                    windowLoss = 0;
                    windowCount = 0;
                    windowMetrics.clear();
                }
                if (step % options.checkpointEvery() == 0 || step == end) {
                    checkpoints.save(step, model, optimizer, ema);
                }
            }
        }
        return lastMean;
    }

    private void logMetrics(long step, double loss, double lr, double itPerSec, Map<String, Double> sums, int count) {
        ObjectNode row = new ObjectMapper().createObjectNode();
        row.put("step", step).put("loss", loss);
        sums.forEach((k, v) -> row.put(k, v / count));
        row.put("lr", lr).put("it_per_s", itPerSec).put("time", java.time.Instant.now().toString());
        try {
            Files.createDirectories(options.runDir());
            Files.writeString(options.runDir().resolve("metrics.jsonl"), row + "\n", StandardCharsets.UTF_8,
                    StandardOpenOption.CREATE, StandardOpenOption.APPEND);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
