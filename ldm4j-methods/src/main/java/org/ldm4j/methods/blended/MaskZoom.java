package org.ldm4j.methods.blended;

import org.bytedeco.pytorch.LongOptional;
import org.bytedeco.pytorch.Scalar;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch;
import org.ldm4j.nn.Tensors;

/**
 * Edits a small mask at the model's full resolution: a box around the mask (its bounding box grown {@code context}
 * times, the image's aspect) is cut out, enlarged to the image size, edited there, and the result shrunk back into
 * the box. The idea is image editors' "inpaint only the masked area at full resolution"; ldm4j adds it to Blended
 * Latent Diffusion because a mask of a few latent cells leaves the model too few cells to draw an object in (on the
 * 8-channel ToyWorld model, replacements in masks under 100 pixels of 64x64 succeeded 2 times in 13, larger ones 46 in
 * 51; docs/results-blended.md, session 22). Outside the box the input is untouched; inside it, outside the mask, the
 * edit keeps the enlarged input as any blend does, and the final pixel paste restores the original there.
 *
 * @param top first row of the box in the input
 * @param left first column of the box
 * @param height rows of the box
 * @param width columns of the box
 * @param fullHeight the input's height (the box is enlarged to it)
 * @param fullWidth the input's width
 */
public record MaskZoom(int top, int left, int height, int width, int fullHeight, int fullWidth) {

    /** Boxes at least this fraction of the image side are not worth a zoom: the edit runs on the whole image. */
    static final double LARGEST_BOX = 0.75;
    /** The box is at least this fraction of the image side: more enlargement would only magnify the input's pixels. */
    static final double SMALLEST_BOX = 0.125;

    public MaskZoom {
        if (height < 1 || width < 1 || top < 0 || left < 0 || top + height > fullHeight || left + width > fullWidth) {
            throw new IllegalArgumentException("zoom box " + width + "x" + height + " at (" + left + ", " + top
                    + ") does not fit a " + fullWidth + "x" + fullHeight + " image");
        }
    }

    /**
     * The box for {@code mask} (1, 1, H, W), or null when the edit should run on the whole image: {@code context}
     * is 0 (off) or the grown box would cover {@link #LARGEST_BOX} of the image side or more.
     *
     * @param context the box side over the mask's bounding-box side, 0 = off, else at least 1.5 (room for context)
     */
    public static MaskZoom around(Tensor mask, double context) {
        if (context == 0) return null;
        checkContext(context);
        int h = (int) mask.size(2), w = (int) mask.size(3);
        float[] m = Tensors.toFloats(mask.to(torch.ScalarType.Float).contiguous());
        int y0 = h, y1 = -1, x0 = w, x1 = -1;
        for (int y = 0; y < h; y++) {
            for (int x = 0; x < w; x++) {
                if (m[y * w + x] > 0.5f) {
                    y0 = Math.min(y0, y); y1 = Math.max(y1, y);
                    x0 = Math.min(x0, x); x1 = Math.max(x1, x);
                }
            }
        }
        if (y1 < 0) return null;   // no edit pixel: Masks.check names the problem
        double share = context * Math.max((y1 - y0 + 1) / (double) h, (x1 - x0 + 1) / (double) w);
        if (share >= LARGEST_BOX) return null;
        share = Math.max(share, SMALLEST_BOX);
        int bh = Math.max(1, (int) Math.round(h * share)), bw = Math.max(1, (int) Math.round(w * share));
        int top = clamp((int) Math.round((y0 + y1 + 1) / 2.0 - bh / 2.0), h - bh);
        int left = clamp((int) Math.round((x0 + x1 + 1) / 2.0 - bw / 2.0), w - bw);
        return new MaskZoom(top, left, bh, bw, h, w);
    }

    static void checkContext(double context) {
        if (!(context == 0 || (Double.isFinite(context) && context >= 1.5))) {
            throw new IllegalArgumentException("zoom context must be 0 (off) or >= 1.5 (the box around the mask, in mask "
                    + "sizes), got " + context);
        }
    }

    private static int clamp(int v, int max) { return Math.max(0, Math.min(v, max)); }

    /** The box of {@code image} (1, C, H, W) enlarged to H x W (bilinear, half-pixel centres as torch's default). */
    public Tensor enlarge(Tensor image) {
        Tensor box = image.slice(2, new LongOptional(top), new LongOptional(top + height), 1)
                .slice(3, new LongOptional(left), new LongOptional(left + width), 1).to(torch.ScalarType.Float);
        return torch.upsample_bilinear2d(box, new long[]{fullHeight, fullWidth}, false);
    }

    /** The box of a mask enlarged and binarised at 0.5, so the edit sees a mask as the user drew it, only larger. */
    public Tensor enlargeMask(Tensor mask) {
        return enlarge(mask).ge(new Scalar(0.5)).to(torch.ScalarType.Float);
    }

    /**
     * {@code edited} (1, C, H, W), the edit of the enlarged box, shrunk back (area averaging, torch's
     * {@code interpolate(mode="area")}) into a copy of {@code full} (1, C, H, W).
     */
    public Tensor paste(Tensor edited, Tensor full) {
        Tensor small = torch.adaptive_avg_pool2d(edited.to(torch.ScalarType.Float), height, width);
        Tensor out = full.to(torch.ScalarType.Float).clone();
        out.slice(2, new LongOptional(top), new LongOptional(top + height), 1)
                .slice(3, new LongOptional(left), new LongOptional(left + width), 1).copy_(small);
        return out;
    }
}
