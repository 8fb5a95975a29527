package org.ldm4j.models.clip;

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

import java.util.Map;

import static org.junit.jupiter.api.Assertions.*;

class CLIPTextModelTest {
    /** text_encoder/config.json of stable-diffusion-v1-5, with the keys the engine ignores. */
    static final String SD15_JSON = """
            {"_name_or_path": "openai/clip-vit-large-patch14", "architectures": ["CLIPTextModel"],
             "attention_dropout": 0.0, "bos_token_id": 0, "dropout": 0.0, "eos_token_id": 2, "hidden_act": "quick_gelu",
             "hidden_size": 768, "initializer_factor": 1.0, "initializer_range": 0.02, "intermediate_size": 3072,
             "layer_norm_eps": 1e-05, "max_position_embeddings": 77, "model_type": "clip_text_model",
             "num_attention_heads": 12, "num_hidden_layers": 12, "pad_token_id": 1, "projection_dim": 768,
             "torch_dtype": "float32", "transformers_version": "4.22.0.dev0", "vocab_size": 49408}
            """;

    static final int VOCAB = 100, EOS = 99;

    @BeforeAll static void init() { Engine.threads(1); torch.manual_seed(0); }

    static CLIPTextConfig tiny(int layers, int eos) {
        return new CLIPTextConfig(VOCAB, 32, 64, layers, 4, 77, "quick_gelu", 1e-5, 98, eos, 1);
    }

    static double maxAbsDiff(Tensor a, Tensor b) { return a.sub(b).abs().max().item_double(); }

    static long[] shape(Tensor t) { return t.sizes().vec().get(); }

    /** (B, 77) ids: BOS, a few words, EOS at {@code eosAt[b]}, then {@code pad} repeated. */
    static Tensor ids(int[] eosAt, long pad, long seed) {
        Tensor words = new Rng(seed).rand(eosAt.length, 77).mul(new Scalar(90)).add(new Scalar(2)).to(ScalarType.Long);
        for (int b = 0; b < eosAt.length; b++) {
            words.get(b).get(0).fill_(new Scalar(98));
            words.get(b).get(eosAt[b]).fill_(new Scalar(EOS));
            for (int i = eosAt[b] + 1; i < 77; i++) words.get(b).get(i).fill_(new Scalar(pad));
        }
        return words;
    }

    @Test void parsesTheSd15Config() {
        CLIPTextConfig c = CLIPTextConfig.parse(SD15_JSON);
        assertEquals(CLIPTextConfig.sd1(), c);
        assertEquals(64, c.headDim());
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> CLIPTextConfig.parse(SD15_JSON.replace("quick_gelu", "relu")));
        assertTrue(e.getMessage().contains("hidden_act"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class,
                () -> CLIPTextConfig.parse(SD15_JSON.replace("\"num_attention_heads\": 12", "\"num_attention_heads\": 7")));
        assertTrue(e.getMessage().contains("num_attention_heads"), e.getMessage());
    }

    @Test void sd1TextEncoderHas196TensorsAnd123_06MParameters() {
        CLIPTextModel m = Block.withoutInit(() -> new CLIPTextModel(CLIPTextConfig.sd1()));
        Map<String, Param> p = m.namedParameters();
        assertEquals(196, p.size());
        assertEquals(123_060_480L, m.parameterCount());   // transformers num_parameters() of CLIP ViT-L/14's text model
        assertArrayEquals(new long[]{49408, 768}, p.get("text_model.embeddings.token_embedding.weight").shape());
        assertArrayEquals(new long[]{77, 768}, p.get("text_model.embeddings.position_embedding.weight").shape());
        assertArrayEquals(new long[]{768, 768}, p.get("text_model.encoder.layers.11.self_attn.q_proj.weight").shape());
        assertArrayEquals(new long[]{768}, p.get("text_model.encoder.layers.0.self_attn.out_proj.bias").shape());
        assertArrayEquals(new long[]{3072, 768}, p.get("text_model.encoder.layers.5.mlp.fc1.weight").shape());
        assertArrayEquals(new long[]{768, 3072}, p.get("text_model.encoder.layers.5.mlp.fc2.weight").shape());
        assertTrue(p.containsKey("text_model.encoder.layers.3.layer_norm1.weight"));
        assertTrue(p.containsKey("text_model.encoder.layers.3.layer_norm2.bias"));
        assertTrue(p.containsKey("text_model.final_layer_norm.weight"));
        assertFalse(p.containsKey("text_model.embeddings.position_ids"));
    }

    @Test void tensorCountIs4Plus16PerLayer() {
        for (int layers : new int[]{1, 5}) {
            CLIPTextModel m = new CLIPTextModel(tiny(layers, EOS));
            assertEquals(4 + 16 * layers, m.namedParameters().size());
        }
    }

    @Test void forwardShapes() {
        CLIPTextModel m = new CLIPTextModel(tiny(5, EOS));
        try (NoGradGuard g = new NoGradGuard()) {
            CLIPTextModel.Output out = m.forward(ids(new int[]{5, 9}, 1, 1));
            assertArrayEquals(new long[]{2, 77, 32}, shape(out.lastHiddenState()));
            assertArrayEquals(new long[]{2, 32}, shape(out.pooledOutput()));
            assertEquals(6, out.hiddenStates().size());
            // the last entry is the last layer before the final norm
            assertEquals(0.0, maxAbsDiff(m.textModel.finalLayerNorm.forward(out.hiddenStates().get(5)), out.lastHiddenState()));
        }
    }

    @Test void causalAttentionEqualsMaskedSoftmaxReference() {
        CLIPTextConfig c = tiny(1, EOS);
        CLIPAttention attn = new CLIPAttention(c);
        Tensor x = new Rng(2).randn(2, 7, 32);
        Tensor padding = torch.ones(2, 7);
        padding.get(1).narrow(0, 5, 2).fill_(new Scalar(0));   // second sequence: last two tokens are padding
        try (NoGradGuard g = new NoGradGuard()) {
            Tensor causal = attn.forward(x, null);
            Tensor ref = reference(attn, x, null);
            assertTrue(maxAbsDiff(causal, ref) < 1e-5, "causal diff " + maxAbsDiff(causal, ref));
            Tensor padded = attn.forward(x, CLIPTextTransformer.additiveCausalMask(padding, 7));
            Tensor refPadded = reference(attn, x, padding);
            assertTrue(maxAbsDiff(padded, refPadded) < 1e-5, "padded diff " + maxAbsDiff(padded, refPadded));
            // the padding changes the second sequence's late tokens, not the first sequence
            assertEquals(0.0, maxAbsDiff(padded.get(0), causal.get(0)), 1e-6);
            assertTrue(maxAbsDiff(padded.get(1).narrow(0, 5, 2), causal.get(1).narrow(0, 5, 2)) > 1e-4);
        }
    }

    @Test void quickGeluIsXTimesSigmoidOf1702X() {
        float[] xs = {-3, -1, -0.25f, 0, 0.5f, 1, 2.5f};
        Tensor x = torch.tensor(xs);
        Tensor y = CLIPMLP.quickGelu(x);
        for (int i = 0; i < xs.length; i++) {
            double expected = xs[i] / (1 + Math.exp(-1.702 * xs[i]));
            assertEquals(expected, y.get(i).item_double(), 1e-6, "x = " + xs[i]);
        }
    }

    @Test void poolingPicksTheEndTokenBothWays() {
        try (NoGradGuard g = new NoGradGuard()) {
            Tensor input = ids(new int[]{4, 11}, EOS, 3);   // padded with EOS, like SD 1.x's tokenizer
            // eos_token_id = 99: the first EOS; eos_token_id = 2 (old configs): the largest id, which is also the first EOS
            for (int eos : new int[]{EOS, 2}) {
                CLIPTextModel m = new CLIPTextModel(tiny(2, eos));
                CLIPTextModel.Output out = m.forward(input);
                assertEquals(0.0, maxAbsDiff(out.pooledOutput().get(0), out.lastHiddenState().get(0).get(4)));
                assertEquals(0.0, maxAbsDiff(out.pooledOutput().get(1), out.lastHiddenState().get(1).get(11)));
            }
            // when the end token is not the largest id the two rules differ: argmax finds BOS (98) at position 0
            CLIPTextModel modern = new CLIPTextModel(tiny(2, 50));
            CLIPTextModel legacy = new CLIPTextModel(tiny(2, 2));
            Map<String, Param> src = modern.namedParameters();
            legacy.namedParameters().forEach((name, p) -> p.set(src.get(name).t().clone()));
            Tensor endIs50 = ids(new int[]{4}, 50, 7);
            endIs50.get(0).get(4).fill_(new Scalar(50));
            CLIPTextModel.Output a = modern.forward(endIs50), b = legacy.forward(endIs50);
            assertEquals(0.0, maxAbsDiff(a.pooledOutput().get(0), a.lastHiddenState().get(0).get(4)));
            assertEquals(0.0, maxAbsDiff(b.pooledOutput().get(0), b.lastHiddenState().get(0).get(0)));
        }
    }

    @Test void clipSkipTakesTheEarlierLayerThroughTheFinalNorm() {
        CLIPTextModel five = new CLIPTextModel(tiny(5, EOS));
        // the same weights without the last layer: its output is what clip_skip=1 must give
        CLIPTextModel four = new CLIPTextModel(tiny(4, EOS));
        Map<String, Param> src = five.namedParameters();
        four.namedParameters().forEach((name, p) -> p.set(src.get(name).t().clone()));
        try (NoGradGuard g = new NoGradGuard()) {
            Tensor input = ids(new int[]{6}, EOS, 4);
            Tensor skip1 = five.promptEmbeds(input, 1);
            assertTrue(maxAbsDiff(skip1, four.forward(input).lastHiddenState()) < 1e-6);
            assertEquals(0.0, maxAbsDiff(five.promptEmbeds(input, 0), five.forward(input).lastHiddenState()));
            assertTrue(maxAbsDiff(skip1, five.promptEmbeds(input, 0)) > 1e-3);
            assertThrows(IllegalArgumentException.class, () -> five.promptEmbeds(input, 5));
        }
    }

    @Test void paddingAfterTheEndTokenDoesNotChangeEarlierStates() {
        CLIPTextModel m = new CLIPTextModel(tiny(3, EOS));
        try (NoGradGuard g = new NoGradGuard()) {
            int eosAt = 8;
            CLIPTextModel.Output a = m.forward(ids(new int[]{eosAt}, EOS, 5));   // padded with EOS
            CLIPTextModel.Output b = m.forward(ids(new int[]{eosAt}, 0, 5));     // padded with another id
            for (int layer = 0; layer < a.hiddenStates().size(); layer++) {
                assertTrue(maxAbsDiff(a.hiddenStates().get(layer).get(0).narrow(0, 0, eosAt + 1),
                        b.hiddenStates().get(layer).get(0).narrow(0, 0, eosAt + 1)) < 1e-6, "layer " + layer);
            }
            assertTrue(maxAbsDiff(a.pooledOutput(), b.pooledOutput()) < 1e-6);
            assertTrue(maxAbsDiff(a.lastHiddenState().get(0).narrow(0, eosAt + 1, 10), b.lastHiddenState().get(0).narrow(0, eosAt + 1, 10)) > 1e-4,
                    "the padding itself differs");
            // an explicit padding mask leaves the states up to the end token unchanged as well
            Tensor mask = torch.ones(1, 77);
            mask.get(0).narrow(0, eosAt + 1, 77 - eosAt - 1).fill_(new Scalar(0));
            Tensor masked = m.forward(ids(new int[]{eosAt}, 0, 5), mask).lastHiddenState();
            assertTrue(maxAbsDiff(masked.get(0).narrow(0, 0, eosAt + 1), b.lastHiddenState().get(0).narrow(0, 0, eosAt + 1)) < 1e-5);
        }
    }

    @Test void bf16RunsWithFp32Attention() {
        CLIPTextModel m = new CLIPTextModel(tiny(2, EOS));
        try (NoGradGuard g = new NoGradGuard()) {
            Tensor input = ids(new int[]{6, 3}, EOS, 6);
            Tensor ref = m.forward(input).lastHiddenState();
            m.to(Dtypes.device("cpu"), ScalarType.BFloat16);
            Tensor low = m.forward(input).lastHiddenState();
            assertTrue(Dtypes.same(low.scalar_type(), ScalarType.BFloat16));
            double rel = low.to(ScalarType.Float).sub(ref).norm().item_double() / ref.norm().item_double();
            assertTrue(rel < 0.05, "relative error " + rel);
        }
    }

    /** softmax((QKᵀ)/√d + mask) V per head, with -inf above the diagonal and on padded keys. */
    static Tensor reference(CLIPAttention attn, Tensor x, Tensor padding) {
        long b = x.size(0), t = x.size(1);
        int h = attn.heads, d = attn.headDim;
        Tensor q = torch.linear(x, attn.qProj.weight.t(), new TensorOptional(attn.qProj.bias.t())).view(b, t, h, d).transpose(1, 2);
        Tensor k = torch.linear(x, attn.kProj.weight.t(), new TensorOptional(attn.kProj.bias.t())).view(b, t, h, d).transpose(1, 2);
        Tensor v = torch.linear(x, attn.vProj.weight.t(), new TensorOptional(attn.vProj.bias.t())).view(b, t, h, d).transpose(1, 2);
        Tensor scores = q.matmul(k.transpose(2, 3)).div(new Scalar(Math.sqrt(d)));   // (B, H, T, T)
        float[] mask = new float[(int) (b * t * t)];
        for (int bi = 0; bi < b; bi++) for (int i = 0; i < t; i++) for (int j = 0; j < t; j++) {
            boolean masked = j > i || (padding != null && padding.get(bi).get(j).item_double() == 0);
            mask[(int) ((bi * t + i) * t + j)] = masked ? Float.NEGATIVE_INFINITY : 0f;
        }
        Tensor m = torch.zeros(b, 1, t, t);
        for (int idx = 0; idx < mask.length; idx++) if (mask[idx] != 0f) m.view(-1).get(idx).fill_(new Scalar(Double.NEGATIVE_INFINITY));
        Tensor o = scores.add(m).softmax(-1).matmul(v).transpose(1, 2).reshape(b, t, (long) h * d);
        return torch.linear(o, attn.outProj.weight.t(), new TensorOptional(attn.outProj.bias.t()));
    }
}
