package org.ldm4j.models.vae;

import org.bytedeco.pytorch.Scalar;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.TensorOptions;
import org.bytedeco.pytorch.TensorVector;
import org.bytedeco.pytorch.global.torch;
import org.bytedeco.pytorch.global.torch.ScalarType;
import org.ldm4j.nn.Block;
import org.ldm4j.nn.Conv2d;
import org.ldm4j.nn.Dtypes;
import org.ldm4j.nn.Rng;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * diffusers {@code AutoencoderKL} (models/autoencoders/autoencoder_kl.py), the KL-regularised autoencoder of latent
 * diffusion (Rombach et al. 2022, "High-Resolution Image Synthesis with Latent Diffusion Models", sec. 3 and app. G):
 * images in [-1, 1] map to a Gaussian posterior over latents f = 2^(n-1) times smaller (8 for SD), and latents map
 * back to images.
 *
 * <p>{@link #encode}/{@link #decode} work on unscaled latents as diffusers' methods do; diffusion models see
 * {@code (z - shift) · scaling_factor} ({@link #encodeScaled}/{@link #decodeScaled}, sec. 4.3.2 of the paper).
 * Weight names are the diffusers keys ({@code encoder.mid_block.attentions.0.to_q.weight}); files saved by older
 * diffusers use legacy attention names, mapped by {@link #renameLegacyKey} and {@link #legacyTensor}.
 */
public final class AutoencoderKL extends Block {
    private final AutoencoderKLConfig config;
    public final Encoder encoder;
    public final Decoder decoder;
    public final Conv2d quantConv;       // null when use_quant_conv is false
    public final Conv2d postQuantConv;   // null when use_post_quant_conv is false

    public AutoencoderKL(AutoencoderKLConfig config) {
        this.config = config;
        int latent = config.latentChannels();
        encoder = child("encoder", new Encoder(config));
        decoder = child("decoder", new Decoder(config));
        quantConv = config.useQuantConv() ? child("quant_conv", new Conv2d(2 * latent, 2 * latent, 1, 1, 0)) : null;
        postQuantConv = config.usePostQuantConv() ? child("post_quant_conv", new Conv2d(latent, latent, 1, 1, 0)) : null;
    }

    public AutoencoderKLConfig config() { return config; }

    /** Image side / latent side (8 for SD). */
    public int scaleFactor() { return config.downscaleFactor(); }

    /** x: (B, 3, H, W) in [-1, 1], H and W multiples of {@link #scaleFactor()} -> the posterior over (B, 4, H/f, W/f). */
    public DiagonalGaussianDistribution encode(Tensor x) {
        if (x.dim() != 4 || x.size(1) != config.inChannels()) {
            throw new IllegalArgumentException("AutoencoderKL.encode expects (B, " + config.inChannels() + ", H, W), got " + shape(x));
        }
        Tensor moments = encoder.forward(toModel(x));
        if (quantConv != null) moments = quantConv.forward(moments);
        return new DiagonalGaussianDistribution(moments);
    }

    /** x through the autoencoder, the posterior's mode decoded (diffusers' forward with sample_posterior=False; not clamped). */
    public Tensor reconstruct(Tensor x) {
        return decode(encode(x).mode());
    }

    /** z: unscaled latents (B, 4, h, w) -> image (B, 3, h·f, w·f), roughly in [-1, 1] (not clamped). */
    public Tensor decode(Tensor z) {
        return decodeWith(decoder, z);
    }

    /**
     * Decodes with another decoder of the same shape (a {@link #copyDecoder()} being optimised), keeping this model's
     * post_quant_conv, which Blended Latent Diffusion's background repair leaves untouched.
     */
    public Tensor decodeWith(Decoder dec, Tensor z) {
        checkLatent(z);
        z = toModel(z);
        if (postQuantConv != null) z = postQuantConv.forward(z);
        return dec.forward(z);
    }

    /** The latent the diffusion model sees: (sample(q(z|x)) - shift) · scaling_factor, drawing ε from {@code rng}. */
    public Tensor encodeScaled(Tensor x, Rng rng) {
        Tensor z = encode(x).sample(rng);
        if (config.shift() != 0.0) z = z.sub(new Scalar(config.shift()));
        return z.mul(new Scalar(config.scalingFactor()));
    }

    /** Inverse of {@link #encodeScaled}'s scaling, then {@link #decode}. */
    public Tensor decodeScaled(Tensor zScaled) {
        Tensor z = zScaled.div(new Scalar(config.scalingFactor()));
        if (config.shift() != 0.0) z = z.add(new Scalar(config.shift()));
        return decode(z);
    }

    /** An independent copy of the decoder weights (see {@link Decoder#copy()}). */
    public Decoder copyDecoder() { return decoder.copy(); }

    // ---------------------------------------------------------------- tiled decoding

    /** {@link #decodeTiled(Tensor, int, double)} with diffusers' defaults: tiles of sample_size/f latents, overlap 0.25. */
    public Tensor decodeTiled(Tensor z) {
        return decodeTiled(z, config.sampleSize() / scaleFactor(), 0.25);
    }

    /**
     * diffusers' {@code tiled_decode}: decodes overlapping latent tiles of {@code tileLatent}² separately, so memory
     * stays bounded for large images, and hides the seams by blending each tile linearly into its upper and left
     * neighbours over {@code tileLatent·f·overlap} pixels. Tiles start every {@code tileLatent·(1 - overlap)} latents.
     * A latent that fits in one tile is decoded plainly. Differentiable like {@link #decode}.
     */
    public Tensor decodeTiled(Tensor z, int tileLatent, double overlap) {
        checkLatent(z);
        if (tileLatent < 1) throw new IllegalArgumentException("tile size must be >= 1 latent, got " + tileLatent);
        if (!(overlap >= 0 && overlap < 1)) throw new IllegalArgumentException("tile overlap must be in [0, 1), got " + overlap);
        long height = z.size(2), width = z.size(3);
        if (height <= tileLatent && width <= tileLatent) return decode(z);
        int stride = (int) (tileLatent * (1 - overlap));
        if (stride < 1) throw new IllegalArgumentException("tile " + tileLatent + " with overlap " + overlap + " leaves no stride");
        int tileSample = tileLatent * scaleFactor();
        int blendExtent = (int) (tileSample * overlap);
        int rowLimit = tileSample - blendExtent;

        List<List<Tensor>> blended = new ArrayList<>();
        for (long i = 0; i < height; i += stride) {
            List<Tensor> row = new ArrayList<>();
            for (long j = 0; j < width; j += stride) {
                Tensor tile = z.narrow(2, i, Math.min(tileLatent, height - i)).narrow(3, j, Math.min(tileLatent, width - j));
                Tensor decoded = decode(tile);
                // diffusers blends in place, so the neighbours it reads are already blended ones
                if (!blended.isEmpty()) decoded = blendV(blended.get(blended.size() - 1).get(row.size()), decoded, blendExtent);
                if (!row.isEmpty()) decoded = blendH(row.get(row.size() - 1), decoded, blendExtent);
                row.add(decoded);
            }
            blended.add(row);
        }
        TensorVector rows = new TensorVector();
        for (List<Tensor> row : blended) {
            TensorVector cropped = new TensorVector();
            for (Tensor t : row) cropped.push_back(t.narrow(2, 0, Math.min(rowLimit, t.size(2))).narrow(3, 0, Math.min(rowLimit, t.size(3))));
            rows.push_back(torch.cat(cropped, 3));
        }
        return torch.cat(rows, 2);
    }

    /** b with its first rows replaced by a linear ramp from a's last rows (weight y/extent on b), diffusers {@code blend_v}. */
    static Tensor blendV(Tensor a, Tensor b, int extent) { return blend(a, b, extent, 2); }

    /** The same along the width, diffusers {@code blend_h}. */
    static Tensor blendH(Tensor a, Tensor b, int extent) { return blend(a, b, extent, 3); }

    private static Tensor blend(Tensor a, Tensor b, int extent, int dim) {
        int e = (int) Math.min(Math.min(a.size(dim), b.size(dim)), extent);
        if (e <= 0) return b;
        long[] shape = {1, 1, 1, 1};
        shape[dim] = e;
        // weights computed in double and rounded once, as Python's float scalars are in diffusers
        Tensor y = torch.arange(new Scalar(0), new Scalar(e), new TensorOptions().dtype(Dtypes.optional(ScalarType.Double)));
        Tensor wB = y.div(new Scalar((double) e));
        Tensor wA = wB.neg().add(new Scalar(1.0));
        wA = Dtypes.to(wA, b.device(), b.scalar_type()).view(shape);
        wB = Dtypes.to(wB, b.device(), b.scalar_type()).view(shape);
        Tensor head = a.narrow(dim, a.size(dim) - e, e).mul(wA).add(b.narrow(dim, 0, e).mul(wB));
        return torch.cat(new TensorVector(head, b.narrow(dim, e, b.size(dim) - e)), dim);
    }

    // ---------------------------------------------------------------- legacy weight names

    private static final Pattern LEGACY = Pattern.compile("^(.*attentions\\.\\d+)\\.(query|key|value|proj_attn)\\.(weight|bias)$");
    private static final Pattern ATTENTION_WEIGHT = Pattern.compile("^.*attentions\\.\\d+\\.(to_q|to_k|to_v|to_out\\.0)\\.weight$");

    /**
     * Legacy attention parameter names (diffusers' old {@code AttentionBlock}, in files saved by diffusers up to
     * ~0.13, e.g. the original SD 1.5 repository) and their current names, as diffusers'
     * {@code _convert_deprecated_attention_blocks} renames them under each {@code mid_block.attentions.N}.
     */
    public static Map<String, String> legacyKeyRenames() {
        Map<String, String> m = new LinkedHashMap<>();
        m.put("query", "to_q");
        m.put("key", "to_k");
        m.put("value", "to_v");
        m.put("proj_attn", "to_out.0");
        return m;
    }

    /** {@code decoder.mid_block.attentions.0.query.weight} -> {@code ...to_q.weight}; other names unchanged. */
    public static String renameLegacyKey(String name) {
        Matcher m = LEGACY.matcher(name);
        if (!m.matches()) return name;
        return m.group(1) + "." + legacyKeyRenames().get(m.group(2)) + "." + m.group(3);
    }

    /**
     * Original LDM checkpoints store the attention projections as 1x1 convs (C, C, 1, 1); the model's are linear
     * (C, C). Returns the weight reshaped to 2-D for such a (current) name, or {@code t} unchanged.
     */
    public static Tensor legacyTensor(String currentName, Tensor t) {
        if (t.dim() == 4 && t.size(2) == 1 && t.size(3) == 1 && ATTENTION_WEIGHT.matcher(currentName).matches()) {
            return t.reshape(t.size(0), t.size(1));
        }
        return t;
    }

    // ---------------------------------------------------------------- helpers

    private void checkLatent(Tensor z) {
        if (z.dim() != 4 || z.size(1) != config.latentChannels()) {
            throw new IllegalArgumentException("AutoencoderKL expects latents (B, " + config.latentChannels() + ", h, w), got " + shape(z));
        }
    }

    /** Inputs follow the model's device and dtype (diffusers pipelines cast images to {@code vae.dtype}). */
    private Tensor toModel(Tensor x) {
        return Dtypes.to(x, device(), dtype());
    }

    private static String shape(Tensor t) {
        return java.util.Arrays.toString(t.sizes().vec().get());
    }
}
