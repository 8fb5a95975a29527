package org.ldm4j.train.toyworld;

import org.ldm4j.nn.Tensors;
import org.ldm4j.toyworld.eval.EvalImages;

import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;

/**
 * A fixed set of labelled images (packed RGB + class labels, one size) that a {@link SegmenterRecipe} draws its
 * batches from: the data-augmentation experiment's small real set, generated set, or both. Batch {@code step} is
 * drawn with replacement from a generator seeded by (seed, step) alone, so a resumed run sees the same batches.
 */
public final class LabelledPool {
    /** One example: packed 0xRRGGBB pixels and class indices ({@link SegmenterRecipe#IGNORED} = no label). */
    public record Example(int[] rgb, int[] labels) {}

    private final List<Example> examples;
    private final int width, height, batchSize;
    private final long seed;

    public LabelledPool(List<Example> examples, int width, int height, int batchSize, long seed) {
        if (examples.isEmpty()) throw new IllegalArgumentException("a labelled pool needs at least one example");
        if (batchSize < 1) throw new IllegalArgumentException("batch size must be >= 1, got " + batchSize);
        for (Example e : examples) {
            if (e.rgb().length != width * height || e.labels().length != width * height) {
                throw new IllegalArgumentException("every example must be " + width + "x" + height + " (" + width * height + " pixels), got "
                        + e.rgb().length + " pixels and " + e.labels().length + " labels");
            }
        }
        this.examples = List.copyOf(examples);
        this.width = width;
        this.height = height;
        this.batchSize = batchSize;
        this.seed = seed;
    }

    /** The examples of batch {@code step}. */
    public List<Example> examples(long step) {
        SplittableRandom random = new SplittableRandom(seed * 0x9E3779B97F4A7C15L + step);
        List<Example> out = new ArrayList<>(batchSize);
        for (int i = 0; i < batchSize; i++) out.add(examples.get(random.nextInt(examples.size())));
        return out;
    }

    public SegmenterRecipe.Batch batch(long step) {
        List<Example> batch = examples(step);
        int plane = width * height;
        long[] targets = new long[batch.size() * plane];
        for (int b = 0; b < batch.size(); b++) {
            int[] l = batch.get(b).labels();
            for (int p = 0; p < plane; p++) targets[b * plane + p] = l[p];
        }
        return new SegmenterRecipe.Batch(EvalImages.tensor(batch.stream().map(Example::rgb).toList(), width, height),
                Tensors.ofLongs(targets, batch.size(), height, width));
    }
}
