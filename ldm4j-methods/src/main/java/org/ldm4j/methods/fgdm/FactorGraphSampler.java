package org.ldm4j.methods.fgdm;

import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.Scalar;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch.ScalarType;
import org.ldm4j.nn.Dtypes;
import org.ldm4j.nn.Rng;
import org.ldm4j.nn.Scopes;
import org.ldm4j.nn.Tensors;
import org.ldm4j.pipeline.ClassifierFreeGuidance;
import org.ldm4j.pipeline.Denoiser;
import org.ldm4j.pipeline.DenoisingLoop;
import org.ldm4j.pipeline.DualGuidance;
import org.ldm4j.pipeline.PromptConditioning;
import org.ldm4j.pipeline.StableDiffusion;
import org.ldm4j.pipeline.Step;
import org.ldm4j.pipeline.StepHook;
import org.ldm4j.schedulers.Scheduler;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.BooleanSupplier;

/**
 * Samples a {@link FactorGraph} in one of two forms (brief section 2):
 *
 * <ul>
 *   <li><b>SEQUENTIAL</b> (the released inference path): in graph order, each factor runs its whole reverse chain in
 *       the engine's {@link DenoisingLoop}, conditioned on its parents' finished latents. SBPC needs this form: the
 *       image factor runs only on the chosen map.</li>
 *   <li><b>JOINT</b> (paper eqs. 4-6: "all conditions are sampled at each denoising step"): one loop over steps; at
 *       step t the root factor denoises z^K_t with text only (eq. 4), each child is conditioned on its parents'
 *       z_{t-1} of the same step (eq. 5), the image factor last (eq. 6). All sampled factors need the same number
 *       of steps. A ControlNet image factor then decodes its parents' latents at every step.</li>
 * </ul>
 * Each factor is the frozen shared UNet + its branch ({@link FactorBranch}) under the engine's
 * {@link ClassifierFreeGuidance}, with its own scheduler and generator. Call inside an {@code InferenceMode}.
 */
public final class FactorGraphSampler {
    private FactorGraphSampler() {}

    /** One factor in one run: its denoiser, scheduler and current value. */
    private static final class Run {
        final Factor factor;
        final FactorBranch.Value value;
        Scheduler scheduler;
        Denoiser denoiser;
        long nanos;

        Run(Factor factor, FactorBranch.Value value) {
            this.factor = factor;
            this.value = value;
        }

        boolean sampled() { return denoiser != null; }
    }

    public static FactorGraphResult run(FactorGraph graph, FactorGraphRequest request, FactorListener listener, BooleanSupplier cancelled) {
        return sample(graph, request, 1, listener, cancelled, FactorHooks.NONE).get(0);
    }

    /** {@link #run} with extra step hooks on the factors' chains (sequential sampling only: they see final parents). */
    public static FactorGraphResult run(FactorGraph graph, FactorGraphRequest request, FactorListener listener, BooleanSupplier cancelled,
                                        FactorHooks hooks) {
        if (hooks != FactorHooks.NONE && request.mode() != FactorGraphRequest.Mode.SEQUENTIAL) {
            throw new IllegalArgumentException("factor hooks need sequential sampling: in joint sampling no parent is final while a child steps");
        }
        return sample(graph, request, 1, listener, cancelled, hooks).get(0);
    }

    /**
     * {@code count} runs of the request with seeds {@code seed, seed + 1, ...} in one batch: every UNet call
     * denoises all of them (cheap on small latents, where a call's cost is mostly per-call overhead, e.g. SBPC's
     * candidates). Each element gets the noise its seed gives a single run ({@link Rng#perSample}), so the results
     * are those of {@code count} calls of {@link #run} up to floating-point rounding of the batched kernels. Condition
     * factors only: a ControlNet factor in the batch must be switched off or given. Given values are shared by all.
     */
    public static List<FactorGraphResult> runBatch(FactorGraph graph, FactorGraphRequest request, int count, FactorListener listener,
                                                   BooleanSupplier cancelled) {
        if (count < 1) throw new IllegalArgumentException("a batch needs at least one run, got " + count);
        if (count > 1) {
            for (Factor f : graph.factors()) {
                if (f.conditioning() instanceof FactorConditioning.ControlNetOnMaps && !request.switchedOff().contains(f.name())
                        && !request.given().containsKey(f.name())) {
                    throw new IllegalArgumentException("batched sampling draws condition factors only; switch off or give the ControlNet factor '"
                            + f.name() + "' and run it per sample");
                }
            }
        }
        return sample(graph, request, count, listener, cancelled, FactorHooks.NONE);
    }

    private static List<FactorGraphResult> sample(FactorGraph graph, FactorGraphRequest request, int count, FactorListener listener,
                                                  BooleanSupplier cancelled, FactorHooks hooks) {
        FactorListener observer = listener != null ? listener : FactorListener.NONE;
        for (String name : request.switchedOff()) graph.indexOf(name);
        for (String name : request.given().keySet()) graph.indexOf(name);
        StableDiffusion sd = graph.sd;
        Map<String, Run> runs = new LinkedHashMap<>();
        Map<String, PromptConditioning> texts = new HashMap<>();
        for (Factor f : graph.factors()) {
            if (request.switchedOff().contains(f.name())) continue;
            FactorGraphRequest.Given given = request.given().get(f.name());
            if (given != null) {
                Tensor latents = given.latents() != null ? given.latents() : encodeMean(sd, given.image());
                Tensor image = given.image();
                if (count > 1) {   // shared by every run of the batch
                    latents = Tensors.repeatBatch(latents, count, "a start latent");
                    if (image != null) image = Tensors.repeatBatch(image, count, "an image");
                }
                runs.put(f.name(), new Run(f, new FactorBranch.Value(Scopes.keep(latents), image)));
                continue;
            }
            FactorSettings s = f.settings();
            long[] seeds = new long[count];
            for (int k = 0; k < count; k++) seeds[k] = graph.factorSeed(f.name(), request.seed() + k);
            Rng rng = Rng.perSample(seeds);
            Scheduler scheduler = sd.scheduler(s.scheduler(), s.eta()).create(s.steps(), rng);
            Tensor zT = rng.randn(sd.device(), ScalarType.Float, count, sd.latentChannels(), s.height() / sd.vaeScaleFactor(),
                    s.width() / sd.vaeScaleFactor()).mul(new Scalar(scheduler.initNoiseSigma()));
            Run run = new Run(f, new FactorBranch.Value(Scopes.keep(zT), null));
            run.scheduler = scheduler;
            PromptConditioning text = texts.computeIfAbsent(request.prompt() + s.promptSuffix() + "\u0000" + s.negativePrompt(),
                    k -> sd.encodePrompt(request.prompt() + s.promptSuffix(), s.negativePrompt(), 0).repeat(count));
            FactorBranch branch = new FactorBranch(graph, f, () -> parentValues(f, runs), observer);
            run.denoiser = s.guidesMaps() && !f.parents().isEmpty() ? withMapGuidance(graph, f, text, branch)
                    : new ClassifierFreeGuidance(f.unet(sd.unet), text, s.guidanceScale(), null, List.of(branch));
            runs.put(f.name(), run);
        }
        if (request.mode() == FactorGraphRequest.Mode.SEQUENTIAL) sequential(graph, runs, observer, cancelled, hooks);
        else joint(runs, observer, cancelled);

        List<FactorGraphResult> results = new ArrayList<>(count);
        for (int k = 0; k < count; k++) {
            Map<String, Tensor> latents = new LinkedHashMap<>(), images = new LinkedHashMap<>();
            Map<String, Long> millis = new LinkedHashMap<>();
            for (Run r : runs.values()) {
                latents.put(r.factor.name(), element(r.value.latents, k, count));
                if (r.value.image != null) images.put(r.factor.name(), element(r.value.image, k, count));
                if (r.sampled()) millis.put(r.factor.name(), r.nanos / 1_000_000 / count);   // a batch's time, shared evenly
            }
            results.add(new FactorGraphResult(graph, request.mode(), latents, images, millis));
        }
        return results;
    }

    /** Element k of a batch as its own (1, ...) tensor; the batch itself when there is one element. */
    private static Tensor element(Tensor batch, int k, int count) {
        return count == 1 ? batch : Scopes.keep(batch.narrow(0, k, 1));
    }

    /** Each factor's whole chain in the engine's loop, parents first; children see the parents' final latents. */
    private static void sequential(FactorGraph graph, Map<String, Run> runs, FactorListener listener, BooleanSupplier cancelled,
                                   FactorHooks hooks) {
        for (Run r : runs.values()) {
            if (!r.sampled()) continue;
            long start = System.nanoTime();
            List<StepHook> all = new ArrayList<>(hooks.create(r.factor, r.scheduler, name -> parentMap(graph, r.factor, name, runs)));
            StepHook report = new StepHook() {
                @Override public Tensor afterStep(Tensor latents, Tensor predictedX0, Step step) {
                    listener.stepped(r.factor, step, latents, predictedX0);
                    return latents;
                }
            };
            all.add(report);
            r.value.advance(DenoisingLoop.run(r.value.latents, r.scheduler, 0, r.denoiser, all, cancelled));
            r.nanos += System.nanoTime() - start;
        }
    }

    /** Eqs. 4-6: per step, every factor in graph order; a child's branch reads its parents' z_{t-1} of this step. */
    private static void joint(Map<String, Run> runs, FactorListener listener, BooleanSupplier cancelled) {
        List<Run> sampled = new ArrayList<>();
        for (Run r : runs.values()) if (r.sampled()) sampled.add(r);
        if (sampled.isEmpty()) return;
        int n = sampled.get(0).scheduler.timesteps().length;
        for (Run r : sampled) {
            if (r.scheduler.timesteps().length != n) {
                throw new IllegalArgumentException("joint sampling steps all factors together: factor '" + r.factor.name() + "' has "
                        + r.scheduler.timesteps().length + " steps, factor '" + sampled.get(0).factor.name() + "' " + n);
            }
        }
        for (int i = 0; i < n; i++) {
            if (cancelled != null && cancelled.getAsBoolean()) throw new StepHook.Cancelled("cancelled before step " + i);
            try (PointerScope scope = new PointerScope()) {
                for (Run r : sampled) {
                    long start = System.nanoTime();
                    Step step = new Step(i, r.scheduler.timesteps()[i], n, 0);
                    Tensor zt = r.value.latents;
                    Tensor eps = r.denoiser.predict(r.scheduler.scaleModelInput(zt, i), step);   // ε_θ(z_t, parents' z_{t-1}, t)
                    Scheduler.StepOutput out = r.scheduler.step(eps, i, zt);                      // z_{t-1} = f(z_t, ε)
                    listener.stepped(r.factor, step, out.prevSample(), out.predOriginalSample());
                    r.value.advance(Scopes.keep(out.prevSample()));
                    r.nanos += System.nanoTime() - start;
                }
            }
        }
    }

    /**
     * {@link DualGuidance} with the factor's parents as the condition: the third prediction, ε(z, ∅, ∅), sees the null
     * text and the null parents (zero latents, black hints), what the factors' condition dropout trained them on.
     * The text guidance computes both halves at any scale: DualGuidance weighs them itself.
     */
    private static Denoiser withMapGuidance(FactorGraph graph, Factor f, PromptConditioning text, FactorBranch branch) {
        ClassifierFreeGuidance guided = ClassifierFreeGuidance.withBothHalves(f.unet(graph.sd.unet), text, f.settings().guidanceScale(), null, List.of(branch));
        List<FactorBranch.Value> nullParents = java.util.Collections.nCopies(f.parents().size(), null);
        FactorBranch nullBranch = new FactorBranch(graph, f, () -> nullParents, FactorListener.NONE);
        PromptConditioning nullText = new PromptConditioning(text.uncond(), text.uncond(), text.encoding());
        Denoiser none = new ClassifierFreeGuidance(f.unet(graph.sd.unet), nullText, 1.0, null, List.of(nullBranch));
        return new DualGuidance(guided, none, f.settings().mapGuidance());
    }

    /** A parent's map for a factor's hooks: as given, or decoded from its final latents. */
    private static Tensor parentMap(FactorGraph graph, Factor f, String parent, Map<String, Run> runs) {
        if (!f.parents().contains(parent)) throw new IllegalArgumentException("factor '" + parent + "' is not a parent of '" + f.name() + "'");
        Run r = runs.get(parent);
        if (r == null) throw new IllegalArgumentException("parent '" + parent + "' of '" + f.name() + "' is switched off: it has no map");
        return r.value.image != null ? r.value.image : graph.decode(parent, r.value.latents);
    }

    private static List<FactorBranch.Value> parentValues(Factor f, Map<String, Run> runs) {
        List<FactorBranch.Value> out = new ArrayList<>(f.parents().size());
        for (String p : f.parents()) {
            Run r = runs.get(p);
            out.add(r == null ? null : r.value);
        }
        return out;
    }

    /** The VAE posterior mean of a map in [-1, 1], scaled as the UNet's latents (brief: the mean at inference). */
    public static Tensor encodeMean(StableDiffusion sd, Tensor image) {
        Tensor x = Dtypes.to(image, sd.device(), sd.vae.dtype());
        Tensor mean = sd.vae.encode(x).mean();
        return Dtypes.to(mean, image.device(), ScalarType.Float).mul(new Scalar(sd.vae.config().scalingFactor()));
    }
}
