package org.ldm4j.methods.gradop;

import com.fasterxml.jackson.databind.node.ObjectNode;
import org.bytedeco.pytorch.Scalar;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch;
import org.bytedeco.pytorch.global.torch.ScalarType;
import org.ldm4j.nn.Rng;
import org.ldm4j.pipeline.StableDiffusion;
import org.ldm4j.schedulers.Scheduler;
import org.ldm4j.schedulers.SchedulerConfig;
import org.ldm4j.schedulers.Schedulers;

/**
 * The scheduler and start latent of GradOP runs.
 *
 * <p>The official pipeline replaces whatever scheduler the model ships with DDIM: SD 1.4's scaled-linear betas
 * 0.00085..0.012 over 1000 steps, {@code clip_sample=False}, {@code set_alpha_to_one=False}, and diffusers 0.14's
 * deprecation fix-up forces {@code steps_offset=1}, so 50 steps are t = 981, 961, ..., 1. For other models (the
 * ToyWorld LDM) the model's own betas are kept with the same DDIM flags.
 */
public final class GradOpScheduling {
    private GradOpScheduling() {}

    /** The official DDIM on the model's beta schedule (identical to the paper's for SD 1.x). */
    public static SchedulerConfig officialDdim(StableDiffusion sd) {
        ObjectNode json = sd.schedulerConfig.deepCopy() instanceof ObjectNode o ? o : null;
        if (json == null) throw new IllegalArgumentException("model " + sd.name + ": scheduler config is not a JSON object");
        json.remove("_class_name");
        json.put("clip_sample", false);
        json.put("set_alpha_to_one", false);
        json.put("steps_offset", 1);
        json.put("timestep_spacing", "leading");   // diffusers 0.14's only spacing
        json.put("thresholding", false);
        json.put("rescale_betas_zero_snr", false);
        return Schedulers.DDIM.read(json.toString());
    }

    /** {@code alias} null = {@link #officialDdim}; otherwise that scheduler on the model's config (eta 0). */
    public static SchedulerConfig scheduler(StableDiffusion sd, String alias) {
        return alias == null ? officialDdim(sd) : sd.scheduler(alias, 0.0);
    }

    /**
     * The first latent (1, C, H/f, W/f) float32 of a full reverse pass, drawing one {@code randn} from {@code rng}
     * (the first draw of the run, as in the official code).
     */
    public static Tensor startLatent(GradOpPlusSettings.StartLatent kind, Scheduler scheduler, Rng rng,
                                     StableDiffusion sd, long height, long width) {
        int f = sd.vaeScaleFactor();
        Tensor noise = rng.randn(sd.device(), ScalarType.Float, 1, sd.latentChannels(), height / f, width / f);
        return switch (kind) {
            // prepare_latents with no image: add_noise(zeros, noise, timesteps[0])
            case NOISED_ZEROS -> scheduler.addNoise(torch.zeros_like(noise), noise, 0);
            case UNIT_GAUSSIAN -> noise.mul(new Scalar(scheduler.initNoiseSigma()));
        };
    }

}
