package org.ldm4j.models.attention;

import org.bytedeco.pytorch.DoubleOptional;
import org.bytedeco.pytorch.Scalar;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.TensorOptional;
import org.bytedeco.pytorch.global.torch;
import org.bytedeco.pytorch.global.torch.ScalarType;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.ldm4j.nn.Block;
import org.ldm4j.nn.Dtypes;
import org.ldm4j.nn.Engine;
import org.ldm4j.nn.Rng;

import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.*;

class AttentionProcessorsTest {
    static final int B = 2, C = 32, CTX = 24, HEADS = 4, D = 8, H = 4, W = 5, N = H * W, M = 7;

    @BeforeAll static void init() { Engine.threads(1); torch.manual_seed(0); }

    static double maxAbsDiff(Tensor a, Tensor b) {
        return Attention.float32(a).sub(Attention.float32(b)).abs().max().item_double();
    }

    static Attention cross() { return new Attention(C, CTX, HEADS, D, false); }

    static Attention self() { return new Attention(C, C, HEADS, D, false); }

    /** softmax(Q Kᵀ/√d) V, written from the definition in float64 with explicit per-head weight slices. */
    static Tensor reference(Attention a, Tensor hidden, Tensor context, Tensor bias) {
        Tensor x = hidden.to(ScalarType.Double), c = (context != null ? context : hidden).to(ScalarType.Double);
        Tensor q = x.matmul(a.toQ.weight.t().to(ScalarType.Double).t());          // (B, N, heads*D)
        Tensor k = c.matmul(a.toK.weight.t().to(ScalarType.Double).t());
        Tensor v = c.matmul(a.toV.weight.t().to(ScalarType.Double).t());
        List<Tensor> heads = new ArrayList<>();
        for (int h = 0; h < a.heads; h++) {
            Tensor qh = q.narrow(2, (long) h * D, D), kh = k.narrow(2, (long) h * D, D), vh = v.narrow(2, (long) h * D, D);
            Tensor s = qh.matmul(kh.transpose(1, 2)).div(new Scalar(Math.sqrt(D)));   // (B, N, M)
            if (bias != null) s = s.add(bias.to(ScalarType.Double).select(1, h));
            heads.add(torch.softmax(s, -1).matmul(vh));
        }
        Tensor o = torch.cat(new org.bytedeco.pytorch.TensorVector(heads.toArray(new Tensor[0])), 2);
        return torch.linear(o, a.toOut.weight.t().to(ScalarType.Double), new TensorOptional(a.toOut.bias.t().to(ScalarType.Double)));
    }

    static AttentionSite site(Attention a, boolean isCross) {
        return new AttentionSite("", isCross ? AttentionSite.Kind.CROSS : AttentionSite.Kind.SELF, H, W,
                AttentionSite.Stage.OTHER, -1, a.heads, a.dimHead);
    }

    @Test void sdpaProcessorMatchesTheDefinitionForSelfAndCrossAttention() {
        Rng rng = new Rng(1);
        Tensor hidden = rng.randn(B, N, C), context = rng.randn(B, M, CTX);
        Attention x = cross(), s = self();
        Tensor out = x.forward(hidden, context, null, H, W);
        assertArrayEquals(new long[]{B, N, C}, out.sizes().vec().get());
        assertTrue(maxAbsDiff(out, reference(x, hidden, context, null)) < 1e-5);
        Tensor selfOut = s.forward(hidden, null, SdpaProcessor.INSTANCE, H, W);
        assertTrue(maxAbsDiff(selfOut, reference(s, hidden, null, null)) < 1e-5);
        // and it is libtorch's SDPA itself on the projected heads
        Tensor q = x.query(hidden), k = x.key(context), v = x.value(context);
        Tensor direct = torch.scaled_dot_product_attention(q, k, v);
        assertTrue(maxAbsDiff(SdpaProcessor.attend(q, k, v, x.scale), direct) < 1e-6);
        assertTrue(maxAbsDiff(x.output(direct), out) < 1e-6);
    }

    @Test void chunkedManualPathEqualsSdpaWithUnevenChunks() {
        Rng rng = new Rng(2);
        Tensor q = rng.randn(B, HEADS, N, D), k = rng.randn(B, HEADS, M, D), v = rng.randn(B, HEADS, M, D);
        Tensor sdpa = SdpaProcessor.attend(q, k, v, 1 / Math.sqrt(D));
        long perRow = (long) B * HEADS * M;
        for (long rows : new long[]{1, 3, 7, N, 1000}) {
            List<Long> starts = new ArrayList<>();
            Tensor manual = ChunkedAttention.attend(q, k, v, 1 / Math.sqrt(D), (s, q0) -> { starts.add(q0); return s; }, rows * perRow);
            assertTrue(maxAbsDiff(manual, sdpa) < 1e-5, "rows " + rows);
            long expectedChunks = (N + Math.min(rows, N) - 1) / Math.min(rows, N);
            assertEquals(expectedChunks, starts.size(), "rows " + rows);
        }
    }

    @Test void zeroBiasEqualsDefaultAndABiasIsApplied() {
        Rng rng = new Rng(3);
        Tensor hidden = rng.randn(B, N, C), context = rng.randn(B, M, CTX);
        Attention a = cross();
        Tensor base = a.forward(hidden, context, null, H, W);
        ScoreBiasProcessor zero = ScoreBiasProcessor.withBias(AttentionSite::isCross, site -> torch.zeros(1, 1, N, M));
        assertTrue(maxAbsDiff(a.forward(hidden, context, zero.maxScoreElements(3L * B * HEADS * M), H, W), base) < 1e-5);
        // a per-query, per-head bias gives the definition with that bias, also when chunked
        Tensor bias = rng.randn(1, HEADS, N, M).mul(new Scalar(3.0));
        ScoreBiasProcessor biased = ScoreBiasProcessor.withBias(AttentionSite::isCross, site -> bias).maxScoreElements(3L * B * HEADS * M);
        Tensor got = a.forward(hidden, context, biased, H, W);
        assertTrue(maxAbsDiff(got, reference(a, hidden, context, bias.expand(B, HEADS, N, M))) < 1e-5);
        assertTrue(maxAbsDiff(got, base) > 1e-2, "the bias changed nothing");
        // a selective predicate leaves other sites alone
        ScoreBiasProcessor selfOnly = ScoreBiasProcessor.withBias(AttentionSite::isSelf, site -> bias);
        assertEquals(0.0, maxAbsDiff(a.forward(hidden, context, selfOnly, H, W), base), 1e-7);
    }

    @Test void scoreEditThatMasksAllButOneTokenReturnsThatTokensValue() {
        Rng rng = new Rng(4);
        Tensor hidden = rng.randn(1, N, C), context = rng.randn(1, M, CTX);
        Attention a = cross();
        int keep = 3;
        ScoreBiasProcessor only = ScoreBiasProcessor.editingScores(s -> true, (site, scores, q0) -> {
            Tensor mask = torch.full(new long[]{M}, new Scalar(-1e9));
            mask.narrow(0, keep, 1).fill_(new Scalar(0.0));
            return scores.add(mask);
        });
        Tensor got = a.forward(hidden, context, only, H, W);                         // every query attends to token 3
        Tensor v = a.value(context).narrow(2, keep, 1);                             // (1, heads, 1, D)
        Tensor expected = a.output(v.expand(1, HEADS, N, D));
        assertTrue(maxAbsDiff(got, expected) < 1e-5);
    }

    @Test void attentionMapsAreRowStochasticWithShapeBHeadsQK() {
        Rng rng = new Rng(5);
        Tensor hidden = rng.randn(B, N, C), context = rng.randn(B, M, CTX);
        Attention a = cross();
        a.locate("down_blocks.1.attentions.0.transformer_blocks.0.attn2");
        AttentionMaps maps = new AttentionMaps();
        Tensor out = a.forward(hidden, context, maps, H, W);
        assertTrue(maxAbsDiff(out, a.forward(hidden, context, null, H, W)) < 1e-5);
        Tensor m = maps.get("down_blocks.1.attentions.0.transformer_blocks.0.attn2");
        assertArrayEquals(new long[]{B, HEADS, N, M}, m.sizes().vec().get());
        assertTrue(m.sum(new long[]{3}, false, new org.bytedeco.pytorch.ScalarTypeOptional()).sub(new Scalar(1.0)).abs().max().item_double() < 1e-5);
        AttentionSite site = maps.site("down_blocks.1.attentions.0.transformer_blocks.0.attn2");
        assertEquals(AttentionSite.Stage.DOWN, site.stage());
        assertEquals(1, site.block());
        assertTrue(site.isCross());
        assertEquals(H, site.height());
        assertFalse(m.requires_grad());
        // a predicate that matches nothing records nothing
        AttentionMaps none = new AttentionMaps(AttentionMaps.crossAt(16), false);
        a.forward(hidden, context, none, H, W);
        assertTrue(none.maps().isEmpty());
    }

    @Test void attentionMapsWithGradientReachTheInput() {
        Rng rng = new Rng(6);
        Tensor hidden = rng.randn(1, N, C).requires_grad_(true), context = rng.randn(1, M, CTX);
        Attention a = cross();
        AttentionMaps maps = new AttentionMaps(s -> true, true);
        a.forward(hidden, context, maps, H, W);
        Tensor m = maps.get("");
        assertTrue(m.requires_grad());
        // a loss on the map alone (token 0's share) back-propagates to the queries' input
        m.select(3, 0).sum().backward();
        assertTrue(hidden.grad().defined());
        assertTrue(hidden.grad().abs().sum().item_double() > 0);
    }

    @Test void bf16WeightsAttendInFloat32AndReturnTheModelDtype() {
        Rng rng = new Rng(7);
        Tensor hidden = rng.randn(B, N, C), context = rng.randn(B, M, CTX);
        Attention a = cross();
        Tensor ref = a.forward(hidden, context, null, H, W);
        Block bf = a.to(hidden.device(), ScalarType.BFloat16);
        Tensor hb = hidden.to(ScalarType.BFloat16), cb = context.to(ScalarType.BFloat16);
        Tensor out = a.forward(hb, cb, null, H, W);
        assertTrue(Dtypes.same(out.scalar_type(), ScalarType.BFloat16));
        double rel = Attention.float32(out).sub(ref).norm().item_double() / ref.norm().item_double();
        assertTrue(rel < 2e-2, "rel " + rel);
        Tensor manual = a.forward(hb, cb, new AttentionMaps(), H, W);
        assertTrue(maxAbsDiff(manual, out) < 5e-2);
        assertNotNull(bf);
    }

    @Test void sdpaWithExplicitScaleMatchesDefaultScale() {
        Rng rng = new Rng(8);
        Tensor q = rng.randn(1, 2, 5, 16), k = rng.randn(1, 2, 6, 16), v = rng.randn(1, 2, 6, 16);
        Tensor withScale = torch.scaled_dot_product_attention(q, k, v, new TensorOptional(), 0.0, false, new DoubleOptional(0.25), false);
        assertTrue(maxAbsDiff(withScale, torch.scaled_dot_product_attention(q, k, v)) < 1e-6);
    }
}
