package org.ldm4j.toyworld.eval;

import org.ldm4j.toyworld.Scene;
import org.ldm4j.toyworld.SceneOptions;
import org.ldm4j.toyworld.ToyWorld;

import java.util.ArrayList;
import java.util.List;

/**
 * "ToyWorld-FID": the {@link FrechetDistance} between the segmenter embeddings ({@link ToyWorldSegmenter#embed}) of a
 * set of images and of held-out real ToyWorld scenes. It stands in for FID (Heusel et al. 2017) in the ToyWorld
 * experiments: Inception features know nothing of ToyWorld, the segmenter's were trained on it.
 *
 * <p>The reference set is the test split (seeds from {@link #TEST_SEEDS}); another real set, such as the validation
 * split, gives the metric's floor for a sample size (FID is biased upwards for small sets). Compare FIDs only at
 * equal sample sizes.
 */
public final class ToyWorldFid {
    /** ToyWorld's held-out test split starts here (validation: 1 000 000; training: below). */
    public static final long TEST_SEEDS = 2_000_000L;
    public static final long VALIDATION_SEEDS = 1_000_000L;

    private final ToyWorldSegmenter segmenter;

    public ToyWorldFid(ToyWorldSegmenter segmenter) { this.segmenter = segmenter; }

    /** {@code count} real scenes of the given size from {@code firstSeed}. */
    public static List<Scene> scenes(long firstSeed, int count, int size) {
        SceneOptions options = SceneOptions.square(size);
        List<Scene> out = new ArrayList<>(count);
        for (int i = 0; i < count; i++) out.add(ToyWorld.sample(firstSeed + i, options));
        return out;
    }

    public FrechetDistance.Statistics statistics(List<int[]> rgb, int width, int height) {
        return FrechetDistance.statistics(segmenter.embeddings(rgb, width, height));
    }

    /** Statistics of {@code count} real scenes from {@code firstSeed}. */
    public FrechetDistance.Statistics realStatistics(long firstSeed, int count, int size) {
        return statistics(scenes(firstSeed, count, size).stream().map(Scene::rgb).toList(), size, size);
    }

    /** ToyWorld-FID of images against reference statistics. */
    public double fid(List<int[]> rgb, int width, int height, FrechetDistance.Statistics reference) {
        return FrechetDistance.distance(statistics(rgb, width, height), reference);
    }
}
