package org.ldm4j.models.unet;

import org.bytedeco.pytorch.Scalar;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.TensorOptions;
import org.bytedeco.pytorch.TensorVector;
import org.bytedeco.pytorch.global.torch;
import org.bytedeco.pytorch.global.torch.ScalarType;
import org.ldm4j.nn.Block;
import org.ldm4j.nn.Dtypes;

/**
 * diffusers {@code Timesteps} / {@code get_timestep_embedding} (models/embeddings.py), the sinusoidal embedding of
 * DDPM (Ho et al. 2020) after the Transformer's positional encoding:
 * <pre>
 *   freq_i = exp(-ln(maxPeriod) · i / (half - downscaleFreqShift)),  i = 0 .. half-1,  half = dim/2
 *   emb    = [sin(t·freq), cos(t·freq)]     ([cos, sin] when flipSinToCos), zero-padded when dim is odd
 * </pre>
 * Always float32, with the same operation order as diffusers (exponent = arange·(-ln P), then / (half - shift), in
 * float32), so the embedding matches bit for bit. No weights.
 */
public final class Timesteps extends Block {
    public static final double MAX_PERIOD = 10000;
    public final int numChannels;
    public final boolean flipSinToCos;
    public final double downscaleFreqShift;

    public Timesteps(int numChannels, boolean flipSinToCos, double downscaleFreqShift) {
        this.numChannels = numChannels;
        this.flipSinToCos = flipSinToCos;
        this.downscaleFreqShift = downscaleFreqShift;
    }

    /** @param timesteps (B) float or integer timesteps; returns (B, numChannels) float32 */
    public Tensor forward(Tensor timesteps) {
        int half = numChannels / 2;
        TensorOptions f32 = Dtypes.options(timesteps.device(), ScalarType.Float);
        Tensor exponent = torch.arange(new Scalar(0), new Scalar(half), f32).mul(new Scalar(-Math.log(MAX_PERIOD)));
        exponent = exponent.div(new Scalar(half - downscaleFreqShift));
        Tensor freqs = torch.exp(exponent);                                                  // (half)
        Tensor t = Dtypes.to(timesteps, timesteps.device(), ScalarType.Float);
        Tensor args = t.unsqueeze(1).mul(freqs.unsqueeze(0));                                 // (B, half)
        Tensor sin = torch.sin(args), cos = torch.cos(args);
        Tensor emb = flipSinToCos ? torch.cat(new TensorVector(cos, sin), 1) : torch.cat(new TensorVector(sin, cos), 1);
        if (numChannels % 2 == 1) emb = torch.constant_pad_nd(emb, 0, 1);
        return emb;
    }
}
