package org.ldm4j.models.clip;

import org.bytedeco.pytorch.Device;
import org.bytedeco.pytorch.InferenceMode;
import org.bytedeco.pytorch.Scalar;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch;
import org.bytedeco.pytorch.global.torch.ScalarType;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.ldm4j.nn.Engine;
import org.ldm4j.nn.Rng;
import org.ldm4j.weights.SafetensorsWriter;
import org.ldm4j.weights.WeightFormatException;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.*;

class CLIPModelTest {
    /** The tiny CLIP's config with a vocabulary of 100 and end token 2 (configs written before transformers fixed it). */
    static final String TINY_JSON = TinyClip.JSON.formatted(100, 2);

    @TempDir static Path dir;

    @BeforeAll static void init() { Engine.threads(1); torch.manual_seed(0); }

    @Test void parsesBothTowersAndRefusesAConfigWithoutVision() {
        CLIPModel.Config c = CLIPModel.Config.parse(TINY_JSON);
        assertEquals(16, c.projectionDim());
        assertEquals(4, c.vision().gridSize());
        assertFalse(c.vision().causal());
        assertTrue(c.text().causal());
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> CLIPModel.Config.parse("{\"text_config\": {}}"));
        assertTrue(e.getMessage().contains("vision_config"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> CLIPModel.Config.parse(TINY_JSON.replace("\"patch_size\": 8", "\"patch_size\": 7")));
        assertTrue(e.getMessage().contains("patch_size"), e.getMessage());
    }

    @Test void loadsATransformersFolderWeightForWeight() throws Exception {
        CLIPModel written = TinyClip.write(dir.resolve("clip"));
        CLIPModel loaded = CLIPModel.load(dir.resolve("clip"), new Device("cpu"), ScalarType.Float);
        assertEquals(written.namedParameters().keySet(), loaded.namedParameters().keySet());
        assertTrue(written.namedParameters().containsKey("vision_model.pre_layrnorm.weight"), "transformers' spelling");
        for (String name : written.namedParameters().keySet()) {
            assertTrue(torch.equal(written.namedParameters().get(name).t(), loaded.namedParameters().get(name).t()), name);
        }
        // a missing weight is named
        Path broken = dir.resolve("broken");
        Files.createDirectories(broken);
        Files.copy(dir.resolve("clip/config.json"), broken.resolve("config.json"));
        Map<String, Tensor> partial = new LinkedHashMap<>(written.stateDict());
        partial.remove("visual_projection.weight");
        SafetensorsWriter.write(broken.resolve("model.safetensors"), partial, Map.of("format", "pt"));
        Exception e = assertThrows(Exception.class, () -> CLIPModel.load(broken, new Device("cpu"), ScalarType.Float));
        assertTrue(e.getMessage().contains("visual_projection.weight"), e.getMessage());
        assertThrows(WeightFormatException.class, () -> {
            Path empty = dir.resolve("noweights");
            Files.createDirectories(empty);
            Files.copy(dir.resolve("clip/config.json"), empty.resolve("config.json"));
            CLIPModel.load(empty, new Device("cpu"), ScalarType.Float);
        });
    }

    /** The patch embedding is a strided convolution: the same as cutting row-major patches and one matrix product. */
    @Test void patchesAreCutRowMajorAsAMatrixProduct() {
        try (InferenceMode im = new InferenceMode()) {
            CLIPModel model = new CLIPModel(CLIPModel.Config.parse(TINY_JSON));
            CLIPVisionEmbeddings emb = model.visionModel.embeddings;
            Tensor pixels = new Rng(1).randn(2, 3, 32, 32);
            Tensor out = emb.forward(pixels);                                                   // (2, 17, 24)
            assertArrayEquals(new long[]{2, 17, 24}, out.sizes().vec().get());
            // (B, 3, gy, 8, gx, 8) -> (B, gy, gx, 3, 8, 8) -> (B, 16, 192)
            Tensor patches = pixels.view(2, 3, 4, 8, 4, 8).permute(0, 2, 4, 1, 3, 5).reshape(2, 16, 3 * 8 * 8);
            Tensor byMatmul = patches.matmul(emb.patchEmbedding.weight.t().reshape(24, 3 * 8 * 8).t());
            Tensor positions = emb.positionEmbedding.weight.t();                                // (17, 24)
            Tensor expectedPatches = byMatmul.add(positions.narrow(0, 1, 16));
            assertTrue(out.narrow(1, 1, 16).sub(expectedPatches).abs().max().item_double() < 1e-5, "patch tokens");
            Tensor expectedClass = emb.classEmbedding.t().add(positions.get(0));
            assertTrue(out.get(1).get(0).sub(expectedClass).abs().max().item_double() < 1e-6, "class token first");
        }
    }

    /**
     * The vision tower attends to every patch (a change in the last patch reaches the class token's state), the text
     * tower only backwards (a change after a token never reaches it); each equals libtorch's SDPA on its projections.
     */
    @Test void visionAttendsEverywhereTextOnlyBackwards() {
        try (InferenceMode im = new InferenceMode()) {
            CLIPModel model = new CLIPModel(CLIPModel.Config.parse(TINY_JSON));
            CLIPAttention vision = model.visionModel.encoder.layers.items().get(0).selfAttn;
            CLIPAttention text = model.textModel.encoder.layers.items().get(0).selfAttn;
            Tensor xv = new Rng(2).randn(1, 17, 24), xt = new Rng(3).randn(1, 10, 32);
            for (Object[] c : new Object[][]{{vision, xv, false}, {text, xt, true}}) {
                CLIPAttention a = (CLIPAttention) c[0];
                Tensor x = (Tensor) c[1];
                boolean causal = (Boolean) c[2];
                long t = x.size(1), hidden = x.size(2);
                Tensor q = a.qProj.forward(x).view(1, t, a.heads, a.headDim).transpose(1, 2);
                Tensor k = a.kProj.forward(x).view(1, t, a.heads, a.headDim).transpose(1, 2);
                Tensor v = a.vProj.forward(x).view(1, t, a.heads, a.headDim).transpose(1, 2);
                Tensor ref = torch.scaled_dot_product_attention(q, k, v, new org.bytedeco.pytorch.TensorOptional(), 0.0, causal,
                        new org.bytedeco.pytorch.DoubleOptional(), false);
                Tensor expected = a.outProj.forward(ref.transpose(1, 2).reshape(1, t, hidden));
                Tensor got = a.forward(x, null);
                assertTrue(got.sub(expected).abs().max().item_double() < 1e-5, (causal ? "text" : "vision") + " vs SDPA");
                Tensor changed = x.clone();
                changed.narrow(1, t - 1, 1).add_(new Scalar(1.0));
                double firstMoves = a.forward(changed, null).get(0).get(0).sub(got.get(0).get(0)).abs().max().item_double();
                if (causal) assertEquals(0.0, firstMoves, "text: the first token does not see the last");
                else assertTrue(firstMoves > 1e-4, "vision: the class token sees the last patch");
            }
        }
    }

    @Test void embeddingsHaveTheProjectionSizeAndCosineIsNormalised() {
        try (InferenceMode im = new InferenceMode()) {
            CLIPModel model = new CLIPModel(CLIPModel.Config.parse(TINY_JSON));
            Tensor image = model.imageEmbeds(new Rng(4).randn(3, 3, 32, 32));
            Tensor ids = torch.full(new long[]{2, 77}, new Scalar(2)).to(ScalarType.Long);
            ids.narrow(1, 0, 5).copy_(new Rng(5).rand(2, 5).mul(new Scalar(90)).add(new Scalar(3)).to(ScalarType.Long));
            Tensor text = model.textEmbeds(ids);
            assertArrayEquals(new long[]{3, 16}, image.sizes().vec().get());
            assertArrayEquals(new long[]{2, 16}, text.sizes().vec().get());
            Tensor cos = CLIPModel.cosine(image, text);
            assertArrayEquals(new long[]{3, 2}, cos.sizes().vec().get());
            assertTrue(cos.abs().max().item_double() <= 1.0 + 1e-6);
            assertEquals(1.0, CLIPModel.cosine(image, image.mul(new Scalar(3.0))).diagonal().min().item_double(), 1e-5, "scale-free");
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> model.imageEmbeds(torch.zeros(1, 3, 64, 64)));
            assertTrue(e.getMessage().contains("32"), e.getMessage());
        }
    }
}
