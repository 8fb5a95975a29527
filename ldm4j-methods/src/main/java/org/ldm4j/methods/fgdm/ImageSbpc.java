package org.ldm4j.methods.fgdm;

import org.bytedeco.pytorch.Tensor;

import java.util.ArrayList;
import java.util.List;
import java.util.function.BooleanSupplier;

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

    /** Images of {@code count} consecutive seeds from {@code firstSeed}, in seed order, each (1, 3, H, W). */
    @FunctionalInterface
    public interface Generator {
        List<Tensor> images(long firstSeed, int count);
    }

    private ImageSbpc() {}

    /**
     * @param batch    images per generator call, as {@link SbpcSettings#batch} is candidates per call: the comparison
     *                 with FG-DM's SBPC is fair only when both batch alike; each image is charged its batch's time
     *                 (segmentation included) split evenly
     * @param generate e.g. {@code (s, n) -> Txt2Img.runBatched(sd, request.withSeed(s).withCount(n), n, ...)}
     * @param stopAtScore stop after the batch where an image scored at least this (null: all N)
     */
    public static Result run(int samples, long seed, int batch, Generator generate, ImageSegmenter segmenter, MapScorer scorer,
                             Double stopAtScore, BooleanSupplier cancelled) {
        if (samples < 1) throw new IllegalArgumentException("image SBPC needs at least one sample, got " + samples);
        if (batch < 1) throw new IllegalArgumentException("image SBPC: batch must be at least 1, got " + batch);
        List<Double> scores = new ArrayList<>();
        List<Long> millis = new ArrayList<>();
        Tensor best = null;
        int chosen = -1;
        boolean reached = false;
        for (int k = 0; k < samples && !reached; k += batch) {
            if (cancelled != null && cancelled.getAsBoolean()) throw new org.ldm4j.pipeline.StepHook.Cancelled("cancelled before sample " + k);
            int count = Math.min(batch, samples - k);
            long start = System.nanoTime();
            List<Tensor> images = generate.images(seed + k, count);
            if (images.size() != count) throw new IllegalStateException("the generator made " + images.size() + " images, asked for " + count);
            for (int j = 0; j < count; j++) {
                double score = scorer.score(segmenter.segment(images.get(j)));
                scores.add(score);
                if (chosen < 0 || score > scores.get(chosen)) {
                    chosen = k + j;
                    best = images.get(j);
                }
                if (stopAtScore != null && score >= stopAtScore) reached = true;
            }
            long each = (System.nanoTime() - start) / 1_000_000 / count;
            for (int j = 0; j < count; j++) millis.add(each);
        }
        return new Result(scores, chosen, seed + chosen, millis, best);
    }
}
