package org.ldm4j.methods.guidance;

import org.bytedeco.pytorch.Tensor;

/** A differentiable segmenter: per-pixel class logits of images, with a graph back to the images. */
@FunctionalInterface
public interface Segmenter {
    /**
     * @param images (B, 3, H, W) in [-1, 1]
     * @return (B, classes, H, W) logits
     */
    Tensor logits(Tensor images);
}
