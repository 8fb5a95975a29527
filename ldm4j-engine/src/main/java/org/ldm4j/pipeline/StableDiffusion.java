package org.ldm4j.pipeline;

import com.fasterxml.jackson.databind.JsonNode;
import org.bytedeco.pytorch.Device;
import org.bytedeco.pytorch.Scalar;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch.ScalarType;
import org.ldm4j.image.Infotext;
import org.ldm4j.models.clip.CLIPTextModel;
import org.ldm4j.models.clip.CLIPTokenizer;
import org.ldm4j.models.unet.UNet2DConditionModel;
import org.ldm4j.models.vae.AutoencoderKL;
import org.ldm4j.nn.Dtypes;
import org.ldm4j.nn.Rng;
import org.ldm4j.nn.Tensors;
import org.ldm4j.schedulers.DDIMScheduler;
import org.ldm4j.schedulers.SchedulerConfig;
import org.ldm4j.schedulers.Schedulers;

/**
 * The loaded parts of a Stable Diffusion 1.x-architecture model (SD 1.4/1.5, fine-tunes, the ToyWorld model).
 * Immutable after loading and shared by concurrent runs: schedulers, RNGs, hooks and attention processors are per run.
 */
public final class StableDiffusion {
    public final String name;
    public final CLIPTokenizer tokenizer;
    public final CLIPTextModel textEncoder;
    public final UNet2DConditionModel unet;
    public final AutoencoderKL vae;
    /** {@code scheduler/scheduler_config.json}: the model's default scheduler and its beta schedule. */
    public final JsonNode schedulerConfig;
    /** Where {@link #schedulerConfig} came from (its file), to name in errors about it. */
    public final String schedulerSource;
    /** The autoencoder's name when it is not the model's own ({@link #withVae}), else null. */
    public final String vaeName;

    public StableDiffusion(String name, CLIPTokenizer tokenizer, CLIPTextModel textEncoder, UNet2DConditionModel unet,
                           AutoencoderKL vae, JsonNode schedulerConfig) {
        this(name, tokenizer, textEncoder, unet, vae, schedulerConfig, "scheduler config");
    }

    /** As above, {@code schedulerSource} naming the scheduler config (its file) in errors about it. */
    public StableDiffusion(String name, CLIPTokenizer tokenizer, CLIPTextModel textEncoder, UNet2DConditionModel unet,
                           AutoencoderKL vae, JsonNode schedulerConfig, String schedulerSource) {
        this(name, tokenizer, textEncoder, unet, vae, schedulerConfig, schedulerSource, null);
    }

    private StableDiffusion(String name, CLIPTokenizer tokenizer, CLIPTextModel textEncoder, UNet2DConditionModel unet,
                            AutoencoderKL vae, JsonNode schedulerConfig, String schedulerSource, String vaeName) {
        this.schedulerSource = schedulerSource;
        this.vaeName = vaeName;
        this.name = name;
        this.tokenizer = tokenizer;
        this.textEncoder = textEncoder;
        this.unet = unet;
        this.vae = vae;
        this.schedulerConfig = schedulerConfig;
    }

    /**
     * The same model with another autoencoder (diffusers' {@code vae=} argument; e.g. SD's ft-MSE decoder, or a
     * ToyWorld decoder fine-tune). Its latent channels must be the UNet's; its own scaling_factor applies, so a decoder
     * fine-tune (same encoder) keeps the model's.
     */
    public StableDiffusion withVae(AutoencoderKL other, String vaeName) {
        if (other.config().latentChannels() != latentChannels()) {
            throw new IllegalArgumentException("VAE " + vaeName + " has " + other.config().latentChannels() + " latent channels; the UNet of "
                    + name + " takes " + latentChannels());
        }
        return new StableDiffusion(name, tokenizer, textEncoder, unet, other, schedulerConfig, schedulerSource, vaeName);
    }

    public Device device() { return unet.device(); }

    public ScalarType dtype() { return unet.dtype(); }

    /** Pixels per latent cell: 2^(number of VAE blocks − 1), 8 for SD. */
    public int vaeScaleFactor() { return 1 << (vae.config().blockOutChannels().size() - 1); }

    public int latentChannels() { return unet.config.inChannels(); }

    /** Default image side: the UNet's sample_size × the VAE factor (512 for SD 1.5, as diffusers computes it). */
    public int defaultSize() { return unet.config.sampleSize().get(0) * vaeScaleFactor(); }

    /** The scheduler class the model ships ({@code _class_name} of its scheduler config). */
    public Schedulers defaultScheduler() {
        return Schedulers.fromClassName(schedulerConfig.path("_class_name").asText(), schedulerSource);
    }

    /**
     * The A1111 {@code parameters} text of a request run on this model, so other SD tools read its settings: the
     * sampler is the one the request names, else the model's own.
     */
    public Infotext infotext(GenerationRequest r) {
        String sampler = (r.scheduler() != null ? Schedulers.fromAlias(r.scheduler()) : defaultScheduler()).a1111Label();
        Infotext text = Infotext.of(r.prompt(), r.negativePrompt(), r.steps(), sampler, r.guidanceScale(), r.seed(), r.width(), r.height(), name);
        return vaeName == null ? text : text.with("VAE", vaeName);   // A1111 names a swapped VAE the same way
    }

    /**
     * The model's beta schedule run by the sampler named (diffusers {@code from_config}): a CLI alias, class name
     * or A1111 label, or {@code null} for the model's own. {@code eta} > 0 makes DDIM stochastic.
     */
    public SchedulerConfig scheduler(String sampler, double eta) {
        Schedulers kind = sampler == null ? defaultScheduler() : Schedulers.fromAlias(sampler);
        SchedulerConfig config = kind.read(schedulerConfig.toString(), schedulerSource);
        if (eta > 0) {
            if (!(config instanceof DDIMScheduler.Config ddim)) {
                throw new IllegalArgumentException("eta applies to the DDIM scheduler only, not " + kind.alias());
            }
            return ddim.withEta(eta);
        }
        return config;
    }

    /** Encodes a prompt and its negative prompt with the text encoder. */
    public PromptConditioning encodePrompt(String prompt, String negativePrompt, int clipSkip) {
        CLIPTokenizer.Encoding cond = tokenizer.encode(prompt);
        CLIPTokenizer.Encoding uncond = tokenizer.encode(negativePrompt == null ? "" : negativePrompt);
        return new PromptConditioning(textStates(cond, clipSkip), textStates(uncond, clipSkip), cond);
    }

    private Tensor textStates(CLIPTokenizer.Encoding e, int clipSkip) {
        long[] ids64 = e.idsAsLongs();
        Tensor ids = Dtypes.to(Tensors.ofLongs(ids64, 1, ids64.length), device(), ScalarType.Long);
        return textEncoder.promptEmbeds(ids, clipSkip);
    }

    /** z (latents as the UNet sees them) -> image in [-1, 1]: D(z / scaling_factor). */
    public Tensor decodeLatents(Tensor z) { return decodeLatents(vae, z); }

    /** The same with another decoder of this latent space (e.g. FG-DM's map decoder), on that decoder's device and dtype. */
    public static Tensor decodeLatents(AutoencoderKL decoder, Tensor z) {
        Tensor unscaled = Dtypes.to(z, decoder.device(), decoder.dtype()).div(new Scalar(decoder.config().scalingFactor()));
        return Dtypes.to(decoder.decode(unscaled), z.device(), ScalarType.Float);
    }

    /** image in [-1, 1] -> scaling_factor · a sample of the VAE posterior (drawn from {@code rng}, as diffusers). */
    public Tensor encodeImage(Tensor image, Rng rng) {
        Tensor x = Dtypes.to(image, device(), vae.dtype());
        Tensor z = vae.encode(x).sample(rng);
        return Dtypes.to(z, image.device(), ScalarType.Float).mul(new Scalar(vae.config().scalingFactor()));
    }
}
