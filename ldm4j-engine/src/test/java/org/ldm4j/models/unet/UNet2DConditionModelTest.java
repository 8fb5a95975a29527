package org.ldm4j.models.unet;

import org.bytedeco.pytorch.Scalar;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch;
import org.bytedeco.pytorch.global.torch.ScalarType;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.ldm4j.models.attention.Attention;
import org.ldm4j.models.attention.AttentionMaps;
import org.ldm4j.models.attention.AttentionProcessor;
import org.ldm4j.models.attention.AttentionSite;
import org.ldm4j.models.attention.ScoreBiasProcessor;
import org.ldm4j.models.attention.SdpaProcessor;
import org.ldm4j.nn.Dtypes;
import org.ldm4j.nn.Engine;
import org.ldm4j.nn.Param;
import org.ldm4j.nn.Rng;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicInteger;

import static org.junit.jupiter.api.Assertions.*;
import static org.ldm4j.models.unet.UNetTestSupport.*;

class UNet2DConditionModelTest {
    static UNet2DConditionModel unet;
    static Tensor sample, context, t;

    @BeforeAll static void init() {
        Engine.threads(1);
        torch.manual_seed(0);
        unet = new UNet2DConditionModel(tiny());
        Rng rng = new Rng(42);
        sample = rng.randn(2, 4, 16, 16);
        context = rng.randn(2, 7, 32);
        t = torch.full(new long[]{}, new Scalar(500L));
    }

    @Test void parameterNamesAreExactlyDiffusersKeys() {
        List<String> expected = DiffusersUNetKeys.of(new int[]{32, 64}, 2, new boolean[]{true, false}, new boolean[]{false, true});
        List<String> actual = new ArrayList<>(unet.namedParameters().keySet());
        assertEquals(new HashSet<>(expected), new HashSet<>(actual), "missing/unexpected keys");
        assertEquals(expected.size(), actual.size());
        // count formula: 10 top-level + resnets 10 (+2 with shortcut) + transformers 26 + samplers 2
        // down: 2 res + 2 attn + ds, 2 res (first with shortcut 32->64); mid 2 res + attn;
        // up0: 3 res (all shortcuts: 128, 128, 96 -> 64) + us; up1: 3 res (96, 64, 64 -> 32 all shortcut) + 3 attn
        int count = 10 + (20 + 52 + 2) + (12 + 10) + (20 + 26) + (36 + 2) + (36 + 78);
        assertEquals(count, actual.size());
        for (String k : List.of("down_blocks.0.attentions.0.transformer_blocks.0.attn1.to_q.weight", "mid_block.resnets.1.conv2.bias",
                "up_blocks.0.upsamplers.0.conv.weight", "conv_norm_out.weight", "time_embedding.linear_1.weight",
                "down_blocks.1.resnets.0.conv_shortcut.weight", "up_blocks.1.attentions.2.transformer_blocks.0.ff.net.2.bias")) {
            assertTrue(actual.contains(k), k);
        }
        Map<String, Param> p = unet.namedParameters();
        assertArrayEquals(new long[]{32, 32, 1, 1}, p.get("down_blocks.0.attentions.0.proj_in.weight").shape());
        assertArrayEquals(new long[]{32, 32}, p.get("down_blocks.0.attentions.0.transformer_blocks.0.attn2.to_k.weight").shape());
        assertArrayEquals(new long[]{256, 32}, p.get("down_blocks.0.attentions.0.transformer_blocks.0.ff.net.0.proj.weight").shape());
        assertArrayEquals(new long[]{128, 32}, p.get("time_embedding.linear_1.weight").shape());
        assertEquals(5, unet.skipCount() - 1);
    }

    @Test void forwardShapeDeterminismAndFloatTimesteps() {
        Tensor a = unet.forward(sample, t, context, null);
        assertArrayEquals(new long[]{2, 4, 16, 16}, a.sizes().vec().get());
        assertEquals(0.0, maxAbsDiff(a, unet.forward(sample, t, context, UNetExtras.NONE)));
        // 0-d long, (1) float and (B) float timesteps are the same thing
        Tensor tf = torch.full(new long[]{2}, new Scalar(500.0));
        assertTrue(maxAbsDiff(a, unet.forward(sample, tf, context, null)) < 1e-6);
        assertTrue(maxAbsDiff(a, unet.forward(sample, torch.full(new long[]{1}, new Scalar(500.0)), context, null)) < 1e-6);
        // different timesteps per batch element matter
        Tensor mixed = unet.forward(sample, torch.tensor(new float[]{500f, 10f}), context, null);
        assertTrue(maxAbsDiff(mixed.narrow(0, 0, 1), a.narrow(0, 0, 1)) < 1e-6);
        assertTrue(maxAbsDiff(mixed.narrow(0, 1, 1), a.narrow(0, 1, 1)) > 1e-4);
        assertThrows(IllegalArgumentException.class, () -> unet.forward(sample, torch.zeros(3), context, null));
    }

    @Test void oddSpatialSizesUpsampleToTheSkipSize() {
        Tensor odd = new Rng(3).randn(1, 4, 9, 7);
        Tensor out = unet.forward(odd, t, context.narrow(0, 0, 1), null);
        assertArrayEquals(new long[]{1, 4, 9, 7}, out.sizes().vec().get());
    }

    @Test void bf16ForwardIsCloseToFloat32() {
        torch.manual_seed(1);
        UNet2DConditionModel m = new UNet2DConditionModel(tiny());
        Tensor ref = m.forward(sample, t, context, null);
        m.to(sample.device(), ScalarType.BFloat16);
        Tensor out = m.forward(sample, t, context, null);                // fp32 in, cast inside, fp32 out
        assertTrue(Dtypes.isFloat32(out));
        double rel = relL2(out, ref);
        assertTrue(rel < 2e-2, "bf16 vs fp32 rel L2 " + rel);
        Tensor outBf = m.forward(sample.to(ScalarType.BFloat16), t, context.to(ScalarType.BFloat16), null);
        assertTrue(Dtypes.same(outBf.scalar_type(), ScalarType.BFloat16));
    }

    @Test void gradientFlowsToTheInputSample() {
        Tensor x = sample.clone().requires_grad_(true);
        Tensor out = unet.forward(x, t, context, null);
        out.pow(new Scalar(2.0)).mean().backward();
        assertTrue(x.grad().defined());
        assertTrue(x.grad().abs().sum().item_double() > 0);
        assertFalse(x.grad().isnan().any().item_bool());
    }

    @Test void aLossOnRecordedAttentionMapsBackpropagatesInsideAStepScope() {
        Tensor x = sample.clone().requires_grad_(true);
        try (org.bytedeco.javacpp.PointerScope step = new org.bytedeco.javacpp.PointerScope()) {
            AttentionMaps maps = new AttentionMaps(AttentionMaps.crossAt(16), true);
            unet.forward(x, t, context, UNetExtras.attention(maps));
            assertEquals(5, maps.maps().size());     // attn2 of down_blocks.0 (x2) and up_blocks.1 (x3), all at 16x16
            Tensor loss = maps.get("up_blocks.1.attentions.2.transformer_blocks.0.attn2").select(3, 1).mean();
            loss.backward();
        }
        assertTrue(x.grad().defined());
        assertTrue(x.grad().abs().sum().item_double() > 0);
    }

    @Test void zeroResidualsChangeNothingAndNonzeroOnesDo() {
        Tensor base = unet.forward(sample, t, context, null);
        // ControlNet: one per skip (conv_in, 2 pairs + downsampler, 2 resnets) and the mid block
        long[][] skipShapes = {{2, 32, 16, 16}, {2, 32, 16, 16}, {2, 32, 16, 16}, {2, 32, 8, 8}, {2, 64, 8, 8}, {2, 64, 8, 8}};
        List<Tensor> zeros = new ArrayList<>();
        for (long[] s : skipShapes) zeros.add(torch.zeros(s));
        Tensor midZero = torch.zeros(2, 64, 8, 8);
        assertEquals(0.0, maxAbsDiff(base, unet.forward(sample, t, context, UNetExtras.controlNet(zeros, midZero))));
        Rng rng = new Rng(9);
        for (int i = 0; i < skipShapes.length; i++) {
            List<Tensor> one = new ArrayList<>(zeros);
            one.set(i, rng.randn(skipShapes[i]));
            assertTrue(maxAbsDiff(base, unet.forward(sample, t, context, UNetExtras.controlNet(one, midZero))) > 1e-4, "skip " + i);
        }
        assertTrue(maxAbsDiff(base, unet.forward(sample, t, context, UNetExtras.controlNet(zeros, rng.randn(2, 64, 8, 8)))) > 1e-4);
        assertThrows(IllegalArgumentException.class,
                () -> unet.forward(sample, t, context, UNetExtras.controlNet(zeros.subList(0, 5), midZero)));
        // T2I-Adapter: one per down block
        List<Tensor> adapterZero = List.of(torch.zeros(2, 32, 16, 16), torch.zeros(2, 64, 8, 8));
        assertEquals(0.0, maxAbsDiff(base, unet.forward(sample, t, context, UNetExtras.adapter(adapterZero))));
        assertTrue(maxAbsDiff(base, unet.forward(sample, t, context,
                UNetExtras.adapter(List.of(rng.randn(2, 32, 16, 16), torch.zeros(2, 64, 8, 8))))) > 1e-4);
        assertTrue(maxAbsDiff(base, unet.forward(sample, t, context,
                UNetExtras.adapter(List.of(torch.zeros(2, 32, 16, 16), rng.randn(2, 64, 8, 8))))) > 1e-4);
    }

    @Test void adapterResidualGoesBeforeTheDownsamplerOfACrossAttentionBlock() {
        // Block 0 has cross-attention: the residual joins its last pair's output (a 16x16 skip) and is then
        // downsampled. A constant residual r on that skip alone would be the ControlNet placement; the two differ.
        Rng rng = new Rng(11);
        Tensor r = rng.randn(2, 32, 16, 16);
        UNetDownBlock b0 = unet.downBlocks.get(0);
        Tensor h0 = unet.convIn.forward(sample);
        Tensor emb = unet.timeEmbedding.forward(unet.timeProj.forward(t.unsqueeze(0).expand(2)));
        List<Tensor> plain = new ArrayList<>(), withR = new ArrayList<>();
        Tensor outPlain = b0.forward(h0, emb, context, null, null, plain);
        Tensor outR = b0.forward(h0, emb, context, null, r, withR);
        assertTrue(maxAbsDiff(withR.get(1), plain.get(1).add(r)) < 1e-5);          // last pair's skip carries r
        assertTrue(maxAbsDiff(withR.get(0), plain.get(0)) == 0.0);                 // earlier pair untouched
        Tensor expectedDown = ((CrossAttnDownBlock2D) b0).downsamplers.get(0).forward(plain.get(1).add(r));
        assertTrue(maxAbsDiff(outR, expectedDown) < 1e-5);
        assertTrue(maxAbsDiff(outR, outPlain) > 1e-4);
    }

    @Test void processorsSeeEverySiteWithPathKindAndResolution() {
        AttentionMaps maps = new AttentionMaps();
        Tensor out = unet.forward(sample, t, context, UNetExtras.attention(maps));
        assertTrue(maxAbsDiff(out, unet.forward(sample, t, context, null)) < 1e-4);
        List<AttentionSite> sites = maps.sites();
        assertEquals(12, sites.size());           // (2 down + 1 mid + 3 up) transformers x (attn1, attn2)
        AttentionSite first = maps.site("down_blocks.0.attentions.0.transformer_blocks.0.attn1");
        assertEquals(AttentionSite.Kind.SELF, first.kind());
        assertEquals(16, first.height());
        assertEquals(8, first.heads());
        assertEquals(4, first.headDim());
        assertArrayEquals(new long[]{2, 8, 256, 256}, maps.get(first.path()).sizes().vec().get());
        AttentionSite mid = maps.site("mid_block.attentions.0.transformer_blocks.0.attn2");
        assertEquals(AttentionSite.Stage.MID, mid.stage());
        assertEquals(8, mid.width());
        assertEquals(8, mid.headDim());
        assertArrayEquals(new long[]{2, 8, 64, 7}, maps.get(mid.path()).sizes().vec().get());
        AttentionSite up = maps.site("up_blocks.1.attentions.2.transformer_blocks.0.attn2");
        assertEquals(AttentionSite.Stage.UP, up.stage());
        assertEquals(1, up.block());
        assertTrue(up.isCross());
        // only cross-attention at 8x8: the mid block
        AttentionMaps only8 = new AttentionMaps(AttentionMaps.crossAt(8), false);
        unet.forward(sample, t, context, UNetExtras.attention(only8));
        assertEquals(List.of("mid_block.attentions.0.transformer_blocks.0.attn2"), new ArrayList<>(only8.maps().keySet()));
    }

    @Test void aProcessorCanChangeTheOutputAndZeroBiasCannot() {
        Tensor base = unet.forward(sample, t, context, null);
        AtomicInteger calls = new AtomicInteger();
        AttentionProcessor counting = (attn, hidden, ctx, site) -> {
            calls.incrementAndGet();
            return SdpaProcessor.INSTANCE.apply(attn, hidden, ctx, site);
        };
        assertEquals(0.0, maxAbsDiff(base, unet.forward(sample, t, context, UNetExtras.attention(counting))));
        assertEquals(12, calls.get());
        ScoreBiasProcessor zero = ScoreBiasProcessor.withBias(AttentionSite::isCross, s -> torch.zeros(1, 1, s.tokens(), 7));
        assertTrue(maxAbsDiff(base, unet.forward(sample, t, context, UNetExtras.attention(zero))) < 1e-4);
        ScoreBiasProcessor token2 = ScoreBiasProcessor.withBias(AttentionSite::isCross, s -> {
            Tensor b = torch.zeros(1, 1, s.tokens(), 7);
            b.select(3, 2).fill_(new Scalar(5.0));
            return b;
        });
        assertTrue(maxAbsDiff(base, unet.forward(sample, t, context, UNetExtras.attention(token2))) > 1e-3);
    }
}
