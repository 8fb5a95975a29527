package org.ldm4j.methods.fgdm;

import org.bytedeco.pytorch.Tensor;

import java.util.ArrayList;
import java.util.List;
import java.util.function.BooleanSupplier;
import java.util.function.LongFunction;

/**
 * The image-level SBPC baseline (paper Table 4, "SD N=10"): generate N full images (seeds seed, seed+1, ...), segment
 * each with an external segmenter, keep the best-scoring one. FG-DM's {@link Sbpc} beats it on time by scoring cheap
 * condition maps instead.
 */
public final class ImageSbpc {
    /** Scores, chosen index, per-sample times, and the chosen image (1, 3, H, W) in [-1, 1]. */
    public record Result(List<Double> scores, int chosen, long chosenSeed, List<Long> sampleMillis, Tensor image) {
        public Result {
            scores = List.copyOf(scores);
            sampleMillis = List.copyOf(sampleMillis);
        }
    }

    private ImageSbpc() {}

    /**
     * @param generate seed -> image, e.g. {@code s -> Txt2Img.run(sd, request.withSeed(s), ...).get(0)}
     * @param stopAtScore stop at the first image scoring at least this (null: all N)
     */
    public static Result run(int samples, long seed, LongFunction<Tensor> generate, ImageSegmenter segmenter, MapScorer scorer,
                             Double stopAtScore, BooleanSupplier cancelled) {
        if (samples < 1) throw new IllegalArgumentException("image SBPC needs at least one sample, got " + samples);
        List<Double> scores = new ArrayList<>();
        List<Long> millis = new ArrayList<>();
        Tensor best = null;
        int chosen = -1;
        for (int k = 0; k < samples; k++) {
            if (cancelled != null && cancelled.getAsBoolean()) throw new org.ldm4j.pipeline.StepHook.Cancelled("cancelled before sample " + k);
            long start = System.nanoTime();
            Tensor image = generate.apply(seed + k);
            double score = scorer.score(segmenter.segment(image));
            millis.add((System.nanoTime() - start) / 1_000_000);
            scores.add(score);
            if (chosen < 0 || score > scores.get(chosen)) {
                chosen = k;
                best = image;
            }
            if (stopAtScore != null && score >= stopAtScore) break;
        }
        return new Result(scores, chosen, seed + chosen, millis, best);
    }
}
