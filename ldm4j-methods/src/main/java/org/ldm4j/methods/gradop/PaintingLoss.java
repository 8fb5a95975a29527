package org.ldm4j.methods.gradop;

import org.bytedeco.pytorch.Scalar;
import org.bytedeco.pytorch.ScalarOptional;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch;
import org.ldm4j.nn.Dtypes;
import org.ldm4j.pipeline.StableDiffusion;

import java.util.Arrays;

/**
 * GradOP's faithfulness term L(f(D(z)), y) = mean((f(clamp((D(z / s_vae) + 1) / 2, 0, 1)) − y)²), the loss of the
 * official {@code gradop_plus_optim}: decoded image mapped to [0, 1] and clamped, the painting function applied, mean
 * squared error against the user's painting y, which is not itself passed through f.
 *
 * <p>Gradients reach z through the VAE decoder only; the decoder's weights get none (callers switch them off).
 *
 * <p>Lower-resolution loss ({@code lossScale} s > 1, an ldm4j option for memory): z is area-averaged s× before
 * decoding, so the decoder, the painting function and their backward passes run on (H/s)x(W/s) images, and y is
 * area-averaged the same way; the painting function's kernels shrink by s (see {@link PaintingFunction#create}). The
 * gradient reaches every latent cell, spread evenly over each s x s block by the pooling's backward pass. This trades
 * fine detail of the match, which the coarse painting hardly constrains, for about s² less decoder memory.
 */
public final class PaintingLoss implements LatentObjective {
    private final StableDiffusion sd;
    private final Tensor target;        // (1, 3, H/s, W/s) in [0, 1]
    private final PaintingFunction f;
    private final int lossScale;

    /**
     * @param painting (1, 3, H, W) in [0, 1], H and W multiples of the VAE factor times {@code lossScale}
     */
    public PaintingLoss(StableDiffusion sd, Tensor painting, PaintingSettings settings, int lossScale) {
        StrokePainting.check(painting, sd.vaeScaleFactor() * lossScale, "painting (VAE factor " + sd.vaeScaleFactor()
                + " x loss scale " + lossScale + ")");
        this.sd = sd;
        this.lossScale = lossScale;
        this.target = lossScale == 1 ? painting : torch.avg_pool2d(painting, lossScale, lossScale);
        this.f = PaintingFunction.create(settings, target, lossScale);
    }

    public PaintingFunction paintingFunction() { return f; }

    public int lossScale() { return lossScale; }

    /** The painting at the loss resolution, (1, 3, H/s, W/s). */
    public Tensor target() { return target; }

    /** L(f(D(z)), y) as a scalar in z's dtype, with a graph back to z when z requires grad. */
    public Tensor faithfulness(Tensor z) {
        Tensor p = f.paint(decodeToUnit(z));
        Tensor y = Dtypes.to(target, p.device(), p.scalar_type());
        return p.sub(y).pow(new Scalar(2.0)).mean();
    }

    @Override
    public Tensor value(Tensor z) { return faithfulness(z); }

    /** clamp((D(z↓s / s_vae) + 1) / 2, 0, 1) in z's dtype: the decoded image the painting function sees. */
    public Tensor decodeToUnit(Tensor z) {
        if (z.dim() != 4 || z.size(2) % lossScale != 0 || z.size(3) % lossScale != 0) {
            throw new IllegalArgumentException("latent " + Arrays.toString(z.sizes().vec().get())
                    + " is not divisible by the loss scale " + lossScale);
        }
        Tensor zs = lossScale == 1 ? z : torch.avg_pool2d(z, lossScale, lossScale);
        Tensor x = sd.vae.decodeScaled(Dtypes.to(zs, sd.vae.device(), sd.vae.dtype()));
        x = Dtypes.to(x, z.device(), z.scalar_type());
        return x.add(new Scalar(1.0)).div(new Scalar(2.0))
                .clamp(new ScalarOptional(new Scalar(0.0)), new ScalarOptional(new Scalar(1.0)));
    }
}
