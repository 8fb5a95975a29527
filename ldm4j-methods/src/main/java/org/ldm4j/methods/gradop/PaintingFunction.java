package org.ldm4j.methods.gradop;

import org.bytedeco.pytorch.Tensor;

/**
 * The autonomous painting function f of GradOP (Singh et al., CVPR 2023, §3): turns an image into the coarse
 * painting a user would have drawn of it, so that faithfulness is L(f(x), y) against the user's painting y.
 * It must be differentiable (or carry a straight-through gradient): GradOP back-propagates through it to the latent.
 *
 * <p>Implementations: {@link GaussianBlur} (the official code's f) and {@link MedianPalette} (the "median filter +
 * palette quantization" the authors' code comment says works better, at a higher cost).
 */
public interface PaintingFunction {
    /** Names accepted by {@link #create}. */
    String BLUR = "blur";
    String MEDIAN_PALETTE = "median-palette";

    /**
     * @param image (B, 3, H, W) in [0, 1]
     * @return f(image), same shape, with a gradient path back to {@code image}
     */
    Tensor paint(Tensor image);

    /** The name this function is selected by. */
    String name();

    /**
     * The painting function named in {@code settings}, for losses computed on images {@code downscale} times smaller
     * than the painting (kernel sizes shrink with it; see {@link GradOpPlusSettings#lossScale()}).
     *
     * @param target the user's painting (1, 3, H, W) in [0, 1] at the loss resolution (the palette is taken from it)
     */
    static PaintingFunction create(PaintingSettings settings, Tensor target, int downscale) {
        settings.validate();
        if (downscale < 1) throw new IllegalArgumentException("painting downscale must be >= 1, got " + downscale);
        return switch (settings.function()) {
            case BLUR -> new GaussianBlur(downscale == 1 ? settings.blurKernel() : oddAtLeast3((double) settings.blurKernel() / downscale),
                    settings.blurSigma() / downscale);
            case MEDIAN_PALETTE -> {
                int side = (int) Math.min(target.size(2), target.size(3));
                int size = settings.medianSize() > 0
                        ? (downscale == 1 ? settings.medianSize() : oddAtLeast3((double) settings.medianSize() / downscale))
                        : MedianPalette.autoSize(side);
                yield new MedianPalette(size, MedianPalette.paletteOf(target, settings.paletteColours(),
                        settings.paletteMinCoverage()));
            }
            default -> throw new IllegalArgumentException("unknown painting function '" + settings.function()
                    + "' (expected " + BLUR + " or " + MEDIAN_PALETTE + ")");
        };
    }

    /** The nearest odd integer >= 3 to {@code size}: kernels must be centred. */
    static int oddAtLeast3(double size) {
        int k = (int) Math.round(size);
        if (k % 2 == 0) k += 1;
        return Math.max(3, k);
    }
}
