package org.ldm4j.studio;

import org.ldm4j.pipeline.StableDiffusion;

/**
 * What clients need to know about a loaded model to build valid requests.
 *
 * @param defaultSize image side the model was trained at (64 for ToyWorld, 512 for SD 1.5)
 * @param vaeScaleFactor widths and heights must be multiples of it
 * @param defaultScheduler the model's own sampler alias
 * @param vae the swapped autoencoder's name (studio --vae), null for the model's own
 */
public record ModelInfo(String name, String spec, int defaultSize, int vaeScaleFactor, String defaultScheduler,
                        int defaultSteps, double defaultGuidanceScale, String vae) {

    /** With the model's own VAE ({@code vae} null). */
    public ModelInfo(String name, String spec, int defaultSize, int vaeScaleFactor, String defaultScheduler,
                     int defaultSteps, double defaultGuidanceScale) {
        this(name, spec, defaultSize, vaeScaleFactor, defaultScheduler, defaultSteps, defaultGuidanceScale, null);
    }

    public static ModelInfo of(StableDiffusion sd, String spec) {
        boolean small = sd.defaultSize() <= 128;   // the CLI's defaults: small models need fewer steps and less guidance
        return new ModelInfo(sd.name, spec, sd.defaultSize(), sd.vaeScaleFactor(), sd.defaultScheduler().alias(),
                small ? 25 : 50, small ? 5.0 : 7.5, sd.vaeName);
    }
}
