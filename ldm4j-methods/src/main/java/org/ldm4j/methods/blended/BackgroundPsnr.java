package org.ldm4j.methods.blended;

import org.bytedeco.pytorch.Scalar;
import org.bytedeco.pytorch.ScalarOptional;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch;

/**
 * Background preservation: PSNR (dB) between the sample and the input outside the mask, on the [0, 1] scale
 * (10·log10(1 / MSE) over the unmasked pixels and all three channels), the sample clamped to the displayable range
 * first. +∞ when the outside matches exactly or there is no outside (a full mask leaves nothing to preserve).
 */
public final class BackgroundPsnr implements EditScorer {
    @Override public double score(Tensor edited, Tensor source, Tensor mask, String prompt) {
        return psnrOutside(edited, source, mask);
    }

    @Override public String name() { return "background-psnr"; }

    /** The PSNR outside {@code mask} of two images in [-1, 1]. */
    public static double psnrOutside(Tensor a, Tensor b, Tensor mask) {
        Tensor outside = mask.to(torch.ScalarType.Float).neg().add(new Scalar(1.0));   // (1, 1, H, W)
        double pixels = outside.sum().item_double();
        if (pixels == 0) return Double.POSITIVE_INFINITY;
        Tensor x = a.to(torch.ScalarType.Float).clamp(new ScalarOptional(new Scalar(-1.0)), new ScalarOptional(new Scalar(1.0)));
        Tensor y = b.to(torch.ScalarType.Float);
        Tensor diff = x.sub(y).mul(new Scalar(0.5));                                     // [0, 1] scale
        double mse = diff.mul(diff).mul(outside).sum().item_double() / (pixels * a.size(1));
        return mse == 0 ? Double.POSITIVE_INFINITY : 10 * Math.log10(1 / mse);
    }
}
