package org.ldm4j.train.toyworld;

import org.bytedeco.pytorch.Tensor;
import org.ldm4j.nn.Tensors;
import org.ldm4j.toyworld.Scene;
import org.ldm4j.toyworld.SceneOptions;
import org.ldm4j.toyworld.ToyWorld;

import java.util.ArrayList;
import java.util.List;

/**
 * Training batches drawn from ToyWorld by seed. Step k of a run uses seeds {@code first + k·B ... first + k·B + B − 1}
 * (modulo the training range; {@code first} = 0 unless a fine-tune sets it), so the data order is a function of the step and a resumed run sees the same batches.
 */
public final class SceneBatches {
    /** ToyWorld's training split: seeds [0, 1 000 000); validation starts at 1 000 000, test at 2 000 000. */
    public static final long TRAIN_SEEDS = 1_000_000L;

    private final int batchSize;
    private final SceneOptions options;
    private final long firstSeed;

    public SceneBatches(int batchSize, int size) {
        this(batchSize, size, 0);
    }

    /** Batches from training seed {@code firstSeed} on: a fine-tune starting after an earlier run sees new scenes. */
    public SceneBatches(int batchSize, int size, long firstSeed) {
        if (firstSeed < 0 || firstSeed >= TRAIN_SEEDS) throw new IllegalArgumentException("first training seed must be in [0, " + TRAIN_SEEDS + "), got " + firstSeed);
        this.batchSize = batchSize;
        this.options = SceneOptions.square(size);
        this.firstSeed = firstSeed;
    }

    public int batchSize() { return batchSize; }

    public List<Scene> scenes(long step) {
        List<Scene> out = new ArrayList<>(batchSize);
        for (int i = 0; i < batchSize; i++) out.add(ToyWorld.sample(Math.floorMod(firstSeed + step * batchSize + i, TRAIN_SEEDS), options));
        return out;
    }

    /** {@code batchSize} consecutive scenes from {@code firstSeed} (validation/test sets use their split's range). */
    public List<Scene> scenesFrom(long firstSeed) {
        List<Scene> out = new ArrayList<>(batchSize);
        for (int i = 0; i < batchSize; i++) out.add(ToyWorld.sample(firstSeed + i, options));
        return out;
    }

    /** Scenes as a (B, 3, H, W) float tensor in [-1, 1] (diffusers' image normalisation). */
    public static Tensor images(List<Scene> scenes) {
        Scene first = scenes.get(0);
        int w = first.width(), h = first.height(), plane = w * h;
        float[] data = new float[scenes.size() * 3 * plane];
        for (int b = 0; b < scenes.size(); b++) {
            int[] rgb = scenes.get(b).rgb();
            int base = b * 3 * plane;
            for (int p = 0; p < plane; p++) {
                int c = rgb[p];
                data[base + p] = ((c >> 16) & 255) / 127.5f - 1f;
                data[base + plane + p] = ((c >> 8) & 255) / 127.5f - 1f;
                data[base + 2 * plane + p] = (c & 255) / 127.5f - 1f;
            }
        }
        return Tensors.ofFloats(data, scenes.size(), 3, h, w);
    }
}
