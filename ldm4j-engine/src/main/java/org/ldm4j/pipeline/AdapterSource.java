package org.ldm4j.pipeline;

import org.bytedeco.pytorch.Scalar;
import org.bytedeco.pytorch.Tensor;
import org.ldm4j.models.adapter.FeatureAdapter;
import org.ldm4j.models.unet.UNet2DConditionModel;
import org.ldm4j.models.unet.UNetExtras;
import org.ldm4j.nn.Dtypes;
import org.ldm4j.nn.Scopes;

import java.util.ArrayList;
import java.util.Collections;
import java.util.List;

/**
 * An adapter in a run (T2I-Adapter semantics: features added inside the UNet's down blocks, both guidance halves).
 *
 * <ul>
 *   <li>T2I-Adapter on a control image (diffusers {@code StableDiffusionAdapterPipeline}): features × {@code scale},
 *       computed <b>once per generation</b> and reused every step; several adapters sum, which is diffusers'
 *       {@code MultiAdapter} with the scales as {@code adapter_weights}.</li>
 *   <li>{@code conditioningFactor}: the adapter is applied while step i &lt; int(n × factor) (diffusers'
 *       {@code adapter_conditioning_factor}).</li>
 *   <li>FG-DM adapters: input {@code null} means the noisy latent the UNet sees (a root condition factor; both halves
 *       of the guidance batch hold the same latent, so the adapter runs on one); a fixed latent is a child factor's
 *       parent. A {@code TimeAdapter} gets the frozen UNet's time embedding and runs every step.</li>
 * </ul>
 */
public final class AdapterSource implements ControlSource {
    private final FeatureAdapter adapter;
    private final Tensor input;
    private final double scale, conditioningFactor;
    private List<Tensor> cached;
    private int computations;

    /**
     * @param input (1, in_channels, H, W): a control image in [0, 1] or an FG-DM parent latent; null = the noisy latent
     */
    public AdapterSource(FeatureAdapter adapter, Tensor input, double scale, double conditioningFactor) {
        if (!(conditioningFactor >= 0 && conditioningFactor <= 1)) {
            throw new IllegalArgumentException("adapter conditioning factor must be in [0, 1], got " + conditioningFactor);
        }
        if (!Double.isFinite(scale)) throw new IllegalArgumentException("adapter scale must be finite, got " + scale);
        this.adapter = adapter;
        this.input = input == null ? null : Scopes.keep(input);
        this.scale = scale;
        this.conditioningFactor = conditioningFactor;
    }

    public AdapterSource(FeatureAdapter adapter, Tensor input, double scale) { this(adapter, input, scale, 1.0); }

    /** How many times the adapter network ran (1 per generation for a plain adapter on a fixed input). */
    public int computations() { return computations; }

    public boolean active(Step step) {
        int n = step.count() - step.first(), i = step.index() - step.first();
        return i < (int) (n * conditioningFactor);
    }

    @Override
    public UNetExtras extras(ControlInput in, Step step) {
        if (!active(step)) return null;
        List<Tensor> features;
        if (input != null && !adapter.timeConditioned()) {
            if (cached == null) {
                List<Tensor> kept = new ArrayList<>();
                for (Tensor f : compute(input, null)) kept.add(Scopes.keep(f));
                cached = Collections.unmodifiableList(kept);
            }
            features = cached;
        } else {
            Tensor x = input != null ? input : in.condLatents();
            Tensor emb = adapter.timeConditioned() ? timeEmbedding(in.unet(), in.timestep(), x.size(0)) : null;
            features = compute(x, emb);
        }
        long batch = in.latents().size(0);
        List<Tensor> out = new ArrayList<>(features.size());
        for (Tensor f : features) out.add(toBatch(f, batch));
        return UNetExtras.adapter(out);
    }

    private List<Tensor> compute(Tensor x, Tensor emb) {
        computations++;
        List<Tensor> out = new ArrayList<>();
        for (Tensor f : adapter.features(x, emb)) out.add(scale == 1.0 ? f : f.mul(new Scalar(scale)));
        return out;
    }

    /** The UNet's own time embedding of {@code t} for a batch (FG-DM: "the frozen UNet's time embedding"). */
    static Tensor timeEmbedding(UNet2DConditionModel unet, Tensor timestep, long batch) {
        Tensor t = timestep.dim() == 0 ? timestep.unsqueeze(0) : timestep;
        Tensor tEmb = unet.timeProj.forward(Dtypes.to(t, unet.device(), t.scalar_type()).expand(batch));
        return unet.timeEmbedding.forward(Dtypes.to(tEmb, tEmb.device(), unet.dtype()));
    }

    private static Tensor toBatch(Tensor f, long batch) {
        long have = f.size(0);
        if (have == batch) return f;
        if (batch % have != 0) throw new IllegalArgumentException("adapter features of batch " + have + " cannot serve a UNet batch of " + batch);
        return f.repeat(batch / have, 1, 1, 1);
    }

    @Override
    public void validate(StableDiffusion sd, int width, int height) {
        if (!adapter.featureChannels().equals(sd.unet.config.blockOutChannels())) {
            throw new IllegalArgumentException("the adapter's features have widths " + adapter.featureChannels()
                    + " but the UNet's down blocks are " + sd.unet.config.blockOutChannels());
        }
        if (input == null) {
            if (adapter.inChannels() != sd.latentChannels()) {
                throw new IllegalArgumentException("the adapter takes " + adapter.inChannels() + " channels but the latent has " + sd.latentChannels());
            }
            return;
        }
        if (input.size(1) != adapter.inChannels()) {
            throw new IllegalArgumentException("adapter input has " + input.size(1) + " channels, the adapter takes " + adapter.inChannels());
        }
        int f = sd.vaeScaleFactor() / adapter.downscaleFactor();
        if (f * adapter.downscaleFactor() != sd.vaeScaleFactor() || input.size(2) * f != height || input.size(3) * f != width) {
            throw new IllegalArgumentException("adapter input is " + input.size(3) + "x" + input.size(2) + " but this adapter (downscale "
                    + adapter.downscaleFactor() + ") needs " + width * adapter.downscaleFactor() / sd.vaeScaleFactor() + "x"
                    + height * adapter.downscaleFactor() / sd.vaeScaleFactor() + " for a " + width + "x" + height + " output");
        }
    }
}
