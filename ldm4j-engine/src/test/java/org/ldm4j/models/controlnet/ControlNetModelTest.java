package org.ldm4j.models.controlnet;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.InferenceMode;
import org.bytedeco.pytorch.Scalar;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.TensorOptional;
import org.bytedeco.pytorch.global.torch;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.ldm4j.models.unet.UNet2DConditionModel;
import org.ldm4j.models.unet.UNetDownBlock;
import org.ldm4j.models.unet.UNetExtras;
import org.ldm4j.nn.Conv2d;
import org.ldm4j.nn.Param;
import org.ldm4j.nn.Rng;
import org.ldm4j.pipeline.TinyControl;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.*;

class ControlNetModelTest {
    @BeforeAll static void threads() { torch.set_num_threads(1); }

    static long[] shape(Tensor t) { return t.sizes().vec().get(); }

    record Inputs(Tensor sample, Tensor t, Tensor context, Tensor hint) {}

    static Inputs inputs(long batch) {
        Rng rng = new Rng(3);
        return new Inputs(rng.randn(batch, 4, 8, 8), torch.scalar_tensor(new Scalar(500.0)), rng.randn(batch, 77, 32),
                rng.randn(1, 3, 16, 16).sigmoid());
    }

    @Test void fromUnetCopiesTheEncoderAndZerosTheZeroConvs() {
        UNet2DConditionModel unet = TinyControl.unet(1);
        ControlNetModel net = ControlNetModel.fromUnet(unet, TinyControl.HINT_WIDTHS, 3);
        Map<String, Param> u = unet.namedParameters();
        int copied = 0;
        for (Map.Entry<String, Param> e : net.namedParameters().entrySet()) {
            String n = e.getKey();
            if (u.containsKey(n)) {
                assertTrue(torch.equal(u.get(n).t(), e.getValue().t()), n);
                assertNotSame(u.get(n).t(), e.getValue().t());
                copied++;
            } else if (n.startsWith("controlnet_down_blocks.") || n.startsWith("controlnet_mid_block.")
                    || n.startsWith("controlnet_cond_embedding.conv_out.")) {
                assertEquals(0.0, e.getValue().t().abs().max().item_double(), n + " is zero-initialised");
            } else {
                assertTrue(n.startsWith("controlnet_cond_embedding."), "unexpected parameter " + n);
            }
        }
        long encoder = u.keySet().stream().filter(n -> n.startsWith("conv_in.") || n.startsWith("time_embedding.")
                || n.startsWith("down_blocks.") || n.startsWith("mid_block.")).count();
        assertEquals(encoder, copied, "every encoder tensor of the UNet is copied");
        assertEquals(unet.skipCount(), net.residualCount());
    }

    @Test void residualsMatchTheUNetSkipsAndAZeroControlNetChangesNothing() {
        try (PointerScope scope = new PointerScope(); InferenceMode im = new InferenceMode()) {
            UNet2DConditionModel unet = TinyControl.unet(1);
            ControlNetModel net = ControlNetModel.fromUnet(unet, TinyControl.HINT_WIDTHS, 3);
            Inputs in = inputs(2);
            // the UNet's own skips, collected by hand
            List<Tensor> skips = new ArrayList<>();
            Tensor h = unet.convIn.forward(in.sample);
            skips.add(h);
            Tensor emb = unet.timeEmbedding.forward(unet.timeProj.forward(in.t.unsqueeze(0).expand(2)));
            for (UNetDownBlock b : unet.downBlocks) h = b.forward(h, emb, in.context, null, null, skips);
            ControlNetModel.Residuals r = net.forward(in.sample, in.t, in.context, in.hint, 1.0, false);
            assertEquals(skips.size(), r.down().size());
            for (int i = 0; i < skips.size(); i++) assertArrayEquals(shape(skips.get(i)), shape(r.down().get(i)), "residual " + i);
            assertArrayEquals(shape(unet.midBlock.forward(h, emb, in.context, null)), shape(r.mid()));

            Tensor plain = unet.forward(in.sample, in.t, in.context, UNetExtras.NONE);
            Tensor controlled = unet.forward(in.sample, in.t, in.context, r.toExtras());
            assertTrue(torch.equal(plain, controlled), "a zero-initialised ControlNet leaves the UNet output bit-identical");

            TinyControl.randomise(net.controlnetDownBlocks, 0.5);
            Tensor changed = unet.forward(in.sample, in.t, in.context, net.forward(in.sample, in.t, in.context, in.hint, 1.0, false).toExtras());
            assertFalse(torch.equal(plain, changed), "a trained ControlNet changes it");
        }
    }

    @Test void hintEncoderIsTheConvStackComposedByHand() {
        try (PointerScope scope = new PointerScope()) {
            ControlNetModel net = TinyControl.controlNet(TinyControl.unet(1), 2);
            Tensor hint = inputs(1).hint;
            ControlNetConditioningEmbedding e = net.controlnetCondEmbedding;
            Tensor h = torch.silu(conv(hint, e.convIn, 1));
            int[] strides = {1, 2};
            for (int i = 0; i < e.blocks.size(); i++) h = torch.silu(conv(h, e.blocks.get(i), strides[i % 2]));
            h = conv(h, e.convOut, 1);
            assertTrue(torch.allclose(h, net.embedHint(hint), 1e-6, 1e-6, false));
            assertArrayEquals(new long[]{1, 32, 8, 8}, shape(h), "hint embedded at latent size with the UNet's first width");
        }
    }

    static Tensor conv(Tensor x, Conv2d c, int stride) {
        return torch.conv2d(x, c.weight.t(), new TensorOptional(c.bias.t()), new long[]{stride, stride}, new long[]{1, 1}, new long[]{1, 1}, 1);
    }

    @Test void guessModeScalesAreLogspaceFromATenthToOne() {
        float[] s = ControlNetModel.guessModeScales(13, 1.0);
        for (int k = 0; k < 13; k++) assertEquals(Math.pow(10, -1 + k / 12.0), s[k], 1e-6, "scale " + k);
        float[] half = ControlNetModel.guessModeScales(13, 0.5);
        for (int k = 0; k < 13; k++) assertEquals(s[k] * 0.5, half[k], 1e-7);

        try (PointerScope scope = new PointerScope()) {
            ControlNetModel net = TinyControl.controlNet(TinyControl.unet(1), 2);
            Inputs in = inputs(1);
            ControlNetModel.Residuals plain = net.forward(in.sample, in.t, in.context, in.hint, 0.8, false);
            ControlNetModel.Residuals guess = net.forward(in.sample, in.t, in.context, in.hint, 0.8, true);
            float[] g = ControlNetModel.guessModeScales(plain.down().size() + 1, 1.0);
            for (int i = 0; i < plain.down().size(); i++) {
                Tensor expected = plain.down().get(i).div(new Scalar(0.8)).mul(new Scalar(g[i] * 0.8));
                assertTrue(torch.allclose(expected, guess.down().get(i), 1e-5, 1e-6, false), "residual " + i);
            }
            assertTrue(torch.allclose(plain.mid(), guess.mid(), 1e-5, 1e-6, false), "the mid residual keeps scale 1");
        }
    }

    @Test void configRoundTripsThroughDiffusersJsonAndRejectsOtherClasses() {
        ControlNetConfig c = TinyControl.config();
        ControlNetConfig back = ControlNetConfig.parse(c.toJson(), "round trip");
        assertEquals(c.encoder().blockOutChannels(), back.encoder().blockOutChannels());
        assertEquals(c.encoder().downBlockTypes(), back.encoder().downBlockTypes());
        assertEquals(c.conditioningEmbeddingOutChannels(), back.conditioningEmbeddingOutChannels());
        assertEquals(2, back.hintDownscale());
        assertEquals(8, ControlNetConfig.parse("{\"_class_name\": \"ControlNetModel\"}", "defaults").hintDownscale(), "SD default (16, 32, 96, 256)");
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> ControlNetConfig.parse(org.ldm4j.pipeline.TinyStableDiffusion.UNET, "unet/config.json"));
        assertTrue(e.getMessage().contains("UNet2DConditionModel config, not a ControlNetModel"), e.getMessage());
        assertFalse(Arrays.asList(c.toJson().split("\"")).contains("up_block_types"));
        assertEquals(c.toJson(), back.toJson(), "every key diffusers takes survives the round trip");
    }

    /** diffusers' ControlNetModel refuses keys it does not take and per-block lists shorter than the down blocks. */
    @Test void configJsonHoldsOnlyDiffusersControlNetArguments() throws Exception {
        JsonNode json = new ObjectMapper()
                .readTree(TinyControl.config().toJson());
        json.fieldNames().forEachRemaining(k -> assertTrue(k.equals("_class_name") || ControlNetConfig.DIFFUSERS_KEYS.contains(k),
                "key " + k + " is not an argument of diffusers' ControlNetModel"));
        int blocks = json.get("down_block_types").size();
        for (String k : List.of("only_cross_attention", "layers_per_block", "cross_attention_dim",
                "transformer_layers_per_block", "attention_head_dim")) {
            JsonNode v = json.get(k);
            assertTrue(v != null && (!v.isArray() || v.size() == blocks), k + " = " + v);
        }
    }
}
