package org.ldm4j.methods.fgdm;

import org.ldm4j.models.adapter.FeatureAdapter;
import org.ldm4j.models.controlnet.ControlNetModel;
import org.ldm4j.models.unet.UNet2DConditionModel;

import java.util.List;

/**
 * A factor's conditioning branch on the frozen shared UNet (brief sections 3-4). The branch decides what the factor
 * sees of the graph: nothing but the text, its own noisy latent, its parents' latents, or its parents' decoded maps.
 */
public sealed interface FactorConditioning {
    /**
     * The same branch with its residuals multiplied by {@code scale} (diffusers' {@code controlnet_conditioning_scale},
     * an adapter's {@code adapter_conditioning_scale}).
     *
     * @throws IllegalArgumentException for a branch that adds no residuals (text only, a UNet of its own)
     */
    static FactorConditioning scaled(FactorConditioning c, double scale) {
        if (!(Math.abs(scale) < 1e6)) throw new IllegalArgumentException("a conditioning scale must be a finite number, got " + scale);
        if (c instanceof NoisyLatentAdapter a) return new NoisyLatentAdapter(a.adapter(), scale);
        if (c instanceof ParentLatentAdapter a) return new ParentLatentAdapter(a.adapter(), scale);
        if (c instanceof ControlNetOnMaps n) return new ControlNetOnMaps(n.net(), scale, n.renderers(), n.unet());
        if (c instanceof OwnUnet) throw new IllegalArgumentException("a factor with a UNet of its own adds no residuals to scale");
        throw new IllegalArgumentException("a text-only factor has no conditioning branch to scale");
    }

    /** Text only: the plain frozen UNet (a factor with no trained branch, e.g. SD itself as an image factor). */
    record TextOnly() implements FactorConditioning {}

    /**
     * The root condition factor (P(y^K | c), eq. 4): an FG-DM adapter (a {@code TimeAdapter} or the plain latent
     * {@code Adapter}) whose input is the same noisy latent z_t the UNet sees.
     */
    record NoisyLatentAdapter(FeatureAdapter adapter, double scale) implements FactorConditioning {}

    /**
     * A root condition factor with a UNet of its own (ldm4j's alternative to the adapter): the base model's UNet,
     * fine-tuned whole on the factor's maps, with the base model's frozen text encoder and VAE. It costs a second
     * UNet's memory, which the paper's adapters were designed to avoid at SD's size; on a small base model the
     * adapter over a frozen image UNet cannot draw the maps' sharp shapes (README, FG-DM), and a UNet can.
     */
    record OwnUnet(UNet2DConditionModel unet) implements FactorConditioning {}

    /**
     * A child factor (eqs. 5-6) with an adapter over its parents' latents, concatenated along channels in the order
     * the factor lists its parents; a parent that is switched off contributes zeros (the null condition of CFG
     * training). Parent latents of another size are resized nearest to this factor's latent size.
     */
    record ParentLatentAdapter(FeatureAdapter adapter, double scale) implements FactorConditioning {}

    /**
     * An image factor with a ControlNet over its parents' maps (the released seg -> image factor): each parent is
     * decoded and drawn at the output size by its {@link HintRenderer} (one per parent, in order), hints concatenated
     * along channels; a switched-off parent is a black hint.
     *
     * @param unet the UNet the ControlNet's residuals feed when it was trained with the decoder unlocked (ControlNet's
     *             {@code sd_locked=False}: the base UNet with its up blocks and output layers fine-tuned beside the
     *             ControlNet), or null: the frozen base UNet, the paper's and the released code's setting
     */
    record ControlNetOnMaps(ControlNetModel net, double scale, List<HintRenderer> renderers, UNet2DConditionModel unet)
            implements FactorConditioning {
        public ControlNetOnMaps {
            renderers = List.copyOf(renderers);
        }

        /** On the frozen base UNet. */
        public ControlNetOnMaps(ControlNetModel net, double scale, List<HintRenderer> renderers) { this(net, scale, renderers, null); }
    }
}
