package org.ldm4j.studio;

import org.ldm4j.pipeline.StableDiffusion;

import java.io.IOException;

/**
 * EXTENSION POINT: where the Factor graph mode gets its FG-DM. {@link StudioServer#start(StudioConfig, FactorGraphSource)}
 * calls it once at start, with the loaded base model, so the factors can share its UNet, VAE and text encoder (the
 * FG-DM's frozen base); e.g. {@code base -> FactorGraphModel.toyWorld(<FG-DM folder loaded on base>, "seg")}.
 * Returning null, or no source at all, shows the mode disabled with {@link #NO_FACTORS}; a source that throws leaves
 * the mode disabled with its message (the other modes keep running).
 */
@FunctionalInterface
public interface FactorGraphSource {
    String NO_FACTORS = "no FG-DM factors: train them with `ldm4j train fgdm`";

    /** @return the FG-DM to serve, or null when there is none */
    FactorGraphModel load(StableDiffusion base) throws IOException;
}
