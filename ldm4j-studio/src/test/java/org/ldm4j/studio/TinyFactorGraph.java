package org.ldm4j.studio;

import org.ldm4j.methods.fgdm.Factor;
import org.ldm4j.methods.fgdm.FactorConditioning;
import org.ldm4j.methods.fgdm.FactorGraph;
import org.ldm4j.methods.fgdm.FactorSettings;
import org.ldm4j.methods.fgdm.HintRenderer;
import org.ldm4j.methods.fgdm.TinyFgdm;
import org.ldm4j.pipeline.StableDiffusion;

import java.util.List;

/**
 * A tiny random FG-DM on the tiny SD ({@code TinyStableDiffusion}: 16x16 images, latents 4x8x8), built from
 * {@link TinyFgdm}'s parts as ldm4j-methods' FactorGraphSamplerTest builds its own: seg (root, TimeAdapter on its
 * noisy latent) -> depth (TimeAdapter on seg's latent) -> image (ControlNet on the seg and depth maps). Random, so its
 * maps are noise in colour; 3 DDIM steps per factor.
 */
final class TinyFactorGraph {
    static final FactorSettings SETTINGS = new FactorSettings(16, 16, 3, 5.0, "ddim", 0, "", "");

    private TinyFactorGraph() {}

    /** The source the studio server is started with. */
    static FactorGraphSource source() {
        return base -> FactorGraphModel.toyWorld(graph(base), "seg");
    }

    static FactorGraph graph(StableDiffusion sd) {
        return new FactorGraph(sd, List.of(
                Factor.root("seg", new FactorConditioning.NoisyLatentAdapter(TinyFgdm.timeAdapter(11), 1.0), SETTINGS),
                Factor.child("depth", List.of("seg"), new FactorConditioning.ParentLatentAdapter(TinyFgdm.timeAdapter(12), 1.0), SETTINGS),
                Factor.image("image", List.of("seg", "depth"), new FactorConditioning.ControlNetOnMaps(TinyFgdm.controlNet(sd.unet, 13, 6), 1.0,
                        List.of(HintRenderer.segmentation(FactorGraphModel.toyWorldPalette(), FactorGraphModel.TOLERANCE),
                                HintRenderer.continuous())), SETTINGS)));
    }
}
