package org.ldm4j.methods.blended;

import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.Scalar;
import org.bytedeco.pytorch.Tensor;
import org.ldm4j.methods.gradop.RegionSemantics;
import org.ldm4j.methods.guidance.GuidanceSettings;
import org.ldm4j.methods.guidance.SegmentationGuidance;
import org.ldm4j.methods.guidance.SegmentationLoss;
import org.ldm4j.methods.guidance.Segmenter;
import org.ldm4j.nn.Tensors;
import org.ldm4j.models.unet.UNetExtras;
import org.ldm4j.nn.Dtypes;
import org.ldm4j.nn.Rng;
import org.ldm4j.nn.Scopes;
import org.ldm4j.pipeline.ClassifierFreeGuidance;
import org.ldm4j.pipeline.Denoiser;
import org.ldm4j.pipeline.DenoisingLoop;
import org.ldm4j.pipeline.GenerationRequest;
import org.ldm4j.pipeline.PromptConditioning;
import org.ldm4j.pipeline.StableDiffusion;
import org.ldm4j.pipeline.Step;
import org.ldm4j.pipeline.StepHook;
import org.ldm4j.pipeline.Txt2Img;
import org.ldm4j.schedulers.DDIMScheduler;
import org.ldm4j.schedulers.Scheduler;
import org.ldm4j.schedulers.SchedulerConfig;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.function.BooleanSupplier;
import java.util.function.Consumer;
import java.util.function.Function;
import java.util.function.IntConsumer;
import java.util.stream.IntStream;

/**
 * Blended Latent Diffusion (Avrahami, Fried, Lischinski, ACM TOG 42(4), SIGGRAPH 2023, arXiv 2206.02779): a
 * text-driven local edit of an image inside a mask, on a text-to-image latent diffusion model. Algorithm 1:
 * <pre>
 *   m_latent = downsample(m);  z_src = E(x);  z_k = noise(z_src, k)
 *   for t = k .. 0:  z_fg = denoise(z_t, d, t);  z_bg = noise(z_src, t);  z_t ← z_fg ⊙ m_latent + z_bg ⊙ (1 − m_latent)
 *   x̂ = D(z_0)
 * </pre>
 * plus the paper's add-ons: background repair by decoder fine-tuning ({@link BackgroundRepair}), progressive mask
 * shrinking for thin masks ({@link MaskSchedule}) and ranking a batch of samples ({@link EditScorer}); and ldm4j's:
 * mask attention ({@link BlendSettings#maskAttention()}), editing small masks in an enlarged box ({@link MaskZoom})
 * RePaint's resampling ({@link Resampling}) and segmentation guidance toward the requested class inside the mask
 * ({@link #guidedToward}).
 *
 * <p>The loop is the engine's {@link DenoisingLoop}; the blend is a {@link LatentBlend} hook. Options and the two
 * presets (the official diffusers script, the recommended variant) are in {@link BlendSettings}. Sample k uses its
 * own generator seeded with seed + k, which draws, in order: the VAE posterior sample (SourceLatents.SAMPLE only),
 * the start noise, the fixed background noise (NoiseMode.FIXED only), then per step the scheduler's noise (ancestral
 * samplers) and the blend's fresh noise.
 */
public final class BlendedLatentDiffusion {
    private static final Logger LOG = LoggerFactory.getLogger(BlendedLatentDiffusion.class);

    private final StableDiffusion sd;
    private final BlendSettings settings;
    private final Consumer<LatentBlend.Blended> observer;
    private final IntConsumer repairProgress;
    private final Guide guide;

    /** Segmentation guidance of the edit: the segmenter, the class wanted inside the mask, when and how hard. */
    public record Guide(Segmenter segmenter, int classId, GuidanceSettings settings) {
        public Guide {
            if (segmenter == null || settings == null) throw new IllegalArgumentException("a guide needs a segmenter and settings");
            if (classId < 0) throw new IllegalArgumentException("the wanted class must be >= 0, got " + classId);
        }
    }

    public BlendedLatentDiffusion(StableDiffusion sd, BlendSettings settings) { this(sd, settings, null, null, null); }

    private BlendedLatentDiffusion(StableDiffusion sd, BlendSettings settings, Consumer<LatentBlend.Blended> observer,
                                   IntConsumer repairProgress, Guide guide) {
        this.sd = sd;
        this.settings = settings;
        this.observer = observer;
        this.repairProgress = repairProgress;
        this.guide = guide;
    }

    /** The same edit reporting every blend to {@code observer} (tests, previews of the background). */
    public BlendedLatentDiffusion observedBy(Consumer<LatentBlend.Blended> o) {
        return new BlendedLatentDiffusion(sd, settings, o, repairProgress, guide);
    }

    /**
     * The same edit steered toward {@code guide}'s class inside the mask ({@link SegmentationGuidance}, run before the
     * blend at each step, so the outside still equals the noised source); null for none. An ldm4j addition: the paper
     * ranks samples by CLIP afterwards instead of steering them.
     */
    public BlendedLatentDiffusion guidedToward(Guide g) {
        return new BlendedLatentDiffusion(sd, settings, observer, repairProgress, g);
    }

    /**
     * The same edit telling {@code progress} the background repair's steps done after each one (the denoising steps
     * go to the edit's hooks; the repair is not a denoising loop).
     */
    public BlendedLatentDiffusion repairProgress(IntConsumer progress) {
        return new BlendedLatentDiffusion(sd, settings, observer, progress, guide);
    }

    public BlendSettings settings() { return settings; }

    /**
     * The SD2 script's own scheduler, whatever the model ships: {@code DDIMScheduler(beta_start=0.00085,
     * beta_end=0.012, beta_schedule="scaled_linear", clip_sample=False, set_alpha_to_one=False)}, diffusers' defaults
     * otherwise (steps_offset 0, "leading": 980, 960, ..., 0 at 50 steps).
     */
    public static DDIMScheduler.Config officialScheduler() {
        return new DDIMScheduler.Config(1000, 0.00085, 0.012, "scaled_linear", null, false, false, 0, "epsilon",
                false, null, null, null, "leading", false);
    }

    /**
     * Edits {@code image} inside {@code mask}: {@code request.count()} samples (seeds seed..seed+n-1), ranked by
     * {@code scorer}; the best is repaired and pasted as the settings say.
     *
     * @param image (1, 3, H, W) in [-1, 1], H and W the request's size
     * @param mask (1, 1, H, W), 1 = edit (white in the PNG)
     * @param hooks run after the blend at every step (progress, previews)
     */
    public EditResult edit(GenerationRequest request, Tensor image, Tensor mask, EditScorer scorer,
                           List<? extends StepHook> hooks, BooleanSupplier cancelled) {
        int f = sd.vaeScaleFactor();
        Masks.check(mask, image, f);
        request.validate(f);
        if (image.size(2) != request.height() || image.size(3) != request.width()) {
            throw new IllegalArgumentException("image is " + image.size(3) + "x" + image.size(2) + " but the request asks for "
                    + request.width() + "x" + request.height());
        }
        if (settings.firstStep(request.steps()) >= request.steps()) {
            throw new IllegalArgumentException("blend start " + settings.blendStart() + " of " + request.steps()
                    + " steps leaves no step to run");
        }
        List<String> warnings = new ArrayList<>();
        List<EditResult.Sample> samples = new ArrayList<>();
        if (Masks.isFull(mask)) {
            warnings.add("the mask covers the whole image: nothing to keep, running plain text2img");
            LOG.warn(warnings.get(0));
            List<Tensor> images = Txt2Img.run(sd, request, hooks, cancelled);
            for (int k = 0; k < images.size(); k++) {
                samples.add(new EditResult.Sample(request.seed() + k, null, images.get(k),
                        scorer.score(images.get(k), image, mask, request.prompt())));
            }
            List<Integer> ranking = rank(samples);
            return new EditResult(samples, ranking, samples.get(ranking.get(0)).image(), null, scorer.name(), warnings);
        }

        // a small mask is edited in an enlarged box around it (off unless settings.zoom() > 0); work* is what the
        // blend sees, the samples are put back into the input before they are scored
        MaskZoom zoom = MaskZoom.around(mask, settings.zoom());
        Tensor workImage = zoom == null ? image : zoom.enlarge(image);
        Tensor workMask = zoom == null ? mask : zoom.enlargeMask(mask);
        if (zoom != null) LOG.info("small mask: editing the {}x{} box at ({}, {}) enlarged to {}x{}", zoom.width(), zoom.height(),
                zoom.left(), zoom.top(), zoom.fullWidth(), zoom.fullHeight());
        Tensor mLat = Masks.toLatent(workMask, f, settings.downsampling(), settings.threshold());   // (1, 1, H/f, W/f)
        if (Masks.isEmpty(mLat)) {
            throw new IllegalArgumentException("the mask vanishes at latent resolution (1/" + f + " of the image, "
                    + settings.downsampling() + " sampling): it is thinner than " + f + " pixels; use MAX downsampling "
                    + "(--mask-downsampling max) or a wider mask");
        }
        PromptConditioning text = sd.encodePrompt(request.prompt(), request.negativePrompt(), request.clipSkip());
        Tensor zSrcMean = settings.source() == BlendSettings.SourceLatents.MEAN ? encodeMean(workImage) : null;
        int[] wanted = guide == null ? null : wantedInside(workMask, guide.classId());
        for (int k = 0; k < request.count(); k++) {
            long seed = request.seed() + k;
            try (PointerScope scope = new PointerScope()) {   // frees each sample's temporaries
                Tensor z0 = sampleLatents(request, k, text, workImage, zSrcMean, mLat, wanted, hooks, cancelled);
                Tensor decoded = sd.decodeLatents(z0);
                decoded = Scopes.keep(zoom == null ? decoded : zoom.paste(decoded, image));
                samples.add(new EditResult.Sample(seed, Scopes.keep(z0), decoded,
                        scorer.score(decoded, image, mask, request.prompt())));
            }
        }
        List<Integer> ranking = rank(samples);
        EditResult.Sample top = samples.get(ranking.get(0));

        Tensor best = top.image();
        BackgroundRepair.Result repair = null;
        if (settings.repair().enabled()) {
            Tensor z0Unscaled = top.latents().div(new Scalar(sd.vae.config().scalingFactor()));   // as decodeLatents
            repair = BackgroundRepair.run(sd.vae, z0Unscaled, workImage, workMask, settings.repair(), repairProgress, cancelled);
            LOG.info("background repair: {} steps in {} ms, loss {} -> {}", repair.losses().size(), repair.millis(),
                    repair.losses().get(0), repair.losses().get(repair.losses().size() - 1));
            best = zoom == null ? repair.image() : Scopes.keep(zoom.paste(repair.image(), image));
        }
        if (settings.pixelBlend()) best = Scopes.keep(BackgroundRepair.pixelBlend(best, image, mask));
        return new EditResult(samples, ranking, best, repair, scorer.name(), warnings);
    }

    /**
     * The blended denoising run of sample {@code k} (seed: the request's + k): z_0 as the UNet sees it, (1, 4, H/f,
     * W/f) float32.
     *
     * @param zSrcMean the posterior mean latents (SourceLatents.MEAN), or null to draw a posterior sample
     */
    public Tensor sampleLatents(GenerationRequest request, int k, PromptConditioning text, Tensor image,
                                Tensor zSrcMean, Tensor mLat, List<? extends StepHook> hooks, BooleanSupplier cancelled) {
        return sampleLatents(request, k, text, image, zSrcMean, mLat, null, hooks, cancelled);
    }

    /** The same, steered toward the guide's class where {@code wanted} (image pixels, {@link #wantedInside}) says; null for none. */
    private Tensor sampleLatents(GenerationRequest request, int k, PromptConditioning text, Tensor image, Tensor zSrcMean,
                                 Tensor mLat, int[] wanted, List<? extends StepHook> hooks, BooleanSupplier cancelled) {
        Rng rng = new Rng(request.seed() + k);
        SchedulerConfig config = settings.officialScheduler() ? officialScheduler() : sd.scheduler(request.scheduler(), request.eta());
        Scheduler scheduler = config.create(request.steps(), rng);
        int steps = scheduler.timesteps().length;
        int first = settings.firstStep(steps);                                  // k: int(steps · blendStart)
        Tensor zSrc = zSrcMean != null ? zSrcMean : sd.encodeImage(image, rng);   // z_src = E(x), (1, 4, h, w)
        Tensor eps = rng.randnLike(zSrc);
        Tensor zK = settings.start() == BlendSettings.Start.NOISE
                ? eps.mul(new Scalar(scheduler.initNoiseSigma()))              // the SD2 script: N(0, 1) at step k
                : scheduler.addNoise(zSrc, eps, first);                        // z_k = noise(z_src, k)
        MaskSchedule masks = MaskSchedule.of(mLat, settings.dilate(), settings.shrinkUntil(), first, steps);
        LatentBlend blend = new LatentBlend(zSrc, masks, scheduler, rng, settings, observer);
        Denoiser guided = new ClassifierFreeGuidance(sd.unet, text, request.guidanceScale(), maskAttention(request, settings.maskAttention(k), text, mLat, config));
        List<StepHook> all = new ArrayList<>();
        if (wanted != null) {
            all.add(new SegmentationGuidance(scheduler, new SegmentationLoss(sd, guide.segmenter(), wanted, (int) image.size(3),
                    (int) image.size(2), guide.settings().balance()), guide.settings()));
        }
        all.add(blend);
        if (settings.resampling().enabled()) all.add(new Resampling(settings.resampling(), blend, guided, scheduler, rng));
        all.addAll(hooks);
        return Scopes.keep(DenoisingLoop.run(zK, scheduler, first, guided, all, cancelled));
    }

    /** The optional cross-attention bias of weight w' toward the prompt inside the mask ({@link BlendSettings#maskAttention()}), or null. */
    private Function<Step, UNetExtras> maskAttention(GenerationRequest request, double weight, PromptConditioning text, Tensor mLat,
                                                     SchedulerConfig config) {
        int kept = text.encoding().tokenCount();   // every prompt token the encoder saw (a long prompt is truncated)
        if (weight == 0 || kept == 0) return null;
        int[] promptTokens = IntStream.rangeClosed(1, kept).toArray();
        RegionSemantics region = RegionSemantics.ofMasks(mLat, new int[][]{promptTokens}, weight,
                text.encoding().ids().length, settings.maskAttentionPooling());
        return region.extras(config, request.guidanceScale() > 1.0);
    }

    /** The guide's class at the mask's pixels (> 0.5), none elsewhere: what the guidance steers toward. */
    static int[] wantedInside(Tensor mask, int classId) {
        float[] m = Tensors.toFloats(mask);
        int[] wanted = new int[m.length];
        for (int i = 0; i < m.length; i++) wanted[i] = m[i] > 0.5f ? classId : SegmentationLoss.IGNORED;
        return wanted;
    }

    /** scaling_factor · the posterior mean of E(x) (the SD2 script's {@code latent_dist.mean * 0.18215}). */
    public Tensor encodeMean(Tensor image) {
        Tensor x = Dtypes.to(image, sd.device(), sd.vae.dtype());
        Tensor mean = sd.vae.encode(x).mean();
        return Scopes.keep(Dtypes.to(mean, image.device(), org.bytedeco.pytorch.global.torch.ScalarType.Float)
                .mul(new Scalar(sd.vae.config().scalingFactor())));
    }

    /** Indices sorted by descending score; ties (and NaN last) keep seed order. */
    static List<Integer> rank(List<EditResult.Sample> samples) {
        Comparator<Integer> byScore = Comparator.comparingDouble(i -> {
            double s = samples.get(i).score();
            return Double.isNaN(s) ? Double.POSITIVE_INFINITY : -s;
        });
        return IntStream.range(0, samples.size()).boxed().sorted(byScore).toList();
    }
}
