package org.ldm4j.schedulers;

import org.bytedeco.pytorch.Scalar;
import org.bytedeco.pytorch.ScalarOptional;
import org.bytedeco.pytorch.Tensor;

/**
 * The config keys with which DDIM and DDPM post-process their x0 prediction, and that step (diffusers
 * {@code scheduling_ddim.py} step 4, {@code scheduling_ddpm.py} step 3): Imagen's dynamic thresholding when
 * {@code thresholding}, else clipping to ±{@code clip_sample_range} when {@code clip_sample}. The scheduler configs are
 * records whose components already are these accessors.
 */
interface PredictedSampleClipping {
    Boolean thresholding();
    Double dynamicThresholdingRatio();
    Double sampleMaxValue();
    Boolean clipSample();
    Double clipSampleRange();

    /** x0 thresholded, clipped, or as it was. */
    default Tensor clipPredictedSample(Tensor x0) {
        if (thresholding()) return DynamicThresholding.apply(x0, dynamicThresholdingRatio(), sampleMaxValue());
        if (!clipSample()) return x0;
        double r = clipSampleRange();
        return x0.clamp(new ScalarOptional(new Scalar(-r)), new ScalarOptional(new Scalar(r)));
    }
}
