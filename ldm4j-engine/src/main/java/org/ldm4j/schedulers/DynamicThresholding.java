package org.ldm4j.schedulers;

import org.bytedeco.pytorch.LongOptional;
import org.bytedeco.pytorch.Scalar;
import org.bytedeco.pytorch.ScalarOptional;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.TensorOptional;
import org.bytedeco.pytorch.global.torch;
import org.bytedeco.pytorch.global.torch.ScalarType;
import org.ldm4j.nn.Dtypes;

/**
 * Imagen's dynamic thresholding (Saharia et al. 2022, sec. 2.3), diffusers {@code _threshold_sample}: per example,
 * s = the {@code ratio} quantile of |x0|, clamped to [1, maxValue]; x0 is clipped to [-s, s] and divided by s.
 */
final class DynamicThresholding {
    private DynamicThresholding() {}

    static Tensor apply(Tensor sample, double ratio, double maxValue) {
        ScalarType dtype = sample.scalar_type();
        Tensor x = Dtypes.same(dtype, ScalarType.Float) || Dtypes.same(dtype, ScalarType.Double)
                ? sample : sample.to(ScalarType.Float);    // quantile needs float; clamp lacks CPU half
        long[] shape = sample.sizes().vec().get();
        Tensor flat = x.reshape(shape[0], -1);
        Tensor s = flat.abs().quantile(ratio, new LongOptional(1), false, "linear");
        s = s.clamp(new ScalarOptional(new Scalar(1.0)), new ScalarOptional(new Scalar(maxValue))).unsqueeze(1);
        Tensor clipped = torch.clamp(flat, new TensorOptional(s.neg()), new TensorOptional(s)).div(s);
        return clipped.reshape(shape).to(dtype);
    }
}
