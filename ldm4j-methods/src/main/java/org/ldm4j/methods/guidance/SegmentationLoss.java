package org.ldm4j.methods.guidance;

import org.bytedeco.pytorch.Scalar;
import org.bytedeco.pytorch.ScalarOptional;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch;
import org.ldm4j.methods.gradop.LatentObjective;
import org.ldm4j.nn.Dtypes;
import org.ldm4j.nn.Tensors;
import org.ldm4j.pipeline.StableDiffusion;

import java.util.HashMap;
import java.util.Map;

/**
 * The segmenter's cross-entropy of the decoded latent against wanted classes:
 * <pre>
 *   L(z) = − Σ_p w_p · log softmax(S(clamp(D(z), −1, 1)))_{y_p, p}  /  Σ_p w_p
 * </pre>
 * over the pixels p with a wanted class y_p (an ignored pixel has weight 0), w_p = n(y_p)^−b for a class covering n
 * pixels: b = 0 gives every wanted pixel weight 1; b = 1 gives each class the same total weight, as mIoU counts each
 * class once whatever its size, so a car of 40 pixels pulls as hard as the sky around it.
 */
public final class SegmentationLoss implements LatentObjective {
    /** A pixel no class is wanted for. */
    public static final int IGNORED = -1;

    private final StableDiffusion sd;
    private final Segmenter segmenter;
    private final long[] classes;
    private final float[] weights;
    private final int width, height;

    /**
     * @param wanted   the wanted class of each pixel, row-major, {@link #IGNORED} for none; width x height is the
     *                 decoded image's size
     * @param balance  b in [0, 1]: 0 = each pixel weighs the same, 1 = each wanted class in total
     */
    public SegmentationLoss(StableDiffusion sd, Segmenter segmenter, int[] wanted, int width, int height, double balance) {
        if (wanted.length != (long) width * height) {
            throw new IllegalArgumentException("wanted classes: " + wanted.length + " values for a " + width + "x" + height + " image");
        }
        Map<Integer, Integer> areas = new HashMap<>();
        for (int c : wanted) {
            if (c < IGNORED) throw new IllegalArgumentException("wanted class " + c + " is negative (use " + IGNORED + " for none)");
            if (c != IGNORED) areas.merge(c, 1, Integer::sum);
        }
        if (!(balance >= 0 && balance <= 1)) throw new IllegalArgumentException("class balance must be in [0, 1], got " + balance);
        if (areas.isEmpty()) throw new IllegalArgumentException("no pixel has a wanted class: nothing to guide toward");
        sd.vae.requiresGrad(false);   // the latent is the only leaf with a gradient; no decoder gradients accumulate
        this.sd = sd;
        this.segmenter = segmenter;
        this.width = width;
        this.height = height;
        this.classes = new long[wanted.length];
        this.weights = new float[wanted.length];
        for (int p = 0; p < wanted.length; p++) {
            int c = wanted[p];
            classes[p] = Math.max(c, 0);
            weights[p] = c == IGNORED ? 0f : (float) Math.pow(areas.get(c), -balance);
        }
    }

    /** Wanted pixels, counted once each. */
    public int wantedPixels() {
        int n = 0;
        for (float w : weights) if (w > 0) n++;
        return n;
    }

    @Override
    public Tensor value(Tensor z) {
        Tensor image = sd.vae.decodeScaled(Dtypes.to(z, sd.vae.device(), sd.vae.dtype()));
        if (image.size(2) != height || image.size(3) != width) {
            throw new IllegalArgumentException("the latent decodes to " + image.size(3) + "x" + image.size(2) + ", the wanted classes are "
                    + width + "x" + height);
        }
        image = Dtypes.to(image, z.device(), z.scalar_type())
                .clamp(new ScalarOptional(new Scalar(-1.0)), new ScalarOptional(new Scalar(1.0)));
        Tensor logProbabilities = torch.log_softmax(segmenter.logits(image), 1);
        // made per call rather than kept: the loss may be built inside an inference-mode region, whose tensors a
        // backward pass must not save, and a 64x64 index costs nothing to rebuild
        Tensor index = Dtypes.to(Tensors.ofLongs(classes, 1, 1, height, width), z.device(), torch.ScalarType.Long);
        Tensor w = Dtypes.to(Tensors.ofFloats(weights, 1, 1, height, width), z.device(), logProbabilities.scalar_type());
        Tensor picked = logProbabilities.gather(1, index);
        return picked.mul(w).sum().div(w.sum()).neg();
    }
}
