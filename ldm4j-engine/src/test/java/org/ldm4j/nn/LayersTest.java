package org.ldm4j.nn;

import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.TensorOptional;
import org.bytedeco.pytorch.global.torch;
import org.bytedeco.pytorch.global.torch.ScalarType;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.util.List;

import static org.junit.jupiter.api.Assertions.*;

class LayersTest {
    @BeforeAll static void init() { Engine.threads(1); torch.manual_seed(0); }

    static double maxAbsDiff(Tensor a, Tensor b) { return a.sub(b).abs().max().item_double(); }

    @Test void linearAsPointwiseConvEqualsAtLinear() {
        Linear l = new Linear(24, 40);
        Tensor x = new Rng(1).randn(2, 7, 24);
        Tensor ours = l.forward(x);
        Tensor ref = torch.linear(x, l.weight.t(), new TensorOptional(l.bias.t()));
        assertArrayEquals(new long[]{2, 7, 40}, ours.sizes().vec().get());
        assertTrue(maxAbsDiff(ours, ref) < 1e-5, "diff " + maxAbsDiff(ours, ref));
        Linear noBias = new Linear(24, 8, false);
        assertTrue(maxAbsDiff(noBias.forward(x), torch.matmul(x, noBias.weight.t().t())) < 1e-5);
    }

    @Test void linearBackpropagatesThroughTheConvPath() {
        Linear l = new Linear(5, 3);
        l.requiresGrad(true);
        Tensor x = new Rng(2).randn(4, 5);
        l.forward(x).pow(new org.bytedeco.pytorch.Scalar(2.0)).sum().backward();
        Tensor ref = torch.linear(x, l.weight.t().detach(), new TensorOptional(l.bias.t().detach()));
        // d/dW sum(y^2) = 2 yᵀ x
        Tensor expected = ref.mul(new org.bytedeco.pytorch.Scalar(2.0)).t().matmul(x);
        assertTrue(maxAbsDiff(l.weight.t().grad(), expected) < 1e-4);
    }

    @Test void groupNormMatchesItsDefinition() {
        GroupNorm gn = new GroupNorm(4, 8, 1e-5);
        gn.weight.t().uniform_(0.5, 1.5, new org.bytedeco.pytorch.GeneratorOptional());
        gn.bias.t().uniform_(-1, 1, new org.bytedeco.pytorch.GeneratorOptional());
        Tensor x = new Rng(3).randn(2, 8, 5, 5);
        Tensor g = x.reshape(2, 4, -1);
        Tensor mean = g.mean(new long[]{2}, true, new org.bytedeco.pytorch.ScalarTypeOptional());
        Tensor var = g.sub(mean).pow(new org.bytedeco.pytorch.Scalar(2.0)).mean(new long[]{2}, true, new org.bytedeco.pytorch.ScalarTypeOptional());
        Tensor norm = g.sub(mean).div(var.add(new org.bytedeco.pytorch.Scalar(1e-5)).sqrt()).reshape(2, 8, 5, 5);
        Tensor ref = norm.mul(gn.weight.t().view(1, 8, 1, 1)).add(gn.bias.t().view(1, 8, 1, 1));
        assertTrue(maxAbsDiff(gn.forward(x), ref) < 1e-5);
    }

    @Test void convMatchesUnfoldedProduct() {
        Conv2d c = new Conv2d(3, 6, 3, 1, 1);
        Tensor x = new Rng(4).randn(1, 3, 6, 6);
        // im2col reference: unfold to (1, 27, 36), multiply by (6, 27)
        Tensor cols = torch.im2col(x, new long[]{3, 3}, new long[]{1, 1}, new long[]{1, 1}, new long[]{1, 1});
        Tensor ref = c.weight.t().view(6, 27).matmul(cols).add(c.bias.t().view(1, 6, 1)).view(1, 6, 6, 6);
        assertTrue(maxAbsDiff(c.forward(x), ref) < 1e-4);
    }

    @Test void namesAreDottedDiffusersKeys() {
        class Attn extends Block {
            final Linear toQ = child("to_q", new Linear(4, 4, false));
            final Seq<Linear> toOut = child("to_out", new Seq<>());
            Attn() { toOut.add(new Linear(4, 4)); }
        }
        class Model extends Block {
            final Seq<Attn> blocks = child("blocks", new Seq<>());
            Model() { blocks.add(new Attn()); blocks.add(new Attn()); }
        }
        Model m = new Model();
        assertEquals(List.of("blocks.0.to_q.weight", "blocks.0.to_out.0.weight", "blocks.0.to_out.0.bias",
                "blocks.1.to_q.weight", "blocks.1.to_out.0.weight", "blocks.1.to_out.0.bias"),
                List.copyOf(m.namedParameters().keySet()));
        assertEquals(2 * (16 + 16 + 4), m.parameterCount());
    }

    @Test void castingSwapsTensorsSeenByLayers() {
        Linear l = new Linear(8, 8);
        l.to(Dtypes.device("cpu"), ScalarType.BFloat16);
        assertTrue(Dtypes.same(l.weight.t().scalar_type(), ScalarType.BFloat16));
        Tensor y = l.forward(new Rng(5).randn(2, 8).to(ScalarType.BFloat16));
        assertTrue(Dtypes.same(y.scalar_type(), ScalarType.BFloat16));
    }

    @Test void parametersSurviveTheScopeTheyWereBuiltIn() {
        Linear l;
        try (PointerScope scope = new PointerScope()) {
            l = new Linear(4, 4);
            l.forward(new Rng(6).randn(1, 4));
        }
        // still usable: the weights were detached from the scope
        assertEquals(16, l.weight.t().numel());
        assertFalse(Double.isNaN(l.forward(new Rng(7).randn(1, 4)).sum().item_double()));
    }

    @Test void withoutInitSkipsRandomFill() {
        Linear l = Block.withoutInit(() -> new Linear(3, 3));
        assertArrayEquals(new long[]{3, 3}, l.weight.shape());
    }

    @Test void rngMatchesPytorchSeedZero() {
        // torch.manual_seed(0); torch.randn(3) == [1.5410, -0.2934, -2.1788] (PyTorch's documented CPU stream)
        Tensor r = new Rng(0).randn(3);
        assertEquals(1.5410, r.get(0).item_double(), 1e-4);
        assertEquals(-0.2934, r.get(1).item_double(), 1e-4);
        assertEquals(-2.1788, r.get(2).item_double(), 1e-4);
    }
}
