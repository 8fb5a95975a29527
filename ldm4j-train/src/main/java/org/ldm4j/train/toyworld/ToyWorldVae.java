package org.ldm4j.train.toyworld;

import org.bytedeco.pytorch.BoolOptional;
import org.bytedeco.pytorch.NoGradGuard;
import org.bytedeco.pytorch.Scalar;
import org.bytedeco.pytorch.ScalarTypeOptional;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.TensorVector;
import org.bytedeco.pytorch.global.torch;
import org.ldm4j.models.vae.AutoencoderKL;
import org.ldm4j.models.vae.DiagonalGaussianDistribution;
import org.ldm4j.nn.Block;
import org.ldm4j.nn.Rng;
import org.ldm4j.toyworld.Scene;
import org.ldm4j.train.Trainer;

import java.util.List;
import java.util.Map;

/**
 * The ToyWorld autoencoder's objective: ‖D(z) − x‖² + ‖D(z) − x‖₁ + β·KL(q(z|x) ‖ N(0, I)), z ~ q(z|x).
 *
 * <p>SD's VAE adds LPIPS and a patch GAN; at 64x64 on ToyWorld the pixel losses alone reach the PSNR bar and keep
 * the trainer simple. β is tiny (SD used 1e-6) so the latent stays informative while its scale stays bounded.
 */
public final class ToyWorldVae implements Trainer.Objective {
    private final AutoencoderKL vae;
    private final SceneBatches batches;
    private final double klWeight;
    private final boolean decoderOnly;
    private final Data data;
    private final int mapSize;
    private final ObjectWeighting objectWeighting;
    private Adversarial adversarial;
    private Map<String, Double> lastAdversarialMetrics = Map.of();

    /** What the autoencoder reconstructs. */
    public enum Data {
        /** ToyWorld scenes: the image VAE. */
        IMAGES,
        /**
         * FG-DM condition maps drawn as images (segmentation in palette colours on even steps, depth in grey on odd
         * steps): with the encoder frozen, a decoder that reads back what the image VAE's encoder makes of maps. The
         * image decoder cannot: its palette round trip at 32x32 keeps 13% of pixels' classes (saturated flat colours
         * are outside the images it was trained on), so maps need their own decoder.
         */
        MAPS;

        /** A training batch in [-1, 1]; maps at {@code mapSize} x {@code mapSize}. */
        public Tensor batch(List<Scene> scenes, int mapSize, long step) {
            return switch (this) {
                case IMAGES -> SceneBatches.images(scenes);
                case MAPS -> step % 2 == 0 ? ToyWorldMaps.segmentation(scenes, mapSize) : ToyWorldMaps.depth(scenes, mapSize);
            };
        }

        public static Data parse(String name) {
            for (Data d : values()) if (d.name().equalsIgnoreCase(name)) return d;
            throw new IllegalArgumentException("VAE training data must be \"images\" or \"maps\", got \"" + name + "\"");
        }
    }

    public ToyWorldVae(AutoencoderKL vae, SceneBatches batches, double klWeight) {
        this(vae, batches, klWeight, false, Data.IMAGES, 0);
    }

    public ToyWorldVae(AutoencoderKL vae, SceneBatches batches, double klWeight, boolean decoderOnly) {
        this(vae, batches, klWeight, decoderOnly, Data.IMAGES, 0);
    }

    /**
     * @param decoderOnly fine-tune the decoder of a trained VAE with its encoder frozen (SD's ft-EMA / ft-MSE decoders
     *                    did the same): the latent space, and so every LDM trained on it, stays valid while the
     *                    reconstructions sharpen; the KL term then has nothing to act on and is left out
     */
    /** @param mapSize side of the maps (resized nearest from the scenes, as FG-DM factors are trained); unused for images */
    public ToyWorldVae(AutoencoderKL vae, SceneBatches batches, double klWeight, boolean decoderOnly, Data data, int mapSize) {
        this(vae, batches, klWeight, decoderOnly, data, mapSize, ObjectWeighting.NONE);
    }

    /**
     * @param objectWeighting balances the reconstruction loss per object (pixels of the image or map as cells):
     *                        flower dots and small boats, which the plain mean lets an autoencoder blur away, count as
     *                        much as a house; on maps, a rock's few palette pixels as much as the sky. In a full VAE's
     *                        training it weighs what the encoder must keep in the latents too, not only what the
     *                        decoder draws; the KL term is unweighted either way
     */
    public ToyWorldVae(AutoencoderKL vae, SceneBatches batches, double klWeight, boolean decoderOnly, Data data, int mapSize,
                       ObjectWeighting objectWeighting) {
        if (data == Data.MAPS && !decoderOnly) throw new IllegalArgumentException("a map decoder is a decoder-only fine-tune of a trained VAE");
        this.data = data;
        this.mapSize = mapSize;
        this.vae = vae;
        this.batches = batches;
        this.klWeight = klWeight;
        this.decoderOnly = decoderOnly;
        this.objectWeighting = objectWeighting;
    }

    /** The trainable half of a decoder-only fine-tune: the decoder and post_quant_conv, under their names in the VAE. */
    public static final class DecoderHalf extends Block {
        /** Prefix of the discriminator's weights in checkpoints of an adversarial fine-tune (not part of the VAE). */
        public static final String DISCRIMINATOR = "discriminator";

        public DecoderHalf(AutoencoderKL vae) { this(vae, null); }

        /** With a discriminator, trained alongside (one optimizer, one checkpoint: an adversarial run resumes exactly). */
        public DecoderHalf(AutoencoderKL vae, PatchDiscriminator discriminator) {
            child("decoder", vae.decoder);
            if (vae.postQuantConv != null) child("post_quant_conv", vae.postQuantConv);
            if (discriminator != null) child(DISCRIMINATOR, discriminator);
        }
    }

    /**
     * The patch-GAN term of SD's autoencoder loss (taming-transformers' {@code LPIPSWithDiscriminator} without LPIPS), for
     * a decoder-only fine-tune: hinge losses, the generator term weighted adaptively as there, λ = weight · ‖∇L_rec‖ /
     * ‖∇L_G‖ at the decoder's last layer, so the adversarial gradient stays a fixed fraction of the reconstruction's.
     *
     * <p>Both share the trainer's AdamW and learning-rate schedule, and its gradient clipping applies to their joint
     * norm (taming-transformers gives each its own Adam at the same rate; one optimizer keeps one checkpoint format).
     *
     * <p>Each step's discriminator loss, its accuracy and λ go into the trainer's metrics.jsonl ({@link #stepMetrics}).
     *
     * @param startStep before it only the discriminator learns (the decoder sees a discriminator that already tells
     *                  its blur from real texture, as SD's disc_start)
     */
    public record Adversarial(PatchDiscriminator discriminator, double weight, long startStep) {
        public Adversarial {
            if (!(weight > 0)) throw new IllegalArgumentException("adversarial_weight must be > 0, got " + weight);
            if (startStep < 0) throw new IllegalArgumentException("adversarial_start must be >= 0, got " + startStep);
        }
    }

    /** Adds the patch-GAN term (decoder-only fine-tunes of the image VAE); returns this. */
    public ToyWorldVae withAdversarial(Adversarial adversarial) {
        if (!decoderOnly || data != Data.IMAGES) throw new IllegalArgumentException("the adversarial term applies to a decoder-only fine-tune on images");
        this.adversarial = adversarial;
        return this;
    }

    @Override
    public Tensor loss(long step, Rng rng) {
        List<Scene> scenes = batches.scenes(step);
        Tensor x = data.batch(scenes, mapSize, step).to(vae.device(), vae.dtype());
        if (decoderOnly) {
            Tensor z;
            try (NoGradGuard frozen = new NoGradGuard()) {
                z = vae.encode(x).sample(rng);
            }
            Tensor decoded = vae.decode(z);
            Tensor diff = decoded.sub(x);
            Tensor reconstruction = reconstructionLoss(diff, scenes);
            return adversarial == null ? reconstruction : withAdversarialTerm(step, reconstruction, decoded, x);
        }
        DiagonalGaussianDistribution q = vae.encode(x);
        Tensor recon = vae.decode(q.sample(rng));
        Tensor diff = recon.sub(x);
        // KL per sample, summed over latent elements, averaged over the batch (as the LDM code does)
        Tensor kl = q.mean().pow(new Scalar(2.0)).add(q.var()).sub(new Scalar(1.0)).sub(q.logvar())
                .sum().mul(new Scalar(0.5 / x.size(0)));
        return reconstructionLoss(diff, scenes).add(kl.mul(new Scalar(klWeight)));
    }

    /**
     * MSE + L1 of the reconstruction, each a (per-object weighted) mean: one weighted mean of their sum, since the mean
     * is linear, so the scenes' weight map is rendered once per step.
     */
    private Tensor reconstructionLoss(Tensor diff, List<Scene> scenes) {
        return objectWeighting.weightedMean(diff.pow(new Scalar(2.0)).add(diff.abs()), scenes);
    }

    /**
     * Leaves the discriminator's gradient of its hinge loss on real and (detached) decoded images in its parameters
     * (the trainer's optimizer steps them with the decoder's), then returns the decoder's loss: reconstruction + λ ·
     * (−mean logit of the decoded images), with the discriminator frozen for that term.
     */
    private Tensor withAdversarialTerm(long step, Tensor reconstruction, Tensor decoded, Tensor real) {
        PatchDiscriminator d = adversarial.discriminator();
        Scalar one = new Scalar(1.0);
        d.requiresGrad(true);
        Tensor realLogits = d.forward(real), fakeLogits = d.forward(decoded.detach());
        Tensor discriminatorLoss = torch.relu(realLogits.neg().add(one)).mean().add(torch.relu(fakeLogits.add(one)).mean()).mul(new Scalar(0.5));
        discriminatorLoss.backward();
        d.requiresGrad(false);
        double accuracy;
        try (NoGradGuard g = new NoGradGuard()) {
            accuracy = (realLogits.gt(new Scalar(0.0)).to(torch.ScalarType.Float).mean().item_double()
                    + fakeLogits.lt(new Scalar(0.0)).to(torch.ScalarType.Float).mean().item_double()) / 2;
        }
        double lambda = 0;
        Tensor loss = reconstruction;
        if (step >= adversarial.startStep()) {
            Tensor generatorLoss = d.forward(decoded).mean().neg();
            Tensor last = vae.decoder.convOut.weight.t();
            double recNorm = gradientNorm(reconstruction, last), advNorm = gradientNorm(generatorLoss, last);
            lambda = adversarial.weight() * Math.min(recNorm / (advNorm + 1e-4), 1e4);
            loss = reconstruction.add(generatorLoss.mul(new Scalar(lambda)));
        }
        lastAdversarialMetrics = Map.of("discriminator_loss", discriminatorLoss.item_double(), "discriminator_accuracy", accuracy, "lambda", lambda);
        return loss;
    }

    /** The adversarial term's figures of the last step (none without it). */
    @Override
    public Map<String, Double> stepMetrics() { return lastAdversarialMetrics; }

    private static double gradientNorm(Tensor loss, Tensor parameter) {
        TensorVector g = torch.grad(new TensorVector(loss), new TensorVector(parameter),
                new TensorVector(), new BoolOptional(true), false, false);
        return new Tensor(g.get(0)).norm().item_double();   // a copy: get() is a reference into the vector
    }

    /** Peak signal-to-noise ratio of the reconstruction of {@code x} (in [-1, 1]) through the posterior mode, in dB. */
    public static double psnr(AutoencoderKL vae, Tensor x) {
        Tensor recon = vae.reconstruct(x).clamp(new org.bytedeco.pytorch.ScalarOptional(new Scalar(-1.0)),
                new org.bytedeco.pytorch.ScalarOptional(new Scalar(1.0)));
        // pixels in [0, 1]: MSE of (recon - x) / 2
        double mse = recon.sub(x).div(new Scalar(2.0)).pow(new Scalar(2.0)).mean(new ScalarTypeOptional()).item_double();
        return 10 * Math.log10(1.0 / Math.max(mse, 1e-12));
    }

}
