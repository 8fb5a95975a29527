package org.ldm4j.studio;

import org.bytedeco.pytorch.global.torch;
import org.ldm4j.methods.fgdm.Factor;
import org.ldm4j.methods.fgdm.FactorConditioning;
import org.ldm4j.methods.fgdm.FactorGraph;
import org.ldm4j.methods.fgdm.FactorSettings;
import org.ldm4j.methods.fgdm.HintRenderer;
import org.ldm4j.models.adapter.TimeAdapter;
import org.ldm4j.models.controlnet.ControlNetModel;
import org.ldm4j.pipeline.StableDiffusion;
import org.ldm4j.pipeline.TinyControl;

import java.util.List;

/**
 * A tiny random FG-DM on the tiny SD ({@code TinyStableDiffusion}: 16x16 images, latents 4x8x8), built as
 * ldm4j-methods' FactorGraphSamplerTest builds its own: seg (root, TimeAdapter on its noisy latent) -> depth
 * (TimeAdapter on seg's latent) -> image (ControlNet on the seg and depth maps). Random, so its maps are noise in
 * colour; 3 DDIM steps per factor.
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
                Factor.root("seg", new FactorConditioning.NoisyLatentAdapter(timeAdapter(11), 1.0), SETTINGS),
                Factor.child("depth", List.of("seg"), new FactorConditioning.ParentLatentAdapter(timeAdapter(12), 1.0), SETTINGS),
                Factor.image("image", List.of("seg", "depth"), new FactorConditioning.ControlNetOnMaps(controlNet(sd, 13, 6), 1.0,
                        List.of(HintRenderer.segmentation(FactorGraphModel.toyWorldPalette(), FactorGraphModel.TOLERANCE),
                                HintRenderer.continuous())), SETTINGS)));
    }

    /** A TimeAdapter for the tiny UNet (widths 32, 64; time embedding 128) whose zero-initialised convs are randomised. */
    static TimeAdapter timeAdapter(long seed) {
        torch.manual_seed(seed);
        TimeAdapter a = new TimeAdapter(4, List.of(32, 64), 1, 128, 16);
        TinyControl.randomise(a, 0.2);
        return a;
    }

    static ControlNetModel controlNet(StableDiffusion sd, long seed, int hintChannels) {
        ControlNetModel net = ControlNetModel.fromUnet(sd.unet, TinyControl.HINT_WIDTHS, hintChannels);
        torch.manual_seed(seed);
        TinyControl.randomise(net.controlnetDownBlocks, 0.5);
        TinyControl.randomise(net.controlnetMidBlock, 0.5);
        TinyControl.randomise(net.controlnetCondEmbedding.convOut, 0.5);
        return net;
    }
}
