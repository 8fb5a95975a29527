package org.ldm4j.models.vae;

import org.bytedeco.pytorch.DeviceOptional;
import org.bytedeco.pytorch.GeneratorOptional;
import org.bytedeco.pytorch.Scalar;
import org.bytedeco.pytorch.ScalarOptional;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.TensorOptions;
import org.bytedeco.pytorch.global.torch;
import org.ldm4j.nn.Dtypes;
import org.ldm4j.nn.Rng;

/**
 * diffusers {@code DiagonalGaussianDistribution} (models/autoencoders/vae.py): the VAE posterior q(z|x) = N(μ, σ²)
 * per latent element, read from the encoder's moments (B, 2·latent, h, w) as [μ ; log σ²] along the channels. The
 * log-variance is clamped to [-30, 20] as in diffusers and the original LDM code.
 */
public final class DiagonalGaussianDistribution {
    private final Tensor mean, logvar;

    /** @param moments (B, 2·latent, h, w) = quant_conv(encoder(x)) */
    public DiagonalGaussianDistribution(Tensor moments) {
        Tensor[] parts = org.ldm4j.nn.Tensors.halves(moments, 1);
        this.mean = parts[0];
        this.logvar = parts[1].clamp(new ScalarOptional(new Scalar(-30.0)), new ScalarOptional(new Scalar(20.0)));
    }

    /** μ, (B, latent, h, w). */
    public Tensor mean() { return mean; }

    /** log σ² after clamping. */
    public Tensor logvar() { return logvar; }

    /** σ = exp(log σ² / 2). */
    public Tensor std() { return logvar.mul(new Scalar(0.5)).exp(); }

    /** σ². */
    public Tensor var() { return logvar.exp(); }

    /** The most likely latent, μ (diffusers {@code mode()}; img2img pipelines that pass {@code sample_mode="argmax"}). */
    public Tensor mode() { return mean; }

    /**
     * z = μ + σ·ε with ε drawn from the run's generator the way diffusers' {@code randn_tensor(shape, generator,
     * dtype=moments.dtype)} draws it: on the CPU in the moments' dtype, then moved to their device. The draw comes
     * before the img2img noise, so a seed reproduces diffusers' img2img latents.
     */
    public Tensor sample(Rng rng) {
        TensorOptions cpu = new TensorOptions().dtype(Dtypes.optional(mean.scalar_type()));
        Tensor eps = torch.randn(mean.sizes().vec().get(), new GeneratorOptional(rng.generator()), cpu);
        if (!mean.is_cpu()) {
            eps = eps.to(new TensorOptions().device(new DeviceOptional(mean.device())), false, false,
                    new org.bytedeco.pytorch.MemoryFormatOptional());
        }
        return mean.add(std().mul(eps));
    }
}
