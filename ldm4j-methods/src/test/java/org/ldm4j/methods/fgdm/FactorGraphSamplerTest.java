package org.ldm4j.methods.fgdm;

import org.bytedeco.pytorch.InferenceMode;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch;
import org.bytedeco.pytorch.global.torch.ScalarType;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.ldm4j.models.controlnet.ControlNetModel;
import org.ldm4j.nn.Dtypes;
import org.ldm4j.nn.Engine;
import org.ldm4j.nn.Scopes;
import org.ldm4j.pipeline.GenerationRequest;
import org.ldm4j.pipeline.ModelLoader;
import org.ldm4j.pipeline.StableDiffusion;
import org.ldm4j.pipeline.Step;
import org.ldm4j.pipeline.StepHook;
import org.ldm4j.pipeline.TinyControl;
import org.ldm4j.pipeline.TinyStableDiffusion;
import org.ldm4j.pipeline.Txt2Img;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

import static org.junit.jupiter.api.Assertions.*;

/**
 * A tiny random FG-DM on the tiny SD (16x16 images, latents 4x8x8): seg (root, TimeAdapter on its noisy latent) ->
 * depth (TimeAdapter on seg's latent) -> image (ControlNet on the decoded seg and depth maps).
 */
class FactorGraphSamplerTest {
    @TempDir static Path dir;
    static StableDiffusion sd;
    static FactorGraph graph;
    static final FactorSettings SETTINGS = new FactorSettings(16, 16, 3, 5.0, "ddim", 0, "", "");
    InferenceMode inference;

    @BeforeAll static void load() throws Exception { load(dir); }

    /** Loads the tiny SD written into {@code root} and builds the seg -> depth -> image graph on it. */
    static void load(Path root) throws Exception {
        Engine.threads(1);
        sd = ModelLoader.load(TinyStableDiffusion.write(root.resolve("tiny"), 0).toString(), Dtypes.device("cpu"), ScalarType.Float);
        graph = new FactorGraph(sd, List.of(
                Factor.root("seg", new FactorConditioning.NoisyLatentAdapter(TinyFgdm.timeAdapter(11), 1.0), SETTINGS),
                Factor.child("depth", List.of("seg"), new FactorConditioning.ParentLatentAdapter(TinyFgdm.timeAdapter(12), 1.0), SETTINGS),
                Factor.image("image", List.of("seg", "depth"), new FactorConditioning.ControlNetOnMaps(controlNet(13, 6), 1.0,
                        List.of(HintRenderer.segmentation(MapEditsTest.PALETTE, 63), HintRenderer.continuous())), SETTINGS)));
    }

    @BeforeEach void inference() { inference = new InferenceMode(); }

    @AfterEach void close() { inference.close(); }

    /** A ControlNet from the tiny SD's UNet, not a no-op. */
    static ControlNetModel controlNet(long seed, int hintChannels) { return TinyFgdm.controlNet(sd.unet, seed, hintChannels); }

    static FactorGraphResult run(FactorGraph g, FactorGraphRequest request, FactorListener listener) {
        return FactorGraphSampler.run(g, request, listener, null);
    }

    static FactorGraphRequest request(FactorGraphRequest.Mode mode, long seed) { return FactorGraphRequest.of("a red house", seed, mode); }

    static void assertSame(Tensor a, Tensor b, String what) { assertTrue(torch.equal(a, b), what); }

    @Test void bothModesGiveEveryFactorItsShapeAndAreDeterministicBySeed() {
        for (FactorGraphRequest.Mode mode : FactorGraphRequest.Mode.values()) {
            FactorGraphResult a = run(graph, request(mode, 7), null), b = run(graph, request(mode, 7), null), c = run(graph, request(mode, 8), null);
            assertEquals(List.of("seg", "depth", "image"), List.copyOf(a.factors()));
            for (String f : a.factors()) {
                assertArrayEquals(new long[]{1, 4, 8, 8}, a.latents(f).sizes().vec().get(), f);
                assertSame(a.latents(f), b.latents(f), mode + " " + f + " reproduces with the seed");
                assertFalse(torch.equal(a.latents(f), c.latents(f)), mode + " " + f + " changes with the seed");
            }
            assertArrayEquals(new long[]{1, 3, 16, 16}, a.decoded("image").sizes().vec().get());
            assertEquals(Set.of("seg", "depth", "image"), a.millis().keySet());
        }
    }

    @Test void theRootIsTheSameInBothModesButItsChildrenAreNot() {
        FactorGraphResult seq = run(graph, request(FactorGraphRequest.Mode.SEQUENTIAL, 3), null);
        FactorGraphResult joint = run(graph, request(FactorGraphRequest.Mode.JOINT, 3), null);
        assertSame(seq.latents("seg"), joint.latents("seg"), "the root sees only its own noisy latent");
        assertFalse(torch.equal(seq.latents("depth"), joint.latents("depth")), "joint: depth saw seg's intermediate latents");
    }

    @Test void aTextOnlyRootFactorIsTxt2Img() {
        FactorGraph plain = new FactorGraph(sd, List.of(Factor.root("x", null, SETTINGS)));
        List<Tensor> enginePredictions = new ArrayList<>();
        StepHook recorder = new StepHook() {
            @Override public Tensor afterStep(Tensor latents, Tensor predictedX0, Step step) {
                enginePredictions.add(Scopes.keep(predictedX0.clone()));
                return latents;
            }
        };
        Tensor engine = Txt2Img.run(sd, new GenerationRequest("txt2img", "tiny", "a red house", "", 16, 16, 3, 5.0, "ddim", 5, 1, 0, 0, null, null),
                List.of(recorder), null).get(0);
        for (FactorGraphRequest.Mode mode : FactorGraphRequest.Mode.values()) {
            List<Tensor> predictions = new ArrayList<>();
            FactorListener listener = new FactorListener() {
                @Override public void stepped(Factor factor, Step step, Tensor latents, Tensor predictedX0) {
                    predictions.add(Scopes.keep(predictedX0.clone()));
                }
            };
            Tensor ours = run(plain, request(mode, 5), listener).decoded("x");
            assertSame(engine, ours, mode + ": factor 0 with seed s is txt2img with seed s");
            assertEquals(3, predictions.size());
            for (int i = 0; i < 3; i++) assertSame(enginePredictions.get(i), predictions.get(i), mode + " step " + i + ": the scheduler's predicted x0");
        }
        assertFalse(torch.equal(enginePredictions.get(0), enginePredictions.get(2)), "the estimate changes over the steps");
    }

    @Test void aChildSeesItsParentsLatentOfTheSameStepWhenJointAndTheFinalOneWhenSequential() {
        for (FactorGraphRequest.Mode mode : FactorGraphRequest.Mode.values()) {
            Map<String, List<Tensor>> stepped = new HashMap<>();
            List<Tensor> depthSawSeg = new ArrayList<>(), imageSawDepth = new ArrayList<>();
            FactorListener recorder = new FactorListener() {
                @Override public void conditioned(Factor factor, Step step, List<Tensor> parents) {
                    if (factor.name().equals("depth")) depthSawSeg.add(Scopes.keep(parents.get(0).clone()));
                    if (factor.name().equals("image")) imageSawDepth.add(Scopes.keep(parents.get(1).clone()));
                }

                @Override public void stepped(Factor factor, Step step, Tensor latents, Tensor predictedX0) {
                    stepped.computeIfAbsent(factor.name(), k -> new ArrayList<>()).add(Scopes.keep(latents.clone()));
                }
            };
            FactorGraphResult r = run(graph, request(mode, 4), recorder);
            assertEquals(3, depthSawSeg.size(), "one conditioning per step");
            for (int i = 0; i < 3; i++) {
                if (mode == FactorGraphRequest.Mode.JOINT) {
                    assertSame(stepped.get("seg").get(i), depthSawSeg.get(i), "joint step " + i + ": seg's z_{t-1} of this step");
                    assertSame(stepped.get("depth").get(i), imageSawDepth.get(i), "joint step " + i + ": depth's z_{t-1} of this step");
                } else {
                    assertSame(r.latents("seg"), depthSawSeg.get(i), "sequential step " + i + ": seg's final latent");
                    assertSame(r.latents("depth"), imageSawDepth.get(i), "sequential step " + i + ": depth's final latent");
                }
            }
            if (mode == FactorGraphRequest.Mode.JOINT) assertFalse(torch.equal(depthSawSeg.get(0), depthSawSeg.get(2)));
        }
    }

    @Test void switchingAFactorOffIsRunningWithoutItAndGivesItsChildrenTheNullCondition() {
        FactorGraph noImage = new FactorGraph(sd, graph.factors().subList(0, 2));
        for (FactorGraphRequest.Mode mode : FactorGraphRequest.Mode.values()) {
            FactorGraphResult off = run(graph, request(mode, 6).withSwitchedOff(Set.of("image")), null);
            FactorGraphResult without = run(noImage, request(mode, 6), null);
            assertEquals(Set.of("seg", "depth"), off.factors());
            for (String f : List.of("seg", "depth")) assertSame(without.latents(f), off.latents(f), mode + " " + f);

            // seg off: depth gets zeros, exactly as if seg's latent were given as zeros
            List<Tensor> seen = new ArrayList<>();
            FactorListener rec = new FactorListener() {
                @Override public void conditioned(Factor factor, Step step, List<Tensor> parents) {
                    if (factor.name().equals("depth")) seen.add(parents.get(0));
                }
            };
            FactorGraphResult segOff = run(graph, request(mode, 6).withSwitchedOff(Set.of("seg")), rec);
            assertTrue(seen.stream().allMatch(t -> t == null), "the listener is told seg is off");
            FactorGraphResult zeros = run(graph, request(mode, 6).withSwitchedOff(Set.of("image"))
                    .withGiven(Map.of("seg", new FactorGraphRequest.Given(torch.zeros(1, 4, 8, 8), null))), null);
            assertSame(zeros.latents("depth"), segOff.latents("depth"), mode + ": null condition = zero latent");
            assertFalse(torch.equal(off.latents("depth"), segOff.latents("depth")));
        }
    }

    /**
     * The image factor's conditioning scale: at 0 its ControlNet adds nothing (the image is the text-only UNet's from
     * the same noise), at the graph's own scale nothing changes, at another scale the image does; the maps never move.
     */
    @Test void theImageFactorsConditioningScaleScalesItsControlNetAlone() {
        FactorGraphRequest req = request(FactorGraphRequest.Mode.SEQUENTIAL, 5);
        FactorGraphResult asLoaded = run(graph, req, null);
        assertSame(asLoaded.latents("image"), run(graph.withConditioningScale("image", 1.0), req, null).latents("image"), "the graph's own scale");
        FactorGraphResult zero = run(graph.withConditioningScale("image", 0.0), req, null);
        FactorGraph textOnly = new FactorGraph(sd, List.of(graph.factors().get(0), graph.factors().get(1),
                Factor.image("image", List.of("seg", "depth"), new FactorConditioning.TextOnly(), SETTINGS)));
        assertSame(run(textOnly, req, null).latents("image"), zero.latents("image"), "scale 0: no residuals");
        FactorGraphResult doubled = run(graph.withConditioningScale("image", 2.0), req, null);
        assertFalse(torch.equal(asLoaded.latents("image"), doubled.latents("image")));
        for (String f : List.of("seg", "depth")) assertSame(asLoaded.latents(f), doubled.latents(f), f + " is not the image factor's");
        var e = assertThrows(IllegalArgumentException.class, () -> textOnly.withConditioningScale("image", 2.0));
        assertTrue(e.getMessage().contains("factor 'image'") && e.getMessage().contains("text-only"), e.getMessage());
    }

    @Test void aGivenMapIsUsedInsteadOfSampled() {
        ClassMap edited = MapEdits.add(MapEditsTest.skyAndGrass(), Shapes.rectangle(16, 16, 4, 4, 9, 9), MapEditsTest.HOUSE);
        Tensor map = SegmentationMaps.toImageTensor(edited, MapEditsTest.PALETTE);
        FactorGraphRequest req = request(FactorGraphRequest.Mode.SEQUENTIAL, 2).withSwitchedOff(Set.of("depth"))
                .withGiven(Map.of("seg", new FactorGraphRequest.Given(null, map)));
        FactorGraphResult r = run(graph, req, null);
        assertEquals(Set.of("image"), r.millis().keySet(), "only the image factor was sampled");
        assertSame(map, r.decoded("seg"), "the given map is the seg value");
        assertArrayEquals(new long[]{1, 4, 8, 8}, r.latents("seg").sizes().vec().get(), "encoded with the VAE");
        FactorGraphResult other = run(graph, req.withGiven(Map.of("seg", new FactorGraphRequest.Given(null,
                SegmentationMaps.toImageTensor(MapEditsTest.skyAndGrass(), MapEditsTest.PALETTE)))), null);
        assertFalse(torch.equal(r.latents("image"), other.latents("image")), "the image factor follows the map");
    }

    @Test void badGraphsAndRequestsAreClearErrors() {
        FactorConditioning.ParentLatentAdapter a = new FactorConditioning.ParentLatentAdapter(TinyFgdm.timeAdapter(1), 1.0);
        var e = assertThrows(IllegalArgumentException.class, () -> new FactorGraph(sd, List.of(Factor.child("depth", List.of("seg"), a, SETTINGS))));
        assertTrue(e.getMessage().contains("names parent 'seg', which is not declared before it"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> new FactorGraph(sd, List.of(graph.factor("seg"),
                Factor.image("img", List.of("seg"), new FactorConditioning.TextOnly(), SETTINGS), Factor.child("late", List.of("img"), a, SETTINGS))));
        assertTrue(e.getMessage().contains("cannot be another factor's parent"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> run(graph, request(FactorGraphRequest.Mode.JOINT, 1).withSwitchedOff(Set.of("sketch")), null));
        assertTrue(e.getMessage().contains("no factor named 'sketch'"), e.getMessage());
        FactorGraph uneven = graph.withSettings("depth", SETTINGS.withSteps(4));
        e = assertThrows(IllegalArgumentException.class, () -> run(uneven, request(FactorGraphRequest.Mode.JOINT, 1), null));
        assertTrue(e.getMessage().contains("factor 'depth' has 4 steps, factor 'seg' 3"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> new FactorGraph(sd, List.of(Factor.root("odd", null, SETTINGS.withSize(15, 16)))));
        assertTrue(e.getMessage().contains("multiple of the VAE factor 2"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> Factor.image("img", List.of("seg"),
                new FactorConditioning.ControlNetOnMaps(controlNet(1, 3), 1.0, List.of()), SETTINGS));
        assertTrue(e.getMessage().contains("1 parents but 0 hint renderers"), e.getMessage());
    }

    /**
     * Text edits of a map ({@link MapTextEdit}): a root factor's map, inverted and regenerated under its own caption at
     * guidance 1, comes back near itself (far nearer than another sample); another caption changes it; a child factor
     * (whose map also depends on its parents) and empty captions are refused.
     */
    @Test void textEditsInvertTheRootFactorAndRegenerateUnderTheEditedCaption() {
        FactorGraphResult r = run(graph, request(FactorGraphRequest.Mode.SEQUENTIAL, 3), null);
        Tensor map = r.latents("seg"), other = run(graph, request(FactorGraphRequest.Mode.SEQUENTIAL, 4), null).latents("seg");
        MapTextEdit edit = new MapTextEdit(20, 1.0);
        Tensor same = edit.run(graph, "seg", map, "a red house", "a red house", null);
        Tensor changed = edit.run(graph, "seg", map, "a red house", "a blue boat on a lake", null);
        double back = same.sub(map).norm().item_double(), apart = other.sub(map).norm().item_double();
        assertTrue(back < 0.25 * apart, "round trip " + back + " vs another sample " + apart);
        assertTrue(changed.sub(map).norm().item_double() > back, "the edited caption changes the map more than the round trip");
        assertArrayEquals(map.sizes().vec().get(), changed.sizes().vec().get());
        IllegalArgumentException child = assertThrows(IllegalArgumentException.class,
                () -> edit.run(graph, "depth", r.latents("depth"), "a red house", "a blue boat", null));
        assertTrue(child.getMessage().contains("root"), child.getMessage());
        assertThrows(IllegalArgumentException.class, () -> edit.run(graph, "seg", map, "a red house", " ", null));
        assertThrows(IllegalArgumentException.class, () -> new MapTextEdit(0, 1.0));
        assertThrows(IllegalArgumentException.class, () -> new MapTextEdit(10, 0.5));
        for (MapTextEdit.Inversion i : MapTextEdit.Inversion.values()) assertEquals(i, MapTextEdit.Inversion.parse(i.id().toUpperCase()));
        assertEquals("edit-friendly", MapTextEdit.Inversion.EDIT_FRIENDLY.id());
        IllegalArgumentException how = assertThrows(IllegalArgumentException.class, () -> MapTextEdit.Inversion.parse("ddpm"));
        assertEquals("inversion must be edit-friendly or ddim, got 'ddpm'", how.getMessage());

        // edit-friendly inversion: the unchanged caption gives the map back exactly, at the factor's guidance too
        MapTextEdit friendly = new MapTextEdit(20, 5.0, MapTextEdit.Inversion.EDIT_FRIENDLY);
        Tensor exact = friendly.run(graph, "seg", map, "a red house", "a red house", null);
        assertTrue(exact.sub(map).norm().item_double() < 1e-4 * map.norm().item_double(), "edit-friendly round trip");
        assertTrue(friendly.run(graph, "seg", map, "a red house", "a blue boat on a lake", null).sub(map).norm().item_double()
                > 1e-2 * map.norm().item_double(), "an edited caption changes the map");
    }

    /**
     * LEDITS++'s semantic edit: the map regenerated as inverted, plus masked guidance per concept; nothing to add or
     * remove gives the map back exactly; a concept changes it, most where its guidance is strongest.
     */
    @Test void semanticTextEditsGiveTheMapBackWithoutConceptsAndChangeItWithOne() {
        FactorGraphResult r = run(graph, request(FactorGraphRequest.Mode.SEQUENTIAL, 3), null);
        Tensor map = r.latents("seg");
        MapTextEdit semantic = new MapTextEdit(20, 5.0, MapTextEdit.Inversion.EDIT_FRIENDLY, MapTextEdit.Semantic.LEDITS_DEFAULTS);
        Tensor none = semantic.runSemantic(graph, "seg", map, "a red house", List.of(), List.of(), null);
        assertTrue(none.sub(map).norm().item_double() < 1e-4 * map.norm().item_double(), "no concept: the exact round trip");
        Tensor added = semantic.runSemantic(graph, "seg", map, "a red house", List.of("boat"), List.of("house"), null);
        assertTrue(added.sub(map).norm().item_double() > 1e-3 * map.norm().item_double(), "the concepts change the map");
        assertArrayEquals(map.sizes().vec().get(), added.sizes().vec().get());

        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> new MapTextEdit(20, 5.0, MapTextEdit.Inversion.DDIM, MapTextEdit.Semantic.LEDITS_DEFAULTS));
        assertTrue(e.getMessage().contains("edit-friendly"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> semantic.run(graph, "seg", map, "a red house", "a boat", null));
        assertTrue(e.getMessage().contains("runSemantic"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> semantic.edit(graph, "seg", ClassMap.filled(16, 16, 0), MapEditsTest.PALETTE, 63,
                "a red house", "a big red house", null));
        assertTrue(e.getMessage().contains("name the same objects"), e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> new MapTextEdit.Semantic(0, 0.9));
        assertThrows(IllegalArgumentException.class, () -> new MapTextEdit.Semantic(5, 1.0));
        assertThrows(IllegalStateException.class, () -> new MapTextEdit(20, 5.0, MapTextEdit.Inversion.EDIT_FRIENDLY)
                .runSemantic(graph, "seg", map, "a red house", List.of("boat"), List.of(), null));
    }
}
