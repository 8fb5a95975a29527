package org.ldm4j.methods.gradop;

import org.bytedeco.pytorch.Tensor;

/**
 * A differentiable objective of a latent, minimised by {@link LatentOptimizer}: GradOP's faithfulness term
 * ({@link PaintingLoss}), or a segmenter's disagreement with a wanted class map
 * ({@link org.ldm4j.methods.guidance.SegmentationLoss}).
 */
@FunctionalInterface
public interface LatentObjective {
    /** The objective as a scalar in z's dtype, with a graph back to z when z requires grad. */
    Tensor value(Tensor z);
}
