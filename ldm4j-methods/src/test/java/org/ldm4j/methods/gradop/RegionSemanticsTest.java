package org.ldm4j.methods.gradop;

import org.bytedeco.pytorch.Scalar;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.TensorVector;
import org.bytedeco.pytorch.global.torch;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.ldm4j.models.attention.AttentionSite;
import org.ldm4j.models.unet.UNetExtras;
import org.ldm4j.nn.Engine;
import org.ldm4j.nn.Rng;
import org.ldm4j.nn.Tensors;
import org.ldm4j.pipeline.PromptConditioning;
import org.ldm4j.pipeline.StableDiffusion;
import org.ldm4j.pipeline.TinyStableDiffusion;
import org.ldm4j.schedulers.NoiseSchedule;

import java.awt.Color;
import java.nio.file.Path;
import java.util.List;

import static org.junit.jupiter.api.Assertions.*;

class RegionSemanticsTest {
    @TempDir static Path dir;
    static StableDiffusion sd;
    static final String PROMPT = "a red house a blue tree";

    @BeforeAll static void load() throws Exception {
        Engine.threads(1);
        sd = TinyStableDiffusion.load(dir.resolve("tiny"), 0);
    }

    /**
     * 16x16: columns 0..5 red, 6 an anti-aliased red-ish (200, 0, 55), 7 a purple midpoint (128, 0, 128) beyond the
     * tolerance of both, 8..15 blue.
     */
    static Tensor painting() {
        float[] px = new float[3 * 256];
        for (int i = 0; i < 16; i++) {
            for (int j = 0; j < 16; j++) {
                int[] rgb = j < 6 ? new int[]{255, 0, 0} : j == 6 ? new int[]{200, 0, 55} : j == 7 ? new int[]{128, 0, 128} : new int[]{0, 0, 255};
                for (int c = 0; c < 3; c++) px[c * 256 + i * 16 + j] = rgb[c] / 255f;
            }
        }
        return Tensors.ofFloats(px, 1, 3, 16, 16);
    }

    static RegionSemantics regions(PromptConditioning text) {
        RegionSettings s = new RegionSettings(List.of(Region.parse("#FF0000=red house"), Region.parse("#0000ff=blue tree:2")), 0.4, 100);
        return RegionSemantics.build(painting(), s, sd.tokenizer, text.encoding());
    }

    @Test void parsesRegionSpecs() {
        Region r = Region.parse("#00ff80=a tall tree:0.5");
        assertEquals(new Color(0x00FF80), r.colour());
        assertEquals("a tall tree", r.phrase());
        assertEquals(0.5, r.weight());
        assertEquals(1.0, Region.parse("#000000=sky").weight());
        assertThrows(IllegalArgumentException.class, () -> Region.parse("red=house"));
        assertThrows(IllegalArgumentException.class, () -> Region.parse("#FF0000"));
        assertThrows(IllegalArgumentException.class, () -> Region.parse("#FF0000=house:heavy"));
        assertThrows(IllegalArgumentException.class, () -> Region.parse("#FF0000= "));
        IllegalArgumentException twice = assertThrows(IllegalArgumentException.class,
                () -> RegionSettings.of(List.of(Region.parse("#FF0000=a"), Region.parse("#ff0000=b"))).validate());
        assertTrue(twice.getMessage().contains("mapped twice"));
    }

    @Test void masksUseNearestColourWithinToleranceAtEveryResolution() {
        PromptConditioning text = sd.encodePrompt(PROMPT, "", 0);
        RegionSemantics rs = regions(text);
        assertArrayEquals(new long[]{1, 2, 16, 16}, rs.masks().sizes().vec().get());
        float[] m = Tensors.toFloats(rs.masks());
        for (int j = 0; j < 16; j++) {
            assertEquals(j <= 6 ? 1f : 0f, m[j], "red mask column " + j + " (the anti-aliased column 6 counts as red)");
            assertEquals(j >= 8 ? 1f : 0f, m[256 + j], "blue mask column " + j + " (purple is too far from both)");
        }
        // area downsampling keeps the covered fraction at every attention resolution
        for (int side : new int[]{8, 4, 2, 1}) {
            Tensor ms = rs.masksAt(side, side);
            assertArrayEquals(new long[]{1, 2, side, side}, ms.sizes().vec().get());
            float[] v = Tensors.toFloats(ms.mean(new long[]{2, 3}, false, new org.bytedeco.pytorch.ScalarTypeOptional()));
            assertEquals(7 / 16.0, v[0], 1e-6, "red fraction at " + side);
            assertEquals(8 / 16.0, v[1], 1e-6, "blue fraction at " + side);
        }
        // W_r: phrase tokens carry weight x coverage, every other token column is zero
        int[] red = rs.tokens(0), blue = rs.tokens(1);
        assertEquals(2, red.length);
        assertEquals(2, blue.length);
        Tensor w = rs.weightsAt(4, 4);
        assertArrayEquals(new long[]{16, 77}, w.sizes().vec().get());
        float[] wv = Tensors.toFloats(w);
        for (int n = 0; n < 16; n++) {
            int col = n % 4;   // cells of 4 pixel columns: 0 -> cols 0..3, 1 -> 4..7, ...
            double redCover = col == 0 ? 1 : col == 1 ? 3 / 4.0 : 0, blueCover = col >= 2 ? 1 : 0;
            for (int j = 0; j < 77; j++) {
                double expected = contains(red, j) ? redCover : contains(blue, j) ? 2 * blueCover : 0;
                assertEquals(expected, wv[n * 77 + j], 1e-6, "cell " + n + " token " + j);
            }
        }
    }

    @Test void biasTouchesOnlyTheConditionalHalfAndTheMappedTokens() {
        PromptConditioning text = sd.encodePrompt(PROMPT, "", 0);
        RegionSemantics rs = regions(text);
        AttentionSite site = new AttentionSite("down_blocks.0.attentions.0.transformer_blocks.0.attn2",
                AttentionSite.Kind.CROSS, 8, 8, AttentionSite.Stage.DOWN, 0, 2, 16);
        Tensor scores = new Rng(1).randn(2, 2, 64, 77);
        Tensor edited = rs.scoreEdit(1.0, true).apply(site, scores.clone(), 0);
        Tensor diff = edited.sub(scores).abs();
        assertEquals(0.0, diff.select(0, 0).max().item_double(), "unconditional half untouched");
        int[] mapped = concat(rs.tokens(0), rs.tokens(1));
        float[] d = Tensors.toFloats(diff.select(0, 1));
        double mappedChange = 0;
        for (int i = 0; i < d.length; i++) {
            int token = i % 77;
            if (contains(mapped, token)) mappedChange += d[i];
            else assertEquals(0f, d[i], "unmapped token " + token);
        }
        assertTrue(mappedChange > 0);
        // the bias scale is w'·log(1 + σ)·max(cond scores): at a cell fully inside red, token "red" gains exactly that
        double maxCond = scores.select(0, 1).max().item_double();
        int cell = 0, token = rs.tokens(0)[0];
        double gain = edited.select(0, 1).select(0, 0).select(0, cell).select(0, token).item_double()
                - scores.select(0, 1).select(0, 0).select(0, cell).select(0, token).item_double();
        assertEquals(maxCond, gain, 1e-5);
        // without guidance the batch is all conditional
        Tensor one = scores.narrow(0, 1, 1);
        assertTrue(rs.scoreEdit(1.0, false).apply(site, one.clone(), 0).sub(one).abs().max().item_double() > 0);
    }

    @Test void biasIsStrongEarlyAndFadesAsTheBriefTabulates() {
        PromptConditioning text = sd.encodePrompt(PROMPT, "", 0);
        RegionSemantics rs = regions(text);
        NoiseSchedule s = GradOpScheduling.officialDdim(sd).noiseSchedule();
        double[][] table = {{981, 2.65}, {781, 1.74}, {501, 0.96}, {1, 0.04}};
        for (double[] row : table) {
            assertEquals(0.4 * row[1], rs.omegaFactor(s.alphaCumprod((int) row[0])), 0.4 * 0.01, "log(1+sigma) at t=" + row[0]);
        }
    }

    @Test void inTheUNetOnlyTheConditionalOutputChanges() {
        PromptConditioning text = sd.encodePrompt(PROMPT, "", 0);
        RegionSemantics rs = regions(text);
        Tensor z = new Rng(3).randn(1, 4, 8, 8);
        Tensor in = torch.cat(new TensorVector(z, z), 0);
        Tensor t = torch.scalar_tensor(new Scalar(981.0));
        Tensor plain = sd.unet.forward(in, t, text.uncondAndCond(), UNetExtras.NONE);
        Tensor biased = sd.unet.forward(in, t, text.uncondAndCond(), UNetExtras.attention(rs.processor(0.0058, true)));
        assertTrue(plain.select(0, 0).sub(biased.select(0, 0)).abs().max().item_double() < 1e-4, "uncond half");
        assertTrue(plain.select(0, 1).sub(biased.select(0, 1)).abs().max().item_double() > 1e-3, "cond half");
    }

    @Test void gradOpPlusWithRegionsIsDeterministicAndDiffersFromWithout() {
        GradOpPlusSettings fast = GradOpPlusTest.fast();
        RegionSettings regions = new RegionSettings(List.of(Region.parse("#FF0000=red house")), 0.4, 100);
        StrokePrompt p = StrokePrompt.of(PROMPT, 2);
        Tensor a = GradOpPlus.run(sd, p, painting(), fast, regions, List.of(), null).image();
        Tensor b = GradOpPlus.run(sd, p, painting(), fast, regions, List.of(), null).image();
        Tensor none = GradOpPlus.run(sd, p, painting(), fast, null, List.of(), null).image();
        assertEquals(0.0, a.sub(b).abs().max().item_double());
        assertTrue(a.sub(none).abs().max().item_double() > 1e-5);
    }

    private static boolean contains(int[] a, int x) {
        for (int v : a) if (v == x) return true;
        return false;
    }

    private static int[] concat(int[] a, int[] b) {
        int[] out = java.util.Arrays.copyOf(a, a.length + b.length);
        System.arraycopy(b, 0, out, a.length, b.length);
        return out;
    }
}
