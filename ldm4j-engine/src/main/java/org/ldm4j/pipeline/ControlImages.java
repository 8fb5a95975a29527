package org.ldm4j.pipeline;

import org.bytedeco.pytorch.Tensor;
import org.ldm4j.image.Images;
import org.ldm4j.nn.Tensors;

import java.awt.image.BufferedImage;
import java.io.IOException;
import java.nio.file.Path;

/**
 * Control images as the diffusers ControlNet and T2I-Adapter pipelines feed them: RGB, {@code /255} to [0, 1]
 * (no [-1, 1] normalisation: {@code VaeImageProcessor(do_normalize=False)} for ControlNet, {@code / 255.0} in
 * {@code _preprocess_adapter_image}), float32, (1, C, H, W). One-channel adapters (sketch) get PIL's {@code convert("L")}
 * luminance. Unlike diffusers, nothing is resized: a control image of another size than the output is an error.
 */
public final class ControlImages {
    private ControlImages() {}

    /** Reads a control image with {@code channels} (3, or 1 for grey) as (1, C, H, W) in [0, 1]. */
    public static Tensor read(Path path, int channels) throws IOException {
        return toTensor(Images.readImage(path), channels);
    }

    /** An image (8-bit RGB, as {@link Images#readImage} returns) as (1, C, H, W) in [0, 1]. */
    public static Tensor toTensor(BufferedImage image, int channels) {
        if (channels != 1 && channels != 3) throw new IllegalArgumentException("control images have 1 or 3 channels, not " + channels);
        int w = image.getWidth(), h = image.getHeight(), n = w * h;
        int[] rgb = image.getRGB(0, 0, w, h, null, 0, w);
        float[] out = new float[channels * n];
        for (int i = 0; i < n; i++) {
            int r = (rgb[i] >> 16) & 255, g = (rgb[i] >> 8) & 255, b = rgb[i] & 255;
            if (channels == 3) {
                out[i] = r / 255f;
                out[n + i] = g / 255f;
                out[2 * n + i] = b / 255f;
            } else {
                out[i] = ((r * 19595 + g * 38470 + b * 7471 + 0x8000) >> 16) / 255f;   // PIL "L": ITU-R 601-2 luma, 16-bit fixed point
            }
        }
        return Tensors.ofFloats(out, 1, channels, h, w);
    }

    /** Throws unless {@code image} is (1, C, height, width). */
    public static void requireSize(String what, Tensor image, int width, int height) {
        if (image.dim() != 4 || image.size(0) != 1) {
            throw new IllegalArgumentException(what + " must be one image (1, C, H, W), got shape "
                    + java.util.Arrays.toString(image.sizes().vec().get()));
        }
        if (image.size(2) != height || image.size(3) != width) {
            throw new IllegalArgumentException(what + " is " + image.size(3) + "x" + image.size(2) + " but the output is "
                    + width + "x" + height + ": resize it to the output size");
        }
    }
}
