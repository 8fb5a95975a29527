package org.ldm4j.methods.gradop;

import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch;
import org.ldm4j.nn.Dtypes;
import org.ldm4j.nn.Tensors;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * The better painting function the GradOP authors mention in their code ("Median Filter + Palette Quantization"),
 * not in the official release: f(x) = snap(median_k(x)), where the median filter removes texture and thin detail as a
 * painter would, and snap replaces every pixel by its nearest palette colour, the palette being the user's painting's
 * own dominant colours.
 *
 * <p>The snap is piecewise constant, so it is given a straight-through gradient (Bengio et al. 2013):
 * forward {@code snap(m)}, backward the identity, written {@code m + (snap(m) - m).detach()}. The median passes its
 * gradient to the selected pixel of each window (libtorch's median backward). Reflect padding as {@link GaussianBlur}.
 * Cost: the window is unfolded, k² values per pixel and channel (81 at 512x512 with k = 9: about 0.25 GB in float32).
 */
public final class MedianPalette implements PaintingFunction {
    private final int size;
    private final float[] palette;   // (K, 3) row-major, values in [0, 1]

    /** @param palette K colours as rows of 3 values in [0, 1] */
    public MedianPalette(int size, float[][] palette) {
        if (size < 1 || size % 2 == 0) throw new IllegalArgumentException("median size must be odd and >= 1, got " + size);
        if (palette.length == 0) throw new IllegalArgumentException("palette is empty: the painting has no dominant colour");
        this.size = size;
        this.palette = new float[palette.length * 3];
        for (int i = 0; i < palette.length; i++) {
            if (palette[i].length != 3) throw new IllegalArgumentException("palette colour " + i + " has " + palette[i].length + " values, expected 3");
            System.arraycopy(palette[i], 0, this.palette, 3 * i, 3);
        }
    }

    /** About 1/57 of the shorter side (9 at 512, 3 at 64 and below), odd. */
    public static int autoSize(int side) { return PaintingFunction.oddAtLeast3(side / 57.0); }

    public int size() { return size; }

    public int colours() { return palette.length / 3; }

    @Override public String name() { return MEDIAN_PALETTE; }

    @Override
    public Tensor paint(Tensor image) {
        long b = image.size(0), c = image.size(1), h = image.size(2), w = image.size(3);
        int pad = size / 2;
        if (pad >= h || pad >= w) {
            throw new IllegalArgumentException("median window " + size + " needs images larger than " + pad
                    + " pixels per side, got " + w + "x" + h);
        }
        // 1. median over each k x k window: (B, C, H, W, k, k) -> (B, C, H, W)
        Tensor padded = torch.reflection_pad2d(image, pad, pad, pad, pad);
        Tensor windows = padded.unfold(2, size, 1).unfold(3, size, 1).reshape(b, c, h, w, (long) size * size);
        Tensor m = windows.median(4).get0();
        // 2. nearest palette colour per pixel (squared RGB distance)
        long k = colours();
        Tensor pal = Dtypes.to(Tensors.ofFloats(palette, k, 3), image.device(), image.scalar_type());   // (K, 3)
        Tensor pixels = m.detach().permute(0, 2, 3, 1).reshape(b * h * w, c);                       // (BHW, 3)
        Tensor d = pixels.unsqueeze(1).sub(pal.unsqueeze(0)).pow(new org.bytedeco.pytorch.Scalar(2.0)).sum(new long[]{2}, false, new org.bytedeco.pytorch.ScalarTypeOptional());
        Tensor nearest = d.argmin(new org.bytedeco.pytorch.LongOptional(1), false);                  // (BHW,)
        Tensor snapped = pal.index_select(0, nearest).reshape(b, h, w, c).permute(0, 3, 1, 2);        // (B, 3, H, W)
        // 3. straight-through: the value of the snap, the gradient of the median
        return m.add(snapped.sub(m).detach());
    }

    /**
     * The palette of a painting: its most frequent exact 8-bit colours, at most {@code maxColours}, each covering at
     * least {@code minCoverage} of the pixels (anti-aliased edge colours are rare and drop out).
     *
     * @param painting (1, 3, H, W) in [0, 1]
     * @throws IllegalArgumentException when no colour covers enough pixels (the palette would be empty)
     */
    public static float[][] paletteOf(Tensor painting, int maxColours, double minCoverage) {
        if (painting.dim() != 4 || painting.size(1) != 3) {
            throw new IllegalArgumentException("painting must be (1, 3, H, W), got " + java.util.Arrays.toString(painting.sizes().vec().get()));
        }
        long n = painting.size(2) * painting.size(3);
        float[] v = Tensors.toFloats(painting.select(0, 0));
        Map<Integer, Integer> counts = new HashMap<>();
        for (int i = 0; i < n; i++) {
            int rgb = to8(v[i]) << 16 | to8(v[(int) n + i]) << 8 | to8(v[2 * (int) n + i]);
            counts.merge(rgb, 1, Integer::sum);
        }
        List<Map.Entry<Integer, Integer>> sorted = new ArrayList<>(counts.entrySet());
        sorted.sort((a, bb) -> bb.getValue() != a.getValue().intValue() ? bb.getValue() - a.getValue() : a.getKey() - bb.getKey());
        List<float[]> out = new ArrayList<>();
        for (Map.Entry<Integer, Integer> e : sorted) {
            if (out.size() >= maxColours || e.getValue() < minCoverage * n) break;
            int rgb = e.getKey();
            out.add(new float[]{(rgb >> 16 & 255) / 255f, (rgb >> 8 & 255) / 255f, (rgb & 255) / 255f});
        }
        if (out.isEmpty()) {
            throw new IllegalArgumentException("palette is empty: no colour of the painting covers " + (minCoverage * 100)
                    + "% of its pixels (lower the palette min coverage)");
        }
        return out.toArray(new float[0][]);
    }

    private static int to8(float x) { return Math.max(0, Math.min(255, Math.round(x * 255f))); }
}
