package org.ldm4j.train.toyworld;

import org.bytedeco.pytorch.NoGradGuard;
import org.bytedeco.pytorch.Scalar;
import org.bytedeco.pytorch.Tensor;
import org.ldm4j.models.clip.CLIPTextModel;
import org.ldm4j.models.clip.CLIPTokenizer;
import org.ldm4j.models.unet.UNet2DConditionModel;
import org.ldm4j.models.unet.UNetExtras;
import org.ldm4j.models.vae.AutoencoderKL;
import org.ldm4j.nn.Block;
import org.ldm4j.nn.Rng;
import org.ldm4j.nn.Tensors;
import org.ldm4j.schedulers.NoiseSchedule;
import org.ldm4j.toyworld.Scene;
import org.ldm4j.train.Trainer;

import java.util.List;

/**
 * The ToyWorld latent diffusion objective (Rombach et al. 2022, eq. 2): with z0 = s·E(x) from the frozen
 * autoencoder, t ~ U{0..T−1}, ε ~ N(0, I): ‖ε − ε_θ(√ᾱ_t z0 + √(1−ᾱ_t) ε, t, τ_θ(y))‖². The text encoder τ_θ is
 * trained jointly with the UNet (SD froze a pretrained CLIP; ToyWorld has none), and 10% of captions are dropped
 * to "" so the same model gives the unconditional prediction classifier-free guidance needs.
 */
public final class ToyWorldLdm implements Trainer.Objective {

    /** The trained parts under one tree: {@code unet.*} and {@code text_encoder.*}. */
    public static final class Denoiser extends Block {
        public final UNet2DConditionModel unet;
        public final CLIPTextModel textEncoder;

        public Denoiser(UNet2DConditionModel unet, CLIPTextModel textEncoder) {
            this.unet = child("unet", unet);
            this.textEncoder = child("text_encoder", textEncoder);
        }
    }

    private final Denoiser model;
    private final AutoencoderKL vae;
    private final CLIPTokenizer tokenizer;
    private final NoiseSchedule schedule;
    private final SceneBatches batches;
    private final double captionDropout;
    private final ObjectWeighting objectWeighting;

    /** @param objectWeighting {@link ObjectWeighting#NONE} for SD's plain ε-MSE */
    public ToyWorldLdm(Denoiser model, AutoencoderKL vae, CLIPTokenizer tokenizer, NoiseSchedule schedule,
                       SceneBatches batches, double captionDropout, ObjectWeighting objectWeighting) {
        this.model = model;
        this.vae = vae;
        this.tokenizer = tokenizer;
        this.schedule = schedule;
        this.batches = batches;
        this.captionDropout = captionDropout;
        this.objectWeighting = objectWeighting;
    }

    @Override
    public Tensor loss(long step, Rng rng) {
        List<Scene> scenes = batches.scenes(step);
        int b = scenes.size();
        Tensor z0;
        try (NoGradGuard frozen = new NoGradGuard()) {
            Tensor x = SceneBatches.images(scenes);
            z0 = vae.encode(x).sample(rng).mul(new Scalar(vae.config().scalingFactor()));
        }
        float[] u = Tensors.toFloats(rng.rand(2 * b));
        long[] ids = new long[b * tokenizer.maxLength()];
        long[] t = new long[b];
        for (int i = 0; i < b; i++) {
            Scene s = scenes.get(i);
            String caption = u[i] < captionDropout ? "" : s.captions().get((int) Math.floorMod(step * 31 + i, s.captions().size()));
            int[] row = tokenizer.encode(caption).ids();
            for (int j = 0; j < row.length; j++) ids[i * row.length + j] = row[j];
            t[i] = Math.min(schedule.numTrainTimesteps() - 1, (long) (u[b + i] * schedule.numTrainTimesteps()));
        }
        Tensor noise = rng.randnLike(z0);
        Tensor timesteps = Tensors.ofLongs(t, b);
        Tensor noisy = schedule.addNoise(z0, noise, timesteps);
        Tensor context = model.textEncoder.promptEmbeds(Tensors.ofLongs(ids, b, tokenizer.maxLength()), 0);
        Tensor eps = model.unet.forward(noisy, timesteps, context, UNetExtras.NONE);
        return objectWeighting.weightedMean(eps.sub(noise).pow(new Scalar(2.0)), scenes);
    }

}
