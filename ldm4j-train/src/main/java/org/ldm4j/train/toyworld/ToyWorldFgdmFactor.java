package org.ldm4j.train.toyworld;

import org.bytedeco.pytorch.NoGradGuard;
import org.bytedeco.pytorch.Scalar;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.TensorVector;
import org.bytedeco.pytorch.global.torch;
import org.ldm4j.methods.fgdm.Factor;
import org.ldm4j.models.adapter.FeatureAdapter;
import org.ldm4j.models.adapter.TimeAdapter;
import org.ldm4j.models.attention.AttentionMaps;
import org.ldm4j.models.controlnet.ControlNetModel;
import org.ldm4j.models.unet.UNet2DConditionModel;
import org.ldm4j.models.unet.UNetExtras;
import org.ldm4j.nn.Block;
import org.ldm4j.nn.Dtypes;
import org.ldm4j.nn.Rng;
import org.ldm4j.nn.Tensors;
import org.ldm4j.pipeline.StableDiffusion;
import org.ldm4j.schedulers.NoiseSchedule;
import org.ldm4j.toyworld.Scene;
import org.ldm4j.train.Trainer;

import java.util.List;

/**
 * Trains one factor of the ToyWorld FG-DM (Sridhar et al. 2024, sec. 3.3, eq. 8; shared/design/fgdm.md) over the
 * frozen base LDM: UNet, text encoder and VAE never change, only the factor's branch learns, and the branch feeds the
 * UNet exactly as the sampler's {@code FactorBranch} does.
 *
 * <ul>
 *   <li>{@code seg} (root): a {@link TimeAdapter} on the noisy latent z_t of the segmentation map (the same latent the
 *       UNet denoises), time-conditioned on the UNet's own time embedding, features added as
 *       {@code down_intrablock_additional_residuals}; plus, optionally, attention distillation
 *       ({@link AttentionDistillation}) against the UNet without the adapter.</li>
 *   <li>{@code depth} (child of seg): a TimeAdapter on the parent's clean seg latent; the UNet denoises the depth
 *       map's latent.</li>
 *   <li>{@code image}: a {@link ControlNetModel} (initialised from the base UNet's encoder) on the segmentation hint
 *       drawn as the sampler draws it; the UNet denoises the image latent with the ControlNet's residuals. With
 *       {@code "branch": "controlnet_decoder"} the decoder of a copy of the UNet trains too, with
 *       {@code "controlnet_unet"} the whole copy ({@link ControlNetWithUnetCopy}).</li>
 * </ul>
 * Every factor minimises ‖ε − ε̂‖² on its own latent (optionally balanced per object, {@link ObjectWeighting}). Maps are 3-channel images through the base VAE (posterior
 * sample, as the released training). Null-condition dropout (paper 3.3, absent from the released code): a fraction of
 * the examples loses its caption ("") and/or its parent condition (a zero latent, a black hint), as the sampler's
 * null conditions are. Scenes come from {@link SceneBatches} by step and all noise from the step's {@link Rng}, so a
 * resumed run is exact.
 */
public final class ToyWorldFgdmFactor implements Trainer.Objective {
    /** One step's terms: the ε MSE and the attention distillation KL (null when not computed this step). */
    public record Losses(Tensor epsilon, Tensor kl, double klWeight) {
        public Tensor total() { return kl == null ? epsilon : epsilon.add(kl.mul(new Scalar(klWeight))); }
    }

    private final StableDiffusion base;
    private final FgdmTrainingSettings settings;
    private final Block branch;
    private final SceneBatches batches;
    private final NoiseSchedule schedule;

    /**
     * @param branch a {@link TimeAdapter} for condition factors, a {@link ControlNetModel} for the image factor (a
     *               {@link ControlNetWithUnetCopy} when a copy of its UNet trains too) ({@link #newBranch})
     */
    public ToyWorldFgdmFactor(StableDiffusion base, FgdmTrainingSettings settings, Block branch, SceneBatches batches) {
        boolean image = settings.kind() == FgdmFactorKind.IMAGE;
        Class<?> expected = image ? settings.trainsUnetCopy() ? ControlNetWithUnetCopy.class : ControlNetModel.class
                : settings.ownUnet() ? UNet2DConditionModel.class : FeatureAdapter.class;
        if (!expected.isInstance(branch)) {
            throw new IllegalArgumentException("factor " + settings.kind().id() + " trains a " + expected.getSimpleName()
                    + ", got a " + branch.getClass().getSimpleName());
        }
        if (branch == base.unet || branch instanceof ControlNetWithUnetCopy d && d.unet == base.unet) {
            throw new IllegalArgumentException("a factor's own UNet must be a copy: the base UNet stays frozen");
        }
        this.base = base;
        this.settings = settings;
        this.branch = branch;
        this.batches = batches;
        this.schedule = base.defaultScheduler().read(base.schedulerConfig.toString()).noiseSchedule();
        base.unet.requiresGrad(false);
        base.textEncoder.requiresGrad(false);
        base.vae.requiresGrad(false);
    }

    /**
     * A freshly initialised branch for {@code settings.kind()} on the base model: a TimeAdapter with the UNet's widths,
     * time-embedding width and GroupNorm groups (4 input channels per parent latent); or a ControlNet copied from the
     * UNet's encoder (diffusers {@code from_unet}: conv_in, time embedding, down and mid blocks), zero convs at zero;
     * or, for a root factor with a UNet of its own, a copy of the base UNet. Seed torch first for a reproducible
     * initialisation.
     */
    public static Block newBranch(StableDiffusion base, FgdmTrainingSettings settings) {
        UNet2DConditionModel unet = base.unet;
        if (settings.ownUnet()) return copy(unet);
        Block b = switch (settings.kind()) {
            case SEG, DEPTH, SKETCH, NORMAL -> new TimeAdapter(base.latentChannels() * Math.max(1, settings.kind().parents().size()),
                    unet.config.blockOutChannels(), settings.adapterBlocks(), unet.config.timeEmbedDim(), unet.config.normNumGroups());
            case IMAGE -> {
                ControlNetModel net = ControlNetModel.fromUnet(unet, settings.hintChannels(), 3 * settings.kind().parents().size());
                yield settings.trainsUnetCopy() ? new ControlNetWithUnetCopy(net, copy(unet), settings.unetCopy()) : net;
            }
        };
        b.to(unet.device(), unet.dtype());
        return b;
    }

    /** A new UNet of the same architecture holding the same weights (on the same device, in the same dtype). */
    static UNet2DConditionModel copy(UNet2DConditionModel unet) {
        UNet2DConditionModel out = Block.withoutInit(() -> new UNet2DConditionModel(unet.config));
        out.to(unet.device(), unet.dtype());
        java.util.Map<String, org.ldm4j.nn.Param> source = unet.namedParameters();
        try (NoGradGuard g = new NoGradGuard()) {
            for (java.util.Map.Entry<String, org.ldm4j.nn.Param> e : out.namedParameters().entrySet()) e.getValue().t().copy_(source.get(e.getKey()).t());
        }
        return out;
    }

    public FgdmTrainingSettings settings() { return settings; }

    /** Copies the trainer's EMA weights (when it keeps them) into the branch, before an export. */
    public static void useEma(Block branch, Trainer trainer) {
        if (trainer.ema() == null) return;
        java.util.Map<String, org.ldm4j.nn.Param> params = branch.namedParameters();
        try (NoGradGuard g = new NoGradGuard()) {
            trainer.ema().weights().forEach((k, t) -> params.get(k).t().copy_(t));
        }
    }

    public Block branch() { return branch; }

    @Override
    public Tensor loss(long step, Rng rng) { return losses(step, rng, settings.distillAt(step)).total(); }

    /** The step's loss terms; {@code distill} forces the attention distillation term on or off (root factor only). */
    public Losses losses(long step, Rng rng, boolean distill) {
        if (distill && !settings.kind().isRoot()) throw new IllegalArgumentException("attention distillation is for the root factor only");
        List<Scene> scenes = batches.scenes(step);
        int b = scenes.size();
        float[] u = Tensors.toFloats(rng.rand(3L * b));
        boolean[] nullText = new boolean[b], nullParents = new boolean[b];
        List<FgdmTrainingSettings.NullMode> modes = settings.nullModes();
        long[] t = new long[b];
        for (int i = 0; i < b; i++) {
            if (u[i] < settings.nullDropout()) {
                FgdmTrainingSettings.NullMode mode = modes.get(Math.min(modes.size() - 1, (int) (u[b + i] * modes.size())));
                nullText[i] = mode.text();
                nullParents[i] = mode.parents();
            }
            t[i] = Math.min(schedule.numTrainTimesteps() - 1, (long) (u[2 * b + i] * schedule.numTrainTimesteps()));
        }
        Tensor timesteps = Dtypes.to(Tensors.ofLongs(t, b), base.device(), org.bytedeco.pytorch.global.torch.ScalarType.Long);
        Tensor context, z0, parent = null, hint = null;
        try (NoGradGuard frozen = new NoGradGuard()) {
            context = textStates(scenes, step, nullText);
            z0 = settings.kind() == FgdmFactorKind.IMAGE ? encode(SceneBatches.images(scenes), rng)
                    : encode(ToyWorldMaps.map(settings.kind().map(), scenes, settings.factorSize()), rng);
            if (settings.kind().role() == Factor.Role.CONDITION && !settings.kind().isRoot()) {
                TensorVector parents = new TensorVector();
                for (String p : settings.kind().parents()) {
                    parents.push_back(encode(ToyWorldMaps.map(FgdmFactorKind.of(p).map(), scenes, settings.factorSize()), rng));
                }
                parent = torch.cat(parents, 1).mul(keepMask(nullParents));
            } else if (settings.kind() == FgdmFactorKind.IMAGE) {
                hint = Dtypes.to(ToyWorldMaps.segmentationHint(scenes, settings.hintMapSize(), settings.factorSize()), base.device(),
                        org.bytedeco.pytorch.global.torch.ScalarType.Float).mul(keepMask(nullParents));
            }
        }
        Tensor noise = rng.randnLike(z0);
        Tensor noisy = schedule.addNoise(z0, noise, timesteps);
        AttentionMaps student = distill ? new AttentionMaps(site -> true, true, AttentionMaps.What.SCORES) : null;
        Tensor eps = switch (settings.kind()) {
            case SEG -> settings.ownUnet() ? ((UNet2DConditionModel) branch).forward(noisy, timesteps, context, new UNetExtras(null, null, null, student))
                    : unet().forward(noisy, timesteps, context, new UNetExtras(null, null, adapterFeatures(noisy, timesteps), student));
            case DEPTH, SKETCH, NORMAL -> unet().forward(noisy, timesteps, context, UNetExtras.adapter(adapterFeatures(parent, timesteps)));
            case IMAGE -> {
                ControlNetWithUnetCopy unlocked = branch instanceof ControlNetWithUnetCopy d ? d : null;
                ControlNetModel net = unlocked != null ? unlocked.controlNet : (ControlNetModel) branch;
                ControlNetModel.Residuals r = net.forward(noisy, timesteps, context, hint, 1.0, false);
                yield (unlocked != null ? unlocked.unet : unet()).forward(noisy, timesteps, context, r.toExtras());
            }
        };
        Tensor mse = settings.objectWeighting().weightedMean(eps.sub(noise).pow(new Scalar(2.0)), scenes);
        if (!distill) return new Losses(mse, null, settings.distillWeight());
        int n = Math.min(b, settings.distillSamples());
        AttentionMaps teacher = new AttentionMaps(site -> true, false, AttentionMaps.What.SCORES);
        try (NoGradGuard frozen = new NoGradGuard()) {
            Tensor tNoisy;
            if (settings.teacherScale() == 1) {
                tNoisy = noisy.narrow(0, 0, n);   // the very latent the student saw
            } else {
                // the teacher at its own size: the map drawn there, encoded, and fresh noise (upsampled noise is not i.i.d.)
                Tensor tz0 = encode(ToyWorldMaps.segmentation(scenes.subList(0, n), settings.factorSize() * settings.teacherScale()), rng);
                tNoisy = schedule.addNoise(tz0, rng.randnLike(tz0), timesteps.narrow(0, 0, n));
            }
            unet().forward(tNoisy, timesteps.narrow(0, 0, n), context.narrow(0, 0, n), UNetExtras.attention(teacher));
        }
        Tensor kl = AttentionDistillation.kl(AttentionDistillation.layers(teacher), AttentionDistillation.layers(student), n);
        return new Losses(mse, kl, settings.distillWeight());
    }

    /** The adapter's features on {@code input}, conditioned on the frozen UNet's time embedding of {@code timesteps}. */
    List<Tensor> adapterFeatures(Tensor input, Tensor timesteps) {
        Tensor emb;
        try (NoGradGuard frozen = new NoGradGuard()) {
            UNet2DConditionModel unet = unet();
            Tensor tEmb = unet.timeProj.forward(timesteps);
            emb = unet.timeEmbedding.forward(Dtypes.to(tEmb, tEmb.device(), unet.dtype()));
        }
        return ((FeatureAdapter) branch).features(input, emb);
    }

    private UNet2DConditionModel unet() { return base.unet; }

    /** The base VAE's scaled posterior sample of images in [-1, 1] (maps are encoded as images are). */
    private Tensor encode(Tensor image, Rng rng) {
        return base.encodeImage(Dtypes.to(image, base.device(), org.bytedeco.pytorch.global.torch.ScalarType.Float), rng);
    }

    /** (B, 1, 1, 1): 0 for examples whose parents are nulled, else 1. */
    private Tensor keepMask(boolean[] nulled) {
        float[] keep = new float[nulled.length];
        for (int i = 0; i < keep.length; i++) keep[i] = nulled[i] ? 0f : 1f;
        return Dtypes.to(Tensors.ofFloats(keep, keep.length, 1, 1, 1), base.device(), org.bytedeco.pytorch.global.torch.ScalarType.Float);
    }

    /** Frozen text states of one caption per scene (rotating through its three captions), "" where nulled. */
    private Tensor textStates(List<Scene> scenes, long step, boolean[] nullText) {
        int b = scenes.size(), len = base.tokenizer.maxLength();
        long[] ids = new long[b * len];
        for (int i = 0; i < b; i++) {
            Scene s = scenes.get(i);
            String caption = nullText[i] ? "" : s.captions().get((int) Math.floorMod(step * 31 + i, s.captions().size()));
            int[] row = base.tokenizer.encode(caption).ids();
            for (int j = 0; j < row.length; j++) ids[i * len + j] = row[j];
        }
        Tensor input = Dtypes.to(Tensors.ofLongs(ids, b, len), base.device(), org.bytedeco.pytorch.global.torch.ScalarType.Long);
        return base.textEncoder.promptEmbeds(input, 0);
    }
}
