package org.ldm4j.methods.fgdm;

import org.bytedeco.pytorch.Tensor;

/** An external segmenter for image-level SBPC (the paper used Segformer-B4; ToyWorld's evaluator provides one). */
@FunctionalInterface
public interface ImageSegmenter {
    /** @param image (1, 3, H, W) in [-1, 1] */
    ClassMap segment(Tensor image);
}
