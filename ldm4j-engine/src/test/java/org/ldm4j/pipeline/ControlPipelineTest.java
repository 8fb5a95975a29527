package org.ldm4j.pipeline;

import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.InferenceMode;
import org.bytedeco.pytorch.Scalar;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.ldm4j.models.adapter.T2IAdapter;
import org.ldm4j.models.controlnet.ControlNetModel;
import org.ldm4j.models.unet.UNetExtras;
import org.ldm4j.nn.Engine;
import org.ldm4j.nn.Rng;

import java.awt.image.BufferedImage;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.*;

/** ControlNets and adapters driving the real pipelines on the tiny model. */
class ControlPipelineTest {
    @TempDir static Path dir;
    static StableDiffusion sd;
    static ControlNetModel net;
    static T2IAdapter adapter;
    static Tensor hint;

    @BeforeAll static void load() throws Exception {
        Engine.threads(1);
        sd = TinyStableDiffusion.load(dir.resolve("tiny"), 0);
        net = TinyControl.controlNet(sd.unet, 2);
        adapter = TinyControl.adapter(3);
        hint = new Rng(9).rand(1, 3, 16, 16);
    }

    static GenerationRequest request(int steps, int count, Double strength) {
        return new GenerationRequest(strength == null ? "txt2img" : "img2img", "tiny", "a red house", "", 16, 16, steps, 5.0,
                "ddim", 3, count, 0, 0, strength, null);
    }

    static Tensor txt2img(List<ControlSource> controls, int steps) {
        try (InferenceMode im = new InferenceMode()) {
            return Txt2Img.run(sd, request(steps, 1, null), controls, List.of(), null).get(0);
        }
    }

    @Test void aControlNetChangesTheImageAndAZeroOneDoesNot() {
        Tensor plain = txt2img(List.of(), 3);
        assertFalse(torch.equal(plain, txt2img(List.of(new ControlNetSource(net, hint, 1.0)), 3)));
        ControlNetModel zero = ControlNetModel.fromUnet(sd.unet, TinyControl.HINT_WIDTHS, 3);
        assertTrue(torch.equal(plain, txt2img(List.of(new ControlNetSource(zero, hint, 1.0)), 3)));
    }

    @Test void guidanceStartAndEndSwitchTheControlNetAtDiffusersSteps() {
        ControlNetSource source = new ControlNetSource(net, hint, 1.0, 0.2, 0.7, false);
        List<Integer> on = new ArrayList<>();
        for (int i = 0; i < 10; i++) if (source.active(new Step(i, 0, 10, 0))) on.add(i);
        assertEquals(List.of(2, 3, 4, 5, 6), on, "off while i/n < 0.2 or (i+1)/n > 0.7");
        txt2img(List.of(source), 10);
        assertEquals(5, source.runs(), "the ControlNet ran only on its steps");

        // img2img: the fractions count the steps this run executes (steps 5..9 of 10 at strength 0.5)
        ControlNetSource late = new ControlNetSource(net, hint, 1.0, 0.0, 0.6, false);
        try (InferenceMode im = new InferenceMode()) {
            Img2Img.run(sd, request(10, 1, 0.5), Images16.gray(), List.of(late), List.of(), null);
        }
        assertEquals(3, late.runs(), "3 of the 5 executed steps are within the first 60%");
    }

    @Test void twoHalfStrengthControlNetsEqualOneAtFullStrength() {
        try (PointerScope scope = new PointerScope(); InferenceMode im = new InferenceMode()) {
            PromptConditioning text = sd.encodePrompt("a red house", "", 0);
            Tensor z = new Rng(1).randn(1, 4, 8, 8);
            Step step = new Step(0, 500, 4, 0);
            Tensor one = new ClassifierFreeGuidance(sd.unet, text, 5.0, null, List.of(new ControlNetSource(net, hint, 1.0))).predict(z, step);
            Tensor two = new ClassifierFreeGuidance(sd.unet, text, 5.0, null,
                    List.of(new ControlNetSource(net, hint, 0.5), new ControlNetSource(net, hint, 0.5))).predict(z, step);
            assertTrue(torch.allclose(one, two, 1e-5, 1e-6, false), "MultiControlNet sums the residuals");
        }
    }

    /** LEDITS++'s mask keeps the pixels whose channel-summed guidance reaches the quantile, per sample. */
    @Test void semanticGuidanceMaskKeepsEachSamplesStrongestPixels() {
        try (PointerScope scope = new PointerScope(); InferenceMode im = new InferenceMode()) {
            // sample 0: energies 1..16 (channels 0.5 + 0.5 or -0.5 ...); sample 1: all equal
            float[] v = new float[2 * 2 * 16];
            for (int p = 0; p < 16; p++) { v[p] = 0.5f * (p + 1); v[16 + p] = -0.5f * (p + 1); v[32 + p] = 1f; v[48 + p] = 1f; }
            Tensor g = org.ldm4j.nn.Tensors.ofFloats(v, 2, 2, 4, 4);
            Tensor m = SemanticGuidance.mask(g, 0.75);
            assertArrayEquals(new long[]{2, 1, 4, 4}, m.sizes().vec().get());
            // quantile 0.75 of 1..16 (linear) = 12.25: pixels 13..16 pass
            for (int p = 0; p < 16; p++) assertEquals(p + 1 >= 13 ? 1.0 : 0.0, m.select(0, 0).reshape(-1).select(0, p).item_double(), 0.0, "pixel " + p);
            assertEquals(16.0, m.select(0, 1).sum().item_double(), 0.0, "equal energies all reach the quantile");
            assertThrows(IllegalArgumentException.class, () -> new SemanticGuidance.Concept(
                    ClassifierFreeGuidance.withBothHalves(sd.unet, sd.encodePrompt("a tree", "", 0), 1.0, null, List.of()), 5.0, false, 1.0));
        }
    }

    /** ε_base + Σ M_e ⊙ (±s_e (ε(c_e) − ε(∅))), each term from its own call; no concepts: the base denoiser itself. */
    @Test void semanticGuidanceAddsEachConceptsMaskedGuidanceToTheBase() {
        try (PointerScope scope = new PointerScope(); InferenceMode im = new InferenceMode()) {
            Tensor z = new Rng(5).randn(1, 4, 8, 8);
            Step step = new Step(0, 600, 4, 0);
            ClassifierFreeGuidance base = new ClassifierFreeGuidance(sd.unet, sd.encodePrompt("a red house", "", 0), 5.0, null, List.of());
            ClassifierFreeGuidance tree = ClassifierFreeGuidance.withBothHalves(sd.unet, sd.encodePrompt("a tree", "", 0), 1.0, null, List.of());
            ClassifierFreeGuidance house = ClassifierFreeGuidance.withBothHalves(sd.unet, sd.encodePrompt("a house", "", 0), 1.0, null, List.of());
            assertTrue(torch.allclose(base.predict(z, step), new SemanticGuidance(base, List.of()).predict(z, step), 0, 0, false));
            Tensor[] t = tree.halves(z, step), h = house.halves(z, step);
            Tensor gTree = t[1].sub(t[0]).mul(new Scalar(4.0)), gHouse = h[1].sub(h[0]).mul(new Scalar(-6.0));
            Tensor expected = base.predict(z, step).add(gTree.mul(SemanticGuidance.mask(gTree, 0.9))).add(gHouse.mul(SemanticGuidance.mask(gHouse, 0.5)));
            Tensor got = new SemanticGuidance(base, List.of(new SemanticGuidance.Concept(tree, 4.0, false, 0.9),
                    new SemanticGuidance.Concept(house, 6.0, true, 0.5))).predict(z, step);
            assertTrue(torch.allclose(expected, got, 1e-5, 1e-6, false));
            assertEquals(8 * 8 / 10 + 1, (int) SemanticGuidance.mask(gTree, 0.9).sum().item_double(), 1, "about a tenth of the pixels");
        }
    }

    /**
     * LEDITS++'s cross-attention mask reads the conditional half of the concept's own prediction: its words' attention,
     * averaged over heads and the sites at the latent's side, kept at the quantile; the intersected concept changes
     * the prediction only inside both masks.
     */
    @Test void semanticGuidanceCrossAttentionMaskReadsTheConceptsConditionalAttention() {
        try (PointerScope scope = new PointerScope(); InferenceMode im = new InferenceMode()) {
            Tensor z = new Rng(6).randn(1, 4, 8, 8);
            Step step = new Step(0, 600, 4, 0);
            PromptConditioning tree = sd.encodePrompt("a tall tree", "", 0);
            org.ldm4j.models.attention.AttentionMaps maps = new org.ldm4j.models.attention.AttentionMaps(
                    org.ldm4j.models.attention.AttentionMaps.crossAt(8), false);
            ClassifierFreeGuidance concept = ClassifierFreeGuidance.withBothHalves(sd.unet, tree, 1.0,
                    st -> org.ldm4j.models.unet.UNetExtras.attention(maps), List.of());
            SemanticGuidance.CrossAttention words = new SemanticGuidance.CrossAttention(maps, 1, tree.encoding().tokenCount());
            ClassifierFreeGuidance base = new ClassifierFreeGuidance(sd.unet, sd.encodePrompt("a red house", "", 0), 5.0, null, List.of());
            Tensor got = new SemanticGuidance(base, List.of(new SemanticGuidance.Concept(concept, 5.0, false, 0.5, words))).predict(z, step);
            // by hand, from the maps the concept's call just recorded
            Tensor sum = null;
            int sites = 0;
            for (var e : maps.maps().entrySet()) {
                Tensor cond = e.getValue().narrow(0, 1, 1);   // [uncond; cond]: the second row
                Tensor w = cond.narrow(3, 1, tree.encoding().tokenCount()).sum(new long[]{3}, false, null).mean(new long[]{1}, false, null);
                sum = sum == null ? w : sum.add(w);
                sites++;
            }
            assertTrue(sites > 0, "cross-attention at 8x8 was recorded");
            Tensor attention = sum.div(new Scalar((double) sites)).view(new long[]{1, 1, 8, 8});
            double cut = torch.quantile(attention.flatten(1, -1), 0.5, new org.bytedeco.pytorch.LongOptional(1), true, "linear").item_double();
            Tensor expectedMask = attention.ge(new Scalar(cut)).to(attention.scalar_type());
            assertTrue(torch.equal(expectedMask, SemanticGuidance.attentionMask(words, 1, 8, 8, 0.5)));
            Tensor[] halves = concept.halves(z, step);
            Tensor g = halves[1].sub(halves[0]).mul(new Scalar(5.0));
            Tensor expected = base.predict(z, step).add(g.mul(SemanticGuidance.mask(g, 0.5)).mul(expectedMask));
            assertTrue(torch.allclose(expected, got, 1e-5, 1e-6, false));
            assertThrows(IllegalStateException.class, () -> SemanticGuidance.attentionMask(words, 1, 16, 16, 0.5), "no 16x16 sites recorded");
        }
    }

    @Test void dualGuidanceIsInstructPix2PixsFormulaAtAnyTextScaleAndPlainGuidanceAtConditionScaleOne() {
        try (PointerScope scope = new PointerScope(); InferenceMode im = new InferenceMode()) {
            PromptConditioning text = sd.encodePrompt("a red house", "", 0);
            PromptConditioning nullText = new PromptConditioning(text.uncond(), text.uncond(), text.encoding());
            Tensor blackHint = torch.zeros(1, 3, 16, 16);
            Tensor z = new Rng(4).randn(1, 4, 8, 8);
            Step step = new Step(0, 500, 4, 0);
            ClassifierFreeGuidance guided = new ClassifierFreeGuidance(sd.unet, text, 5.0, null, List.of(new ControlNetSource(net, hint, 1.0)));
            Denoiser none = new ClassifierFreeGuidance(sd.unet, nullText, 1.0, null, List.of(new ControlNetSource(net, blackHint, 1.0)));
            // the three predictions, each from its own unguided call
            Tensor eNone = none.predict(z, step);
            Tensor eMap = new ClassifierFreeGuidance(sd.unet, nullText, 1.0, null, List.of(new ControlNetSource(net, hint, 1.0))).predict(z, step);
            Tensor eBoth = new ClassifierFreeGuidance(sd.unet, text, 1.0, null, List.of(new ControlNetSource(net, hint, 1.0))).predict(z, step);
            assertFalse(torch.allclose(eNone, eMap, 1e-3, 1e-4, false), "the map changes the prediction");
            Tensor expected = eNone.add(eMap.sub(eNone).mul(new Scalar(2.5))).add(eBoth.sub(eMap).mul(new Scalar(5.0)));
            Tensor dual = new DualGuidance(guided, none, 2.5).predict(z, step);
            assertTrue(torch.allclose(expected, dual, 1e-4, 1e-5, false), "eps(0,0) + 2.5 (eps(C,0) - eps(0,0)) + 5 (eps(C,T) - eps(C,0))");
            assertTrue(torch.allclose(guided.predict(z, step), new DualGuidance(guided, none, 1.0).predict(z, step), 1e-4, 1e-5, false),
                    "condition scale 1 is classifier-free guidance on the text alone");
            // without text guidance (s_T = 1) both halves are still needed: withBothHalves computes them at any scale
            ClassifierFreeGuidance unguided = ClassifierFreeGuidance.withBothHalves(sd.unet, text, 1.0, null, List.of(new ControlNetSource(net, hint, 1.0)));
            assertTrue(torch.allclose(eBoth, unguided.predict(z, step), 1e-4, 1e-5, false), "at scale 1 it still predicts eps(C, T)");
            Tensor expectedAt1 = eNone.add(eMap.sub(eNone).mul(new Scalar(2.5))).add(eBoth.sub(eMap));
            assertTrue(torch.allclose(expectedAt1, new DualGuidance(unguided, none, 2.5).predict(z, step), 1e-4, 1e-5, false));
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                    () -> new DualGuidance(new ClassifierFreeGuidance(sd.unet, text, 1.0, null, List.of()), none, 2.0));
            assertTrue(e.getMessage().contains("withBothHalves"), e.getMessage());
            e = assertThrows(IllegalArgumentException.class, () -> new DualGuidance(guided, none, Double.NaN));
            assertTrue(e.getMessage().contains("condition guidance scale"), e.getMessage());
        }
    }

    @Test void guessModeRunsTheConditionalHalfOnlyAndLeavesTheUnconditionalOneAlone() {
        try (PointerScope scope = new PointerScope(); InferenceMode im = new InferenceMode()) {
            Rng rng = new Rng(2);
            Tensor z = rng.randn(1, 4, 8, 8), ctx = rng.randn(2, 77, 32);
            Tensor batch = torch.cat(new org.bytedeco.pytorch.TensorVector(z, z), 0);
            Tensor t = torch.scalar_tensor(new Scalar(400.0));
            UNetExtras x = new ControlNetSource(net, hint, 0.9, 0, 1, true).extras(new ControlInput(sd.unet, batch, t, ctx, true), new Step(0, 400, 4, 0));
            ControlNetModel.Residuals cond = net.forward(z, t, org.ldm4j.nn.Tensors.halves(ctx, 0)[1], hint, 0.9, true);
            for (int i = 0; i < cond.down().size(); i++) {
                Tensor r = x.downBlockAdditionalResiduals().get(i);
                assertEquals(0.0, org.ldm4j.nn.Tensors.halves(r, 0)[0].abs().max().item_double(), "unconditional residual " + i + " is zero");
                assertTrue(torch.allclose(cond.down().get(i), org.ldm4j.nn.Tensors.halves(r, 0)[1], 1e-5, 1e-6, false), "residual " + i);
            }
        }
    }

    @Test void plainAdapterFeaturesAreComputedOncePerGenerationAndChangeTheImage() {
        Tensor plain = txt2img(List.of(), 4);
        AdapterSource source = new AdapterSource(adapter, hint, 1.0);
        try (InferenceMode im = new InferenceMode()) {
            List<Tensor> images = Txt2Img.run(sd, request(4, 2, null), List.of(source), List.of(), null);
            assertEquals(2, images.size());
            assertFalse(torch.equal(plain, images.get(0)));
        }
        assertEquals(1, source.computations(), "two images x four steps, one adapter run");

        AdapterSource half = new AdapterSource(adapter, hint, 1.0, 0.5);
        List<Integer> on = new ArrayList<>();
        for (int i = 0; i < 5; i++) if (half.active(new Step(i, 0, 5, 0))) on.add(i);
        assertEquals(List.of(0, 1), on, "applied while i < int(5 * 0.5)");
    }

    @Test void fgdmRootAdapterRunsOnTheNoisyLatentEveryStep() {
        torch.manual_seed(5);
        org.ldm4j.models.adapter.TimeAdapter time = new org.ldm4j.models.adapter.TimeAdapter(4, List.of(32, 64), 2, 128, 32);
        AdapterSource root = new AdapterSource(time, null, 1.0);
        Tensor out = txt2img(List.of(root), 3);
        assertEquals(3, root.computations());
        assertFalse(torch.equal(txt2img(List.of(), 3), out));
    }

    @Test void badInputsAreClearErrors() {
        Tensor small = new Rng(1).rand(1, 3, 8, 8);
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> txt2img(List.of(new ControlNetSource(net, small, 1.0)), 2));
        assertTrue(e.getMessage().contains("control image is 8x8 but the output is 16x16"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> txt2img(List.of(new AdapterSource(adapter, new Rng(1).rand(1, 1, 16, 16), 1.0)), 2));
        assertTrue(e.getMessage().contains("1 channels, the adapter takes 3"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> new ControlNetSource(net, hint, 1.0, 0.8, 0.2, false));
        assertTrue(e.getMessage().contains("start < end"), e.getMessage());
        ControlNetModel sdSized = new ControlNetModel(TinyControl.config().withHint(List.of(4, 8, 8, 8)));
        e = assertThrows(IllegalArgumentException.class, () -> txt2img(List.of(new ControlNetSource(sdSized, hint, 1.0)), 2));
        assertTrue(e.getMessage().contains("downsamples by 8 but the model's VAE factor is 2"), e.getMessage());
    }

    @Test void controlImagesAreUnitRangeRgbOrPilGrey() {
        BufferedImage img = new BufferedImage(2, 1, BufferedImage.TYPE_INT_RGB);
        img.setRGB(0, 0, 0xff8000);
        img.setRGB(1, 0, 0x0000ff);
        float[] rgb = org.ldm4j.nn.Tensors.toFloats(ControlImages.toTensor(img, 3));
        assertArrayEquals(new float[]{1f, 0f, 128 / 255f, 0f, 0f, 1f}, rgb);
        float[] grey = org.ldm4j.nn.Tensors.toFloats(ControlImages.toTensor(img, 1));
        assertArrayEquals(new float[]{151 / 255f, 29 / 255f}, grey, "PIL: (r*19595 + g*38470 + b*7471 + 32768) >> 16");
    }

    /** A grey 16x16 init image in [-1, 1]. */
    static final class Images16 {
        static Tensor gray() { return torch.zeros(1, 3, 16, 16); }
    }
}
