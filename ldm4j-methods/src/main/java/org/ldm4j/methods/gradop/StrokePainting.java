package org.ldm4j.methods.gradop;

import org.bytedeco.pytorch.Scalar;
import org.bytedeco.pytorch.Tensor;
import org.ldm4j.image.Images;

import java.awt.Color;
import java.awt.Graphics2D;
import java.awt.RenderingHints;
import java.awt.image.BufferedImage;
import java.io.IOException;
import java.nio.file.Path;
import java.util.Arrays;

/**
 * The user's stroke painting y as GradOP reads it: (1, 3, H, W) float32 in [0, 1].
 *
 * <p>Official preprocessing: uint8 → [−1, 1] → back to [0, 1] with (t + 1) / 2 (the same float32 rounding is kept).
 * Unlike the official code, which only works at 512x512 and drops alpha with {@code convert('RGB')}, any size that is
 * a multiple of the VAE factor is accepted and RGBA paintings are composited on a chosen background (a drawing
 * canvas's transparent pixels are its background, as paint2pix's demo composites them).
 */
public final class StrokePainting {
    private StrokePainting() {}

    /** Reads a painting file, translucent pixels composited on {@code background}. */
    public static BufferedImage read(Path file, Color background) throws IOException {
        return Images.readImage(file, background);
    }

    /** y in [0, 1], (1, 3, H, W), from an RGB image (composite RGBA first: {@link #read}). */
    public static Tensor toTensor(BufferedImage rgb) {
        return Images.toTensor(rgb).add(new Scalar(1.0)).div(new Scalar(2.0));
    }

    /** Bicubic resize (what {@code run.py}'s PIL {@code resize((512, 512))} does), or the image itself at that size. */
    public static BufferedImage resize(BufferedImage image, int width, int height) {
        if (width <= 0 || height <= 0) throw new IllegalArgumentException("resize target must be positive, got " + width + "x" + height);
        if (image.getWidth() == width && image.getHeight() == height) return image;
        BufferedImage out = new BufferedImage(width, height, BufferedImage.TYPE_INT_RGB);
        Graphics2D g = out.createGraphics();
        g.setRenderingHint(RenderingHints.KEY_INTERPOLATION, RenderingHints.VALUE_INTERPOLATION_BICUBIC);
        g.drawImage(image, 0, 0, width, height, null);
        g.dispose();
        return out;
    }

    /** Parses "#RRGGBB" (or "RRGGBB"). */
    public static Color parseColour(String text) {
        String s = text.strip();
        if (s.startsWith("#")) s = s.substring(1);
        if (!s.matches("[0-9a-fA-F]{6}")) throw new IllegalArgumentException("colour must be #RRGGBB, got '" + text + "'");
        return new Color(Integer.parseInt(s, 16));
    }

    /**
     * Fails with an IllegalArgumentException naming {@code what} unless {@code t} is (1, 3, H, W) with H and W
     * positive multiples of {@code multiple}.
     */
    static void check(Tensor t, int multiple, String what) {
        if (t.dim() != 4 || t.size(0) != 1 || t.size(1) != 3) {
            throw new IllegalArgumentException(what + " must be one RGB image (1, 3, H, W), got " + Arrays.toString(t.sizes().vec().get()));
        }
        long h = t.size(2), w = t.size(3);
        if (h % multiple != 0 || w % multiple != 0) {
            throw new IllegalArgumentException(what + ": size " + w + "x" + h + " is not a multiple of " + multiple
                    + " (resize the painting, e.g. to " + Math.max(multiple, w / multiple * multiple) + "x"
                    + Math.max(multiple, h / multiple * multiple) + ")");
        }
    }
}
