package org.ldm4j.methods.blended;

import org.bytedeco.pytorch.Tensor;

import java.util.List;

/**
 * The outcome of one edit: every sample in seed order, their ranking, and the best one after repair.
 *
 * @param samples seeds seed..seed+n-1, each decoded with the original decoder (no repair, no paste)
 * @param ranking indices into {@code samples}, best first (ties keep seed order)
 * @param best the best sample after background repair and the pixel paste, as enabled, (1, 3, H, W) in ~[-1, 1]
 * @param repair the repair of the best sample, or null when off (its image is that of the enlarged box when the
 *               edit zoomed on a small mask, {@link MaskZoom})
 * @param warnings notes for the user (full mask, ...)
 */
public record EditResult(List<Sample> samples, List<Integer> ranking, Tensor best, BackgroundRepair.Result repair,
                         String scorer, List<String> warnings) {

    /**
     * One sample: its seed, final latents z_0 (as the UNet sees them; of the enlarged box when the edit zoomed), decoded
     * image (always the input's size) and score.
     */
    public record Sample(long seed, Tensor latents, Tensor image, double score) {}

    public Sample bestSample() { return samples.get(ranking.get(0)); }

    /** The samples best first. */
    public List<Sample> ranked() { return ranking.stream().map(samples::get).toList(); }
}
