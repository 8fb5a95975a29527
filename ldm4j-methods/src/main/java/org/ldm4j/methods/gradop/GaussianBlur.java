package org.ldm4j.methods.gradop;

import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.TensorOptional;
import org.bytedeco.pytorch.global.torch;
import org.ldm4j.nn.Dtypes;
import org.ldm4j.nn.Tensors;

/**
 * GradOP's official painting function: a separable Gaussian blur with reflect padding, as kornia 0.6.0's
 * {@code gaussian_blur2d(x, (35, 35), (7, 7))} with its defaults ({@code border_type='reflect'}, separable).
 *
 * <p>The 1-D kernel is torchvision's / kornia's: {@code g[i] = exp(-(i - k/2)² / (2σ²))} for i = 0..k-1, normalised
 * to sum 1. Each pass pads only its own axis by k/2 with mirror padding that does not repeat the edge pixel (torch
 * {@code reflect} = OpenCV BORDER_REFLECT_101), then correlates every channel separately: horizontal first, then
 * vertical, in kornia's order. The backward pass is libtorch's (the same correlation, padding gradients folded back).
 */
public final class GaussianBlur implements PaintingFunction {
    private final int kernelSize;
    private final double sigma;
    private final float[] kernel;

    /** @param kernelSize odd window side; @param sigma standard deviation in pixels */
    public GaussianBlur(int kernelSize, double sigma) {
        if (kernelSize < 1 || kernelSize % 2 == 0) throw new IllegalArgumentException("blur kernel size must be odd and >= 1, got " + kernelSize);
        if (!(sigma > 0)) throw new IllegalArgumentException("blur sigma must be > 0, got " + sigma);
        this.kernelSize = kernelSize;
        this.sigma = sigma;
        this.kernel = kernel1d(kernelSize, sigma);
    }

    /** The normalised 1-D Gaussian window (computed in double, rounded once to float32). */
    public static float[] kernel1d(int kernelSize, double sigma) {
        double[] g = new double[kernelSize];
        double sum = 0;
        int half = kernelSize / 2;
        for (int i = 0; i < kernelSize; i++) {
            double x = i - half;
            g[i] = Math.exp(-x * x / (2 * sigma * sigma));
            sum += g[i];
        }
        float[] out = new float[kernelSize];
        for (int i = 0; i < kernelSize; i++) out[i] = (float) (g[i] / sum);
        return out;
    }

    public int kernelSize() { return kernelSize; }

    public double sigma() { return sigma; }

    @Override public String name() { return BLUR; }

    @Override
    public Tensor paint(Tensor image) {
        long channels = image.size(1), h = image.size(2), w = image.size(3);
        int pad = kernelSize / 2;
        if (pad >= h || pad >= w) {
            throw new IllegalArgumentException("blur kernel " + kernelSize + " needs images larger than " + pad
                    + " pixels per side for reflect padding, got " + w + "x" + h + " (use a smaller --blur-kernel)");
        }
        Tensor k = Dtypes.to(Tensors.ofFloats(kernel, 1, 1, 1, kernelSize), image.device(), image.scalar_type());
        Tensor kx = k.expand(channels, 1, 1, kernelSize);                          // (C, 1, 1, k)
        Tensor ky = k.reshape(1, 1, kernelSize, 1).expand(channels, 1, kernelSize, 1);   // (C, 1, k, 1)
        Tensor x = torch.reflection_pad2d(image, pad, pad, 0, 0);
        x = torch.conv2d(x, kx, new TensorOptional(), new long[]{1, 1}, new long[]{0, 0}, new long[]{1, 1}, channels);
        x = torch.reflection_pad2d(x, 0, 0, pad, pad);
        return torch.conv2d(x, ky, new TensorOptional(), new long[]{1, 1}, new long[]{0, 0}, new long[]{1, 1}, channels);
    }

    @Override public String toString() { return "GaussianBlur(" + kernelSize + ", sigma " + sigma + ")"; }
}
