package org.ldm4j.methods.blended;

import org.bytedeco.pytorch.LongOptional;
import org.bytedeco.pytorch.Scalar;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch;

import java.util.Arrays;

/**
 * Pixel masks (white = 1 = edit) checked against their image and taken to latent resolution, for Blended Latent
 * Diffusion (brief {@code blended.md}, sec. 2 and 4).
 *
 * <p>How the official code downsamples: PIL {@code resize(NEAREST)} of the "L" mask to the latent size, which samples
 * the <em>centre</em> pixel of each f×f block (pixel f·i + f/2; torch's {@code nearest-exact}), not the top-left one
 * (torch {@code nearest}, which diffusers' inpainting uses). A stroke thinner than f pixels can fall between the
 * sampled pixels and vanish; {@link Downsampling#MAX} (any edit pixel marks its cell, as stable-diffusion.cpp does)
 * keeps it, {@link Downsampling#AREA} gives the covered fraction. Dilation then grows the latent mask by squares.
 */
public final class Masks {
    private Masks() {}

    /** Pixel mask (1, 1, H, W) -> latent mask (1, 1, H/f, W/f). */
    public enum Downsampling {
        /** PIL NEAREST, the official code: pixel (f·i + f/2, f·j + f/2). */
        NEAREST_CENTRE,
        /** torch {@code interpolate(mode="nearest")}, diffusers' inpainting: pixel (f·i, f·j). */
        NEAREST_TOP_LEFT,
        /** Mean over each block: the fraction of the cell to edit (soft unless a threshold is set). */
        AREA,
        /** Max over each block: a cell is edited if any of its pixels is (thin strokes survive). */
        MAX
    }

    /**
     * Fails with a message naming the problem unless {@code mask} is (1, 1, H, W) with the image's H and W, both
     * multiples of {@code factor}, and holds at least one edit pixel.
     */
    public static void check(Tensor mask, Tensor image, int factor) {
        if (mask.dim() != 4 || mask.size(0) != 1 || mask.size(1) != 1) {
            throw new IllegalArgumentException("mask must be one grey-scale image (1, 1, H, W), got " + shape(mask));
        }
        if (image.dim() != 4 || image.size(0) != 1 || image.size(1) != 3) {
            throw new IllegalArgumentException("image must be one RGB image (1, 3, H, W), got " + shape(image));
        }
        if (mask.size(2) != image.size(2) || mask.size(3) != image.size(3)) {
            throw new IllegalArgumentException("mask is " + mask.size(3) + "x" + mask.size(2) + " but the image is "
                    + image.size(3) + "x" + image.size(2) + ": they must have the same size");
        }
        if (image.size(2) % factor != 0 || image.size(3) % factor != 0) {
            throw new IllegalArgumentException("image is " + image.size(3) + "x" + image.size(2)
                    + ": width and height must be multiples of " + factor + " (the VAE's scale factor)");
        }
        if (isEmpty(mask)) {
            throw new IllegalArgumentException("mask is empty (all black): nothing to edit; paint the region to change white");
        }
    }

    /** True when no pixel is marked for editing. */
    public static boolean isEmpty(Tensor mask) { return mask.max().item_double() <= 0; }

    /** True when every pixel is marked for editing (the edit is then plain text2img). */
    public static boolean isFull(Tensor mask) { return mask.min().item_double() >= 1; }

    /**
     * The latent mask: {@code mode} downsampling by {@code factor}, then 1 where the value is {@code >= threshold}
     * (the SD2 script's {@code latent_mask[latent_mask < 0.5] = 0; [>= 0.5] = 1}), or the raw values when
     * {@code threshold} is null (the LDM code). Float32, (1, 1, H/f, W/f).
     */
    public static Tensor toLatent(Tensor mask, int factor, Downsampling mode, Double threshold) {
        Tensor m = mask.to(torch.ScalarType.Float);
        Tensor lat = switch (mode) {
            case NEAREST_CENTRE -> every(m, factor, factor / 2);
            case NEAREST_TOP_LEFT -> every(m, factor, 0);
            case AREA -> torch.avg_pool2d(m, factor, factor);
            case MAX -> torch.max_pool2d(m, factor, factor);
        };
        if (threshold != null) lat = lat.ge(new Scalar(threshold)).to(torch.ScalarType.Float);
        return lat.contiguous();
    }

    /** Pixels (offset + f·i, offset + f·j): PIL NEAREST for offset f/2 when H is a multiple of f. */
    private static Tensor every(Tensor m, int f, int offset) {
        return m.slice(2, new LongOptional(offset), new LongOptional(m.size(2)), f)
                .slice(3, new LongOptional(offset), new LongOptional(m.size(3)), f);
    }

    /**
     * Binary dilation by a {@code side}×{@code side} square (odd side; scipy's {@code binary_dilation} with a square
     * structure, as the LDM code's mask shrinking uses): a cell becomes 1 if any cell within side/2 is 1.
     */
    public static Tensor dilate(Tensor mLat, int side) {
        if (side < 1 || side % 2 == 0) throw new IllegalArgumentException("dilation square side must be odd and >= 1, got " + side);
        if (side == 1) return mLat;
        int r = side / 2;
        return torch.max_pool2d(mLat, new long[]{side, side}, new long[]{1, 1}, new long[]{r, r}, new long[]{1, 1}, false);
    }

    /** Fraction of cells (or pixels) marked for editing. */
    public static double coverage(Tensor mask) { return mask.to(torch.ScalarType.Float).mean().item_double(); }

    static String shape(Tensor t) { return Arrays.toString(t.sizes().vec().get()); }
}
