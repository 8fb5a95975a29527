package org.ldm4j.weights;

import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;

import static org.junit.jupiter.api.Assertions.*;

class DiffusersFolderTest {
    @TempDir Path dir;

    @BeforeAll static void threads() { torch.set_num_threads(1); }

    /** Checks every component of a folder written by {@link TinyModels#writeDiffusersFolder} (also used by HfHubTest). */
    static void assertLoadsLikeWritten(Path root, Map<String, Map<String, Tensor>> written) throws IOException {
        DiffusersFolder folder = DiffusersFolder.open(root);
        assertEquals(Set.of("scheduler", "text_encoder", "tokenizer", "unet", "vae"), folder.components());
        assertEquals("UNet2DConditionModel", folder.componentClass("unet"));
        assertEquals(1, folder.config("unet").get("layers_per_block").intValue());
        assertEquals("DDIMScheduler", folder.config("scheduler").get("_class_name").textValue());
        assertEquals(77, folder.config("tokenizer").get("model_max_length").intValue());
        for (String component : new String[]{"unet", "text_encoder"}) {
            try (WeightSource w = folder.weights(component)) {
                assertSameTensors(written.get(component), w, Map.of());
            }
        }
        Map<String, String> modern = Map.of("encoder.mid_block.attentions.0.query.weight", "encoder.mid_block.attentions.0.to_q.weight",
                "encoder.mid_block.attentions.0.query.bias", "encoder.mid_block.attentions.0.to_q.bias",
                "encoder.mid_block.attentions.0.key.weight", "encoder.mid_block.attentions.0.to_k.weight",
                "encoder.mid_block.attentions.0.value.weight", "encoder.mid_block.attentions.0.to_v.weight",
                "encoder.mid_block.attentions.0.proj_attn.weight", "encoder.mid_block.attentions.0.to_out.0.weight");
        try (WeightSource vae = folder.weights("vae")) {
            assertSameTensors(written.get("vae"), vae, modern);
        }
        try (WeightSource vae = folder.weights("vae", "fp16")) {
            assertEquals("F16", vae.info("encoder.mid_block.attentions.0.to_q.weight").dtype());
            assertSameTensors(written.get("vae.fp16"), vae, modern);
        }
    }

    static void assertSameTensors(Map<String, Tensor> expected, WeightSource source, Map<String, String> renamed) {
        Set<String> names = new TreeSet<>();
        for (String n : expected.keySet()) names.add(renamed.getOrDefault(n, n));
        assertEquals(names, new TreeSet<>(source.names()));
        for (Map.Entry<String, Tensor> e : expected.entrySet()) {
            try (Tensor t = source.read(renamed.getOrDefault(e.getKey(), e.getKey()))) {
                assertTrue(t.equal(e.getValue()), e.getKey());
            }
        }
    }

    @Test void loadsShardedLegacyAndVariantWeights() throws IOException {
        torch.manual_seed(0);
        Path root = dir.resolve("tiny-sd");
        assertLoadsLikeWritten(root, TinyModels.writeDiffusersFolder(root));
    }

    @Test void clearErrorsForMissingPartsAndPickles() throws IOException {
        torch.manual_seed(0);
        Path root = dir.resolve("tiny-sd");
        TinyModels.writeDiffusersFolder(root);
        DiffusersFolder folder = DiffusersFolder.open(root);

        WeightFormatException e = assertThrows(WeightFormatException.class, () -> folder.weights("safety_checker"));
        assertTrue(e.getMessage().contains("no component 'safety_checker'"), e.getMessage());

        e = assertThrows(WeightFormatException.class, () -> folder.weights("text_encoder", "fp16"));
        assertTrue(e.getMessage().contains("model.fp16.safetensors") && e.getMessage().contains("variant 'fp16'"), e.getMessage());

        Files.delete(root.resolve("text_encoder/model.safetensors"));
        Files.write(root.resolve("text_encoder/pytorch_model.bin"), new byte[]{(byte) 0x80, 2, '}', '.'});
        e = assertThrows(WeightFormatException.class, () -> folder.weights("text_encoder"));
        // .bin files are read weights-only now (TorchCheckpointTest); a pre-1.6 bare pickle is refused by name
        assertTrue(e.getMessage().contains("pytorch_model.bin") && e.getMessage().contains("legacy"), e.getMessage());

        Files.delete(root.resolve("text_encoder/pytorch_model.bin"));
        e = assertThrows(WeightFormatException.class, () -> folder.weights("text_encoder"));
        assertTrue(e.getMessage().contains("no weights found"), e.getMessage());

        Files.delete(root.resolve("unet/config.json"));
        e = assertThrows(WeightFormatException.class, () -> folder.config("unet"));
        assertTrue(e.getMessage().contains("no config file"), e.getMessage());

        Files.delete(root.resolve("unet/diffusion_pytorch_model-00002-of-00002.safetensors"));
        e = assertThrows(WeightFormatException.class, () -> folder.weights("unet"));
        assertTrue(e.getMessage().contains("shard diffusion_pytorch_model-00002-of-00002.safetensors is missing"), e.getMessage());

        e = assertThrows(WeightFormatException.class, () -> DiffusersFolder.open(dir));
        assertTrue(e.getMessage().contains("model_index.json is missing"), e.getMessage());
    }

    @Test void shardIndexMustAgreeWithShards() throws IOException {
        Path unet = dir.resolve("unet");
        SafetensorsWriter.write(unet.resolve("a.safetensors"), Map.of("x", torch.zeros(1)));
        TinyModels.json(unet.resolve("diffusion_pytorch_model.safetensors.index.json"), "{\"weight_map\":{\"x\":\"a.safetensors\",\"y\":\"a.safetensors\"}}");
        WeightFormatException e = assertThrows(WeightFormatException.class, () -> DiffusersFolder.findWeights(unet, null));
        assertTrue(e.getMessage().contains("'y'"), e.getMessage());
        TinyModels.json(unet.resolve("diffusion_pytorch_model.safetensors.index.json"), "{\"weight_map\":{\"x\":\"../a.safetensors\"}}");
        e = assertThrows(WeightFormatException.class, () -> DiffusersFolder.findWeights(unet, null));
        assertTrue(e.getMessage().contains("invalid shard file name"), e.getMessage());
    }

    @Test void variantNamesFollowDiffusers() {
        assertEquals("model.fp16.safetensors", DiffusersFolder.withVariant("model.safetensors", "fp16"));
        assertEquals("diffusion_pytorch_model.safetensors.index.fp16.json",
                DiffusersFolder.withVariant("diffusion_pytorch_model.safetensors.index.json", "fp16"));
        assertEquals("model.safetensors", DiffusersFolder.withVariant("model.safetensors", null));
    }
}
