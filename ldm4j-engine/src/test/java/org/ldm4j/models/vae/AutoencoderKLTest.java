package org.ldm4j.models.vae;

import org.bytedeco.pytorch.NoGradGuard;
import org.bytedeco.pytorch.Scalar;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.TensorOptional;
import org.bytedeco.pytorch.global.torch;
import org.bytedeco.pytorch.global.torch.ScalarType;
import org.ldm4j.nn.Block;
import org.ldm4j.nn.Dtypes;
import org.ldm4j.nn.Engine;
import org.ldm4j.nn.Param;
import org.ldm4j.nn.Rng;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.*;

class AutoencoderKLTest {
    /** vae/config.json of stable-diffusion-v1-5 (with the bookkeeping keys diffusers writes). */
    static final String SD15_JSON = """
            {"_class_name": "AutoencoderKL", "_diffusers_version": "0.6.0", "act_fn": "silu",
             "block_out_channels": [128, 256, 512, 512],
             "down_block_types": ["DownEncoderBlock2D", "DownEncoderBlock2D", "DownEncoderBlock2D", "DownEncoderBlock2D"],
             "in_channels": 3, "latent_channels": 4, "layers_per_block": 2, "norm_num_groups": 32, "out_channels": 3,
             "sample_size": 512,
             "up_block_types": ["UpDecoderBlock2D", "UpDecoderBlock2D", "UpDecoderBlock2D", "UpDecoderBlock2D"]}
            """;

    @BeforeAll static void init() { Engine.threads(1); torch.manual_seed(0); }

    static AutoencoderKLConfig tiny(int layers, int groups) {
        return new AutoencoderKLConfig(3, 3, List.of("DownEncoderBlock2D", "DownEncoderBlock2D"),
                List.of("UpDecoderBlock2D", "UpDecoderBlock2D"), List.of(32, 64), layers, "silu", 4, groups, 16,
                null, null, null, null, null, null);
    }

    static double maxAbsDiff(Tensor a, Tensor b) { return a.sub(b).abs().max().item_double(); }

    static long[] shape(Tensor t) { return t.sizes().vec().get(); }

    /** Tensor count derived from the diffusers architecture, independently of the Java model. */
    static int expectedTensorCount(AutoencoderKLConfig c) {
        List<Integer> ch = c.blockOutChannels();
        int n = ch.size(), l = c.layersPerBlock();
        int mid = 2 * 8 + (c.midBlockAddAttention() ? 10 : 0);   // 2 resnets, group_norm + to_q/k/v/out.0
        int enc = 2 + n * l * 8 + (n - 1) * 2 + mid + 4;
        for (int i = 1; i < n; i++) if (!ch.get(i).equals(ch.get(i - 1))) enc += 2;   // conv_shortcut
        int dec = 2 + mid + n * (l + 1) * 8 + (n - 1) * 2 + 4;
        for (int i = n - 2; i >= 0; i--) if (!ch.get(i).equals(ch.get(i + 1))) dec += 2;
        return enc + dec + (c.useQuantConv() ? 2 : 0) + (c.usePostQuantConv() ? 2 : 0);
    }

    @Test void parsesTheSd15ConfigWithDefaults() {
        AutoencoderKLConfig c = AutoencoderKLConfig.parse(SD15_JSON);
        assertEquals(List.of(128, 256, 512, 512), c.blockOutChannels());
        assertEquals(0.18215, c.scalingFactor());
        assertNull(c.shiftFactor());
        assertTrue(c.useQuantConv() && c.usePostQuantConv() && c.midBlockAddAttention());
        assertEquals(8, c.downscaleFactor());
        assertEquals(AutoencoderKLConfig.sd1(), c);
    }

    @Test void unsupportedValuesFailNamingTheKey() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> AutoencoderKLConfig.parse(SD15_JSON.replace("\"silu\"", "\"gelu\"")));
        assertTrue(e.getMessage().contains("act_fn"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class,
                () -> AutoencoderKLConfig.parse(SD15_JSON.replaceFirst("DownEncoderBlock2D", "AttnDownEncoderBlock2D")));
        assertTrue(e.getMessage().contains("down_block_types"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class,
                () -> AutoencoderKLConfig.parse(SD15_JSON.replace("\"norm_num_groups\": 32", "\"norm_num_groups\": 48")));
        assertTrue(e.getMessage().contains("block_out_channels"), e.getMessage());
        AutoencoderKLConfig shifted = AutoencoderKLConfig.parse(SD15_JSON.replace("\"sample_size\": 512", "\"sample_size\": 512, \"shift_factor\": 0.1159, \"use_quant_conv\": false"));
        assertEquals(0.1159, shifted.shift());
        assertFalse(shifted.useQuantConv());
    }

    @Test void sd1VaeHas248TensorsAnd83_65MParameters() {
        AutoencoderKL vae = Block.withoutInit(() -> new AutoencoderKL(AutoencoderKLConfig.sd1()));
        Map<String, Param> p = vae.namedParameters();
        assertEquals(248, p.size());
        assertEquals(expectedTensorCount(AutoencoderKLConfig.sd1()), p.size());
        assertEquals(83_653_863L, vae.parameterCount());   // diffusers num_parameters() of the SD 1.x VAE
        assertArrayEquals(new long[]{512, 512}, p.get("decoder.mid_block.attentions.0.to_q.weight").shape());
        assertArrayEquals(new long[]{8, 512, 3, 3}, p.get("encoder.conv_out.weight").shape());
        assertArrayEquals(new long[]{256, 128, 1, 1}, p.get("encoder.down_blocks.1.resnets.0.conv_shortcut.weight").shape());
        assertArrayEquals(new long[]{256, 512, 1, 1}, p.get("decoder.up_blocks.2.resnets.0.conv_shortcut.weight").shape());
        assertArrayEquals(new long[]{128, 128, 3, 3}, p.get("encoder.down_blocks.0.downsamplers.0.conv.weight").shape());
        assertArrayEquals(new long[]{512, 512, 3, 3}, p.get("decoder.up_blocks.0.upsamplers.0.conv.weight").shape());
        assertTrue(p.containsKey("decoder.up_blocks.3.resnets.2.norm2.bias"));
        assertFalse(p.containsKey("decoder.up_blocks.3.upsamplers.0.conv.weight"));
        assertFalse(p.containsKey("encoder.down_blocks.3.downsamplers.0.conv.weight"));
        assertArrayEquals(new long[]{8, 8, 1, 1}, p.get("quant_conv.weight").shape());
        assertArrayEquals(new long[]{4, 4, 1, 1}, p.get("post_quant_conv.weight").shape());
        assertArrayEquals(new long[]{512}, p.get("encoder.mid_block.attentions.0.group_norm.weight").shape());
        assertTrue(p.containsKey("encoder.mid_block.attentions.0.to_out.0.bias"));
    }

    @Test void tensorCountFollowsTheFormulaOnTinyVariants() {
        AutoencoderKLConfig noAttn = new AutoencoderKLConfig(3, 3, List.of("DownEncoderBlock2D", "DownEncoderBlock2D", "DownEncoderBlock2D"),
                List.of("UpDecoderBlock2D", "UpDecoderBlock2D", "UpDecoderBlock2D"), List.of(8, 8, 16), 1, "silu", 4, 8, 16,
                null, null, null, false, true, false);
        for (AutoencoderKLConfig c : List.of(tiny(1, 32), tiny(2, 8), noAttn)) {
            AutoencoderKL vae = Block.withoutInit(() -> new AutoencoderKL(c));
            assertEquals(expectedTensorCount(c), vae.namedParameters().size(), c.toString());
        }
        AutoencoderKL vae = Block.withoutInit(() -> new AutoencoderKL(noAttn));
        assertTrue(vae.namedParameters().keySet().stream().noneMatch(k -> k.contains("attentions") || k.startsWith("quant_conv")));
    }

    @Test void midBlockAttentionIsSingleHeadSoftmaxOverPixels() {
        AttentionBlock attn = new AttentionBlock(32, 8, 1e-6);
        Tensor x = new Rng(1).randn(2, 32, 4, 5);
        Tensor ours = attn.forward(x);
        Tensor t = torch.group_norm(x, 8, new TensorOptional(attn.groupNorm.weight.t()), new TensorOptional(attn.groupNorm.bias.t()), 1e-6, false)
                .view(2, 32, 20).transpose(1, 2);                                   // (B, 20, C)
        Tensor q = torch.linear(t, attn.toQ.weight.t(), new TensorOptional(attn.toQ.bias.t()));
        Tensor k = torch.linear(t, attn.toK.weight.t(), new TensorOptional(attn.toK.bias.t()));
        Tensor v = torch.linear(t, attn.toV.weight.t(), new TensorOptional(attn.toV.bias.t()));
        Tensor scores = q.matmul(k.transpose(1, 2)).div(new Scalar(Math.sqrt(32)));
        Tensor o = scores.softmax(-1).matmul(v);
        Tensor ref = torch.linear(o, attn.toOut.get(0).weight.t(), new TensorOptional(attn.toOut.get(0).bias.t()))
                .transpose(1, 2).reshape(2, 32, 4, 5).add(x);
        assertTrue(maxAbsDiff(ours, ref) < 1e-5, "diff " + maxAbsDiff(ours, ref));
    }

    @Test void encodeDecodeShapes() {
        AutoencoderKL vae = new AutoencoderKL(tiny(1, 32));
        try (NoGradGuard g = new NoGradGuard()) {
            DiagonalGaussianDistribution post = vae.encode(new Rng(2).randn(2, 3, 16, 12));
            assertArrayEquals(new long[]{2, 4, 8, 6}, shape(post.mean()));
            assertArrayEquals(new long[]{2, 4, 8, 6}, shape(post.sample(new Rng(3))));
            assertArrayEquals(new long[]{2, 3, 16, 12}, shape(vae.decode(post.mode())));
            Tensor zs = vae.encodeScaled(new Rng(2).randn(1, 3, 8, 8), new Rng(4));
            assertArrayEquals(new long[]{1, 3, 8, 8}, shape(vae.decodeScaled(zs)));
            assertThrows(IllegalArgumentException.class, () -> vae.decode(new Rng(5).randn(1, 3, 4, 4)));
        }
    }

    @Test void posteriorSampleIsMeanPlusStdTimesSeededNoise() {
        AutoencoderKL vae = new AutoencoderKL(tiny(1, 32));
        try (NoGradGuard g = new NoGradGuard()) {
            DiagonalGaussianDistribution post = vae.encode(new Rng(6).randn(1, 3, 8, 8));
            Tensor z = post.sample(new Rng(42));
            Tensor ref = post.mean().add(post.std().mul(new Rng(42).randn(1, 4, 4, 4)));
            assertTrue(maxAbsDiff(z, ref) < 1e-6);
            assertTrue(maxAbsDiff(post.std(), post.logvar().mul(new Scalar(0.5)).exp()) < 1e-7);
            // scaled latents: the same draw times the scaling factor
            Tensor zs = vae.encodeScaled(new Rng(6).randn(1, 3, 8, 8), new Rng(42));
            assertTrue(maxAbsDiff(zs, ref.mul(new Scalar(0.18215))) < 1e-6);
        }
        // log-variance clamped to [-30, 20]
        Tensor logvar = torch.cat(new org.bytedeco.pytorch.TensorVector(torch.full(new long[]{1, 4, 1, 1}, new Scalar(50.0)),
                torch.full(new long[]{1, 4, 1, 1}, new Scalar(-50.0))), 3);                      // (1, 4, 1, 2)
        Tensor moments = torch.cat(new org.bytedeco.pytorch.TensorVector(torch.zeros(1, 4, 1, 2), logvar), 1);
        DiagonalGaussianDistribution d = new DiagonalGaussianDistribution(moments);
        assertEquals(20.0, d.logvar().max().item_double());
        assertEquals(-30.0, d.logvar().min().item_double());
    }

    @Test void decoderGradientMatchesFiniteDifferencesInFloat64() {
        AutoencoderKLConfig c = new AutoencoderKLConfig(3, 3, List.of("DownEncoderBlock2D", "DownEncoderBlock2D"),
                List.of("UpDecoderBlock2D", "UpDecoderBlock2D"), List.of(16, 32), 1, "silu", 4, 8, 16, null, null, null, null, null, null);
        AutoencoderKL vae = new AutoencoderKL(c);
        vae.to(Dtypes.device("cpu"), ScalarType.Double);
        Tensor z = new Rng(7).randn(1, 4, 3, 4).to(ScalarType.Double);
        z.requires_grad_(true);
        vae.decode(z).sum().backward();
        Tensor grad = z.grad();
        assertArrayEquals(new long[]{1, 4, 3, 4}, shape(grad));
        double h = 1e-5;
        try (NoGradGuard g = new NoGradGuard()) {
            long[][] coords = {{0, 0, 0, 0}, {0, 1, 2, 3}, {0, 3, 1, 2}};
            for (long[] at : coords) {
                Tensor plus = z.detach().clone(), minus = z.detach().clone();
                Tensor e = torch.zeros(1, 4, 3, 4).to(ScalarType.Double);
                e.get(at[0]).get(at[1]).get(at[2]).get(at[3]).fill_(new Scalar(h));
                double fd = (vae.decode(plus.add(e)).sum().item_double() - vae.decode(minus.sub(e)).sum().item_double()) / (2 * h);
                double ad = grad.get(at[0]).get(at[1]).get(at[2]).get(at[3]).item_double();
                assertEquals(fd, ad, 1e-6 * Math.max(1, Math.abs(fd)), "d sum/dz at " + java.util.Arrays.toString(at));
            }
        }
    }

    @Test void decoderCopyIsIndependentAndTrainable() {
        AutoencoderKL vae = new AutoencoderKL(tiny(1, 32));
        Tensor z = new Rng(8).randn(1, 4, 4, 4);
        Tensor before = vae.decode(z).detach().clone();
        Decoder copy = vae.copyDecoder();
        assertEquals(vae.decoder.namedParameters().keySet(), copy.namedParameters().keySet());
        assertEquals(0.0, maxAbsDiff(vae.decodeWith(copy, z), before));
        copy.requiresGrad(true);
        vae.decodeWith(copy, z).pow(new Scalar(2.0)).mean().backward();
        Tensor w = copy.convOut.weight.t();
        assertTrue(w.grad().defined() && w.grad().abs().sum().item_double() > 0, "decoder weights receive gradients");
        assertFalse(vae.decoder.convOut.weight.t().grad().defined(), "the original has no gradient");
        try (NoGradGuard g = new NoGradGuard()) {
            for (Param p : copy.namedParameters().values()) p.t().add_(new Scalar(0.01));
            assertTrue(maxAbsDiff(vae.decodeWith(copy, z), before) > 1e-4, "the copy changed");
            assertEquals(0.0, maxAbsDiff(vae.decode(z), before), "the original did not");
        }
    }

    @Test void tiledDecodeWithOneTileIsPlainDecode() {
        AutoencoderKL vae = new AutoencoderKL(tiny(1, 32));
        try (NoGradGuard g = new NoGradGuard()) {
            Tensor z = new Rng(9).randn(1, 4, 6, 5);
            assertEquals(0.0, maxAbsDiff(vae.decodeTiled(z, 6, 0.25), vae.decode(z)));
            assertEquals(0.0, maxAbsDiff(vae.decodeTiled(z, 8, 0.25), vae.decode(z)));
        }
    }

    @Test void tiledDecodeBlendsNeighbouringTilesLinearly() {
        AutoencoderKL vae = new AutoencoderKL(tiny(1, 32));   // f = 2
        try (NoGradGuard g = new NoGradGuard()) {
            Tensor z = new Rng(10).randn(1, 4, 8, 12);
            // tile 4 latents, overlap 0.5: tiles every 2 latents, 8 px decoded, blend 4 px, keep 4 px
            Tensor out = vae.decodeTiled(z, 4, 0.5);
            assertArrayEquals(new long[]{1, 3, 16, 24}, shape(out));
            Tensor t00 = vae.decode(z.narrow(2, 0, 4).narrow(3, 0, 4));   // (1, 3, 8, 8) at pixels 0..7
            Tensor t01 = vae.decode(z.narrow(2, 0, 4).narrow(3, 2, 4));   // at columns 4..11
            // the top-left tile's kept part is unblended
            assertEquals(0.0, maxAbsDiff(out.narrow(2, 0, 4).narrow(3, 0, 4), t00.narrow(2, 0, 4).narrow(3, 0, 4)));
            // columns 4..7 of the first rows ramp from tile (0,0) to tile (0,1): weight x/4 on the new tile
            for (int x = 0; x < 4; x++) {
                Tensor expected = t00.narrow(2, 0, 4).select(3, 4 + x).mul(new Scalar(1 - x / 4.0))
                        .add(t01.narrow(2, 0, 4).select(3, x).mul(new Scalar(x / 4.0)));
                assertTrue(maxAbsDiff(out.narrow(2, 0, 4).select(3, 4 + x), expected) < 1e-6, "column " + (4 + x));
            }
            // a blend of constants is the linear ramp
            Tensor ramp = AutoencoderKL.blendV(torch.zeros(1, 1, 6, 2), torch.ones(1, 1, 5, 2), 4);
            double[] expected = {0, 0.25, 0.5, 0.75, 1};
            for (int y = 0; y < 5; y++) assertEquals(expected[y], ramp.get(0).get(0).get(y).get(1).item_double(), 1e-7);
        }
    }

    @Test void legacyAttentionNamesMapToCurrentOnes() {
        assertEquals("decoder.mid_block.attentions.0.to_q.weight", AutoencoderKL.renameLegacyKey("decoder.mid_block.attentions.0.query.weight"));
        assertEquals("encoder.mid_block.attentions.0.to_k.bias", AutoencoderKL.renameLegacyKey("encoder.mid_block.attentions.0.key.bias"));
        assertEquals("encoder.mid_block.attentions.0.to_v.weight", AutoencoderKL.renameLegacyKey("encoder.mid_block.attentions.0.value.weight"));
        assertEquals("decoder.mid_block.attentions.0.to_out.0.bias", AutoencoderKL.renameLegacyKey("decoder.mid_block.attentions.0.proj_attn.bias"));
        assertEquals("decoder.mid_block.attentions.0.group_norm.weight", AutoencoderKL.renameLegacyKey("decoder.mid_block.attentions.0.group_norm.weight"));
        assertEquals("encoder.down_blocks.0.resnets.0.conv1.weight", AutoencoderKL.renameLegacyKey("encoder.down_blocks.0.resnets.0.conv1.weight"));
        // every renamed legacy key of the SD 1.x VAE is a key of the model
        AutoencoderKL vae = Block.withoutInit(() -> new AutoencoderKL(AutoencoderKLConfig.sd1()));
        for (String part : List.of("encoder", "decoder")) {
            for (String legacy : AutoencoderKL.legacyKeyRenames().keySet()) {
                for (String kind : List.of("weight", "bias")) {
                    String name = AutoencoderKL.renameLegacyKey(part + ".mid_block.attentions.0." + legacy + "." + kind);
                    assertTrue(vae.namedParameters().containsKey(name), name);
                }
            }
        }
        Tensor conv = new Rng(11).randn(6, 6, 1, 1);
        Tensor lin = AutoencoderKL.legacyTensor("decoder.mid_block.attentions.0.to_out.0.weight", conv);
        assertArrayEquals(new long[]{6, 6}, shape(lin));
        assertEquals(0.0, maxAbsDiff(lin, conv.view(6, 6)));
        assertSame(conv, AutoencoderKL.legacyTensor("quant_conv.weight", conv));
    }

    @Test void bf16DecodeRunsAndStaysCloseToFp32() {
        AutoencoderKL vae = new AutoencoderKL(tiny(1, 32));
        try (NoGradGuard g = new NoGradGuard()) {
            Tensor z = new Rng(12).randn(1, 4, 4, 4);
            Tensor ref = vae.decode(z);
            vae.to(Dtypes.device("cpu"), ScalarType.BFloat16);
            Tensor low = vae.decode(z);   // input cast to the model's dtype
            assertTrue(Dtypes.same(low.scalar_type(), ScalarType.BFloat16));
            double rel = low.to(ScalarType.Float).sub(ref).norm().item_double() / ref.norm().item_double();
            assertTrue(rel < 0.05, "relative error " + rel);
        }
    }
}
