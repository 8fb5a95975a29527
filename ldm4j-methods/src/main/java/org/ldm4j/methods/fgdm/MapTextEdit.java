package org.ldm4j.methods.fgdm;

import org.bytedeco.pytorch.Tensor;
import org.ldm4j.nn.Rng;
import org.ldm4j.pipeline.ClassifierFreeGuidance;
import org.ldm4j.pipeline.DdimInversion;
import org.ldm4j.pipeline.DenoisingLoop;
import org.ldm4j.pipeline.EditFriendlyInversion;
import org.ldm4j.pipeline.Denoiser;
import org.ldm4j.pipeline.PromptConditioning;
import org.ldm4j.pipeline.SemanticGuidance;
import org.ldm4j.models.attention.AttentionMaps;
import org.ldm4j.models.unet.UNetExtras;
import org.ldm4j.pipeline.StableDiffusion;
import org.ldm4j.schedulers.DDIMScheduler;

import java.util.List;
import java.util.function.BooleanSupplier;

/**
 * Editing a generated map by text (the paper edits its maps with LEDITS++; this is the plain variant the issue asks
 * for first): the map's latent is DDIM-inverted through its factor under the caption it was drawn from, then the
 * factor denoises the inverted latent again under the edited caption. What the two captions share keeps its layout
 * (the inverted noise encodes it); what the edit names changes. Root factors only (the segmentation): a child's map
 * also depends on its parents, which a text edit of the child would leave inconsistent.
 *
 * @param steps     DDIM steps of the inversion and of the regeneration (the same schedule both ways)
 * @param guidance  text guidance of the regeneration. DDIM inversion runs at 1 (the conditional prediction), where it
 *                  is most faithful: at 1 an unchanged caption gives the map back up to the inversion error, higher
 *                  values follow the edit more and the original less. Edit-friendly inversion runs at this guidance
 *                  and gives an unchanged caption's map back exactly at any guidance
 * @param inversion how the map's latent is inverted
 * @param semantic  null: regenerate under the edited caption (re-prompting); else LEDITS++'s semantic guidance
 *                  (edit-friendly inversion only): the map regenerated under its own caption, exactly as inverted, plus
 *                  guidance toward each object the edited caption adds and away from each it drops
 *                  ({@link SemanticGuidance}), each where its guidance is strongest
 */
public record MapTextEdit(int steps, double guidance, Inversion inversion, Semantic semantic) {
    /**
     * LEDITS++'s edit guidance scale (default 5) and threshold (default 0.9) for every concept; {@code crossAttention}:
     * intersect each concept's noise-estimate mask with its cross-attention mask (LEDITS++'s use_intersect_mask).
     */
    public record Semantic(double scale, double threshold, boolean crossAttention) {
        public static final Semantic LEDITS_DEFAULTS = new Semantic(5.0, 0.9);

        public Semantic(double scale, double threshold) { this(scale, threshold, false); }

        public Semantic {
            if (!(scale > 0) || !Double.isFinite(scale)) throw new IllegalArgumentException("semantic edit scale must be > 0, got " + scale);
            if (!(threshold >= 0 && threshold < 1)) throw new IllegalArgumentException("semantic edit threshold must be in [0, 1), got " + threshold);
        }
    }

    public enum Inversion {
        /** Deterministic DDIM inversion ({@link DdimInversion}): one noise map z_T. */
        DDIM,
        /** Edit-friendly DDPM inversion ({@link EditFriendlyInversion}, the one LEDITS++ uses): a noise per step. */
        EDIT_FRIENDLY;

        /** The name the CLI and the studio use: "ddim" or "edit-friendly". */
        public String id() { return name().toLowerCase(java.util.Locale.ROOT).replace('_', '-'); }

        /** The inversion named {@code id} (any case); an IllegalArgumentException naming both for anything else. */
        public static Inversion parse(String id) {
            for (Inversion i : values()) if (i.id().equalsIgnoreCase(id)) return i;
            throw new IllegalArgumentException("inversion must be edit-friendly or ddim, got '" + id + "'");
        }
    }

    public MapTextEdit {
        if (steps < 1 || steps > 1000) throw new IllegalArgumentException("steps must be in 1..1000, got " + steps);
        if (!(guidance >= 1) || !Double.isFinite(guidance)) throw new IllegalArgumentException("guidance must be >= 1, got " + guidance);
        if (inversion == null) throw new IllegalArgumentException("inversion is missing (ddim or edit-friendly)");
        if (semantic != null && inversion != Inversion.EDIT_FRIENDLY) {
            throw new IllegalArgumentException("semantic edits regenerate with the inversion's own noise: they need edit-friendly inversion");
        }
    }

    public MapTextEdit(int steps, double guidance, Inversion inversion) { this(steps, guidance, inversion, null); }

    public MapTextEdit(int steps, double guidance) { this(steps, guidance, Inversion.DDIM); }

    /**
     * @param mapLatents the factor's latents (1, C, h, w) at the UNet's scale, e.g. {@link FactorGraphSampler#encodeMean}
     *                   of a map image at the factor's size
     * @return the edited latents, same shape; decode with {@link FactorGraph#decode}
     */
    public Tensor run(FactorGraph graph, String factorName, Tensor mapLatents, String sourcePrompt, String targetPrompt,
                      BooleanSupplier cancelled) {
        if (semantic != null) {
            throw new IllegalArgumentException("a semantic edit names the objects to add and remove: call runSemantic (or edit, which reads them from the captions)");
        }
        Factor factor = rootFactor(graph, factorName);
        if (sourcePrompt == null || sourcePrompt.isBlank() || targetPrompt == null || targetPrompt.isBlank()) {
            throw new IllegalArgumentException("a text edit needs the map's caption and the edited caption");
        }
        StableDiffusion sd = graph.sd;
        FactorSettings s = factor.settings();
        DDIMScheduler ddim = (DDIMScheduler) sd.scheduler("ddim", 0).create(steps, new Rng(0));
        Denoiser target = denoiser(graph, factor, targetPrompt + s.promptSuffix(), guidance);
        if (inversion == Inversion.EDIT_FRIENDLY) {
            Denoiser source = denoiser(graph, factor, sourcePrompt + s.promptSuffix(), guidance);
            return EditFriendlyInversion.invert(mapLatents, ddim, source, new Rng(0), cancelled).sample(ddim, target, cancelled);
        }
        Tensor zT = DdimInversion.invert(mapLatents, ddim, denoiser(graph, factor, sourcePrompt + s.promptSuffix(), 1.0), cancelled);
        return DenoisingLoop.run(zT, ddim, 0, target, List.of(), cancelled);
    }

    /**
     * The semantic edit ({@link #semantic}): the latent inverted (edit-friendly) under {@code sourcePrompt} and
     * regenerated with the same denoiser plus LEDITS++ guidance toward each phrase of {@code add} and away from each of
     * {@code remove} (each phrase with the factor's prompt suffix). With nothing to add or remove it gives the map back.
     */
    public Tensor runSemantic(FactorGraph graph, String factorName, Tensor mapLatents, String sourcePrompt, List<String> add,
                              List<String> remove, BooleanSupplier cancelled) {
        if (semantic == null) throw new IllegalStateException("this edit re-prompts; build it with a Semantic to guide by concepts");
        Factor factor = rootFactor(graph, factorName);
        if (sourcePrompt == null || sourcePrompt.isBlank()) throw new IllegalArgumentException("a text edit needs the map's caption");
        FactorSettings s = factor.settings();
        DDIMScheduler ddim = (DDIMScheduler) graph.sd.scheduler("ddim", 0).create(steps, new Rng(0));
        Denoiser source = denoiser(graph, factor, sourcePrompt + s.promptSuffix(), guidance);
        List<SemanticGuidance.Concept> concepts = new java.util.ArrayList<>();
        for (String phrase : add) concepts.add(concept(graph, factor, phrase, false));
        for (String phrase : remove) concepts.add(concept(graph, factor, phrase, true));
        return EditFriendlyInversion.invert(mapLatents, ddim, source, new Rng(0), cancelled)
                .sample(ddim, new SemanticGuidance(source, concepts), cancelled);
    }

    private SemanticGuidance.Concept concept(FactorGraph graph, Factor factor, String phrase, boolean remove) {
        if (phrase == null || phrase.isBlank()) throw new IllegalArgumentException("an edit concept is empty");
        FactorSettings s = factor.settings();
        PromptConditioning text = text(graph, factor, phrase + s.promptSuffix());
        // with the cross-attention mask, the concept's own prediction records its cross-attention at the latent's
        // resolution, which the mask reads
        int h = s.height() / graph.sd.vaeScaleFactor(), w = s.width() / graph.sd.vaeScaleFactor();
        AttentionMaps maps = semantic.crossAttention()
                ? new AttentionMaps(site -> site.isCross() && site.height() == h && site.width() == w, false) : null;
        ClassifierFreeGuidance prediction = guidance(graph, factor, text, semantic.scale(), true,
                maps == null ? null : step -> UNetExtras.attention(maps));
        return new SemanticGuidance.Concept(prediction, semantic.scale(), remove, semantic.threshold(),
                maps == null ? null : new SemanticGuidance.CrossAttention(maps, 1, text.encoding().tokenCount()));
    }

    private static Factor rootFactor(FactorGraph graph, String factorName) {
        Factor factor = graph.factor(factorName);
        if (!factor.parents().isEmpty() || factor.role() == Factor.Role.IMAGE) {
            throw new IllegalArgumentException("text edits invert a root condition factor (its map depends on nothing else); '"
                    + factorName + "' has parents " + factor.parents());
        }
        return factor;
    }

    /** What a semantic edit guides toward ({@code add}) and away from ({@code remove}): class names. */
    public record Concepts(List<String> add, List<String> remove) {
        /**
         * The objects {@code target} names and {@code source} does not (to add), and the reverse (to remove), by the
         * palette's object classes; an IllegalArgumentException when the captions name the same objects.
         */
        public static Concepts between(String source, String target, Palette palette) {
            java.util.Set<Integer> before = ObjectRecall.namedIn(source, palette, true), after = ObjectRecall.namedIn(target, palette, true);
            List<String> add = new java.util.ArrayList<>(), remove = new java.util.ArrayList<>();
            for (int c : after) if (!before.contains(c)) add.add(palette.name(c));
            for (int c : before) if (!after.contains(c)) remove.add(palette.name(c));
            if (add.isEmpty() && remove.isEmpty()) {
                throw new IllegalArgumentException("the two captions name the same objects " + before.stream().map(palette::name).sorted().toList()
                        + ": a semantic edit adds or removes an object");
            }
            return new Concepts(List.copyOf(add), List.copyOf(remove));
        }
    }

    /** A class-map edit: the edited map and the round trip (the map encoded and decoded, no edit) it was compared with. */
    public record Edited(ClassMap map, ClassMap roundTrip) {
        /** The fraction of pixels that have the same class in {@code a} and {@code b} (maps of one size). */
        public static double sameFraction(ClassMap a, ClassMap b) {
            int same = 0;
            for (int i = 0; i < a.labels().length; i++) if (a.labels()[i] == b.labels()[i]) same++;
            return (double) same / a.labels().length;
        }
    }

    /** Refuses a map whose size is not the one factor {@code factorName} draws (callers check before queueing work). */
    public static void requireFactorSize(FactorGraph graph, String factorName, ClassMap map) {
        FactorSettings s = graph.factor(factorName).settings();
        if (map.width() != s.width() || map.height() != s.height()) {
            throw new IllegalArgumentException("the map is " + map.width() + "x" + map.height() + ", but factor '" + factorName + "' makes "
                    + s.width() + "x" + s.height() + " maps: edit a map the factor drew");
        }
    }

    /**
     * The whole edit on a class map, as the CLI and the studio run it: the map drawn in palette colours and encoded
     * (posterior mean), {@link #run} (or, for a semantic edit, {@link #runSemantic} on the objects the captions differ
     * in, {@link Concepts#between}), both latents decoded to classes with {@code tolerance}, and {@link #keepUnedited}.
     * The map must have the factor's size.
     */
    public Edited edit(FactorGraph graph, String factorName, ClassMap map, Palette palette, int tolerance, String sourcePrompt,
                       String targetPrompt, BooleanSupplier cancelled) {
        requireFactorSize(graph, factorName, map);
        Tensor latents = FactorGraphSampler.encodeMean(graph.sd, SegmentationMaps.toImageTensor(map, palette));
        Tensor edited;
        if (semantic == null) {
            edited = run(graph, factorName, latents, sourcePrompt, targetPrompt, cancelled);
        } else {
            Concepts concepts = Concepts.between(sourcePrompt, targetPrompt, palette);
            edited = runSemantic(graph, factorName, latents, sourcePrompt, concepts.add(), concepts.remove(), cancelled);
        }
        ClassMap roundTrip = SegmentationMaps.decode(graph.decode(factorName, latents), palette, tolerance);
        ClassMap after = keepUnedited(map, roundTrip, SegmentationMaps.decode(graph.decode(factorName, edited), palette, tolerance));
        return new Edited(after, roundTrip);
    }

    /**
     * The edited map's classes where the edit changed the decoded map, the original's elsewhere. Encoding a map and
     * decoding it again already moves class boundaries (on ToyWorld's 32x32 maps, 3 to 32 % of the pixels): comparing
     * the edit with that round trip, not with the original, keeps every pixel the edit did not touch.
     *
     * @param decodedOriginal the original map's latent decoded (the round trip without any edit)
     * @param decodedEdit     the edited latent decoded
     */
    public static ClassMap keepUnedited(ClassMap original, ClassMap decodedOriginal, ClassMap decodedEdit) {
        int n = original.labels().length;
        if (decodedOriginal.labels().length != n || decodedEdit.labels().length != n) {
            throw new IllegalArgumentException("the three maps must have the same size");
        }
        int[] out = new int[n];
        for (int i = 0; i < n; i++) {
            out[i] = decodedEdit.labels()[i] == decodedOriginal.labels()[i] ? original.labels()[i] : decodedEdit.labels()[i];
        }
        return new ClassMap(original.width(), original.height(), out);
    }

    private static Denoiser denoiser(FactorGraph graph, Factor factor, String prompt, double scale) {
        return guidance(graph, factor, text(graph, factor, prompt), scale, false, null);
    }

    /** {@code prompt}'s text states with the factor's negative prompt. */
    private static PromptConditioning text(FactorGraph graph, Factor factor, String prompt) {
        return graph.sd.encodePrompt(prompt, factor.settings().negativePrompt(), 0);
    }

    /** The factor's classifier-free guidance on {@code text} (its branch with no parents; {@code extras} may be null). */
    private static ClassifierFreeGuidance guidance(FactorGraph graph, Factor factor, PromptConditioning text, double scale, boolean bothHalves,
                                                   java.util.function.Function<org.ldm4j.pipeline.Step, UNetExtras> extras) {
        List<FactorBranch> branch = List.of(new FactorBranch(graph, factor, List::of, FactorListener.NONE));
        return bothHalves ? ClassifierFreeGuidance.withBothHalves(factor.unet(graph.sd.unet), text, scale, extras, branch)
                : new ClassifierFreeGuidance(factor.unet(graph.sd.unet), text, scale, extras, branch);
    }
}
