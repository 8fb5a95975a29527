package org.ldm4j.pipeline;

import org.bytedeco.pytorch.InferenceMode;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch.ScalarType;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.ldm4j.nn.Dtypes;
import org.ldm4j.nn.Engine;
import org.ldm4j.weights.HubTestServer;
import org.ldm4j.weights.WeightFormatException;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.*;

/**
 * Issue 2: one tiny model loaded through every path (diffusers folder, single-file LDM .safetensors with a config
 * folder and a tokenizer beside it, the same as a torch.save .ckpt read weights-only, and the Hugging Face cache after
 * a download from a local Hub server) gives bit-identical txt2img pixels.
 */
class LoaderEquivalenceTest {
    static final String REPO = "tiny-org/tiny-sd";
    static final String COMMIT = "89abcdef0123456789abcdef0123456789abcdef";

    @TempDir static Path dir;

    @BeforeAll static void threads() { Engine.threads(1); }

    static Tensor generate(StableDiffusion sd, long seed) {
        GenerationRequest r = new GenerationRequest("txt2img", "tiny", "a red house beside a tree", "", 16, 16, 3, 5.0,
                "ddim", seed, 1, 0, 0, null, null);
        try (InferenceMode im = new InferenceMode()) {
            return Txt2Img.run(sd, r, List.of(), null).get(0);
        }
    }

    static StableDiffusion load(String spec, ModelLoader.Options options) throws IOException {
        return ModelLoader.load(spec, options, Dtypes.device("cpu"), ScalarType.Float);
    }

    @Test void everyLoaderPathGivesIdenticalPixels() throws Exception {
        Path safetensors = TinyStableDiffusion.writeSingleFile(dir.resolve("st"), 0, "tiny.safetensors");
        Path ckpt = TinyStableDiffusion.writeSingleFile(dir.resolve("ck"), 0, "tiny.ckpt");
        Path folder = dir.resolve("st/diffusers");
        ModelLoader.Options none = ModelLoader.Options.defaults();

        Map<String, Tensor> images = new LinkedHashMap<>();
        images.put("diffusers folder", generate(load(folder.toString(), none), 7));
        images.put("single .safetensors", generate(load(safetensors.toString(), none.withConfigFrom(dir.resolve("st/configs"))), 7));
        images.put("single .ckpt", generate(load(ckpt.toString(), none.withConfigFrom(dir.resolve("ck/configs"))), 7));
        try (HubTestServer hub = new HubTestServer(REPO, COMMIT, folder)) {
            Path cache = dir.resolve("hf/hub");
            images.put("hub cache", generate(load(REPO, none.withHub(hub.hub(cache))), 7));
            assertTrue(Files.isSymbolicLink(cache.resolve("models--tiny-org--tiny-sd/snapshots/" + COMMIT + "/unet/diffusion_pytorch_model.safetensors")));
            assertTrue(hub.requests().stream().anyMatch(r -> r.startsWith("GET /" + REPO + "/resolve/")), hub.requests().toString());
        }

        Tensor reference = images.get("diffusers folder");
        assertArrayEquals(new long[]{1, 3, 16, 16}, reference.sizes().vec().get());
        assertTrue(reference.std().item_double() > 1e-3, "a flat image would make the comparison meaningless");
        images.forEach((path, img) -> assertTrue(img.equal(reference), path + " differs from the diffusers folder"));

        // the weights matter: another seed's model gives other pixels through the same path
        Path seed1 = TinyStableDiffusion.write(dir.resolve("seed1"), 1);
        Tensor other = generate(load(seed1.toString(), none), 7);
        assertFalse(other.equal(reference));
    }

    @Test void singleFileNeedsItsConfigsAndATokenizer() throws Exception {
        Path file = TinyStableDiffusion.writeSingleFile(dir.resolve("errors"), 0, "tiny.safetensors");
        ModelLoader.Options none = ModelLoader.Options.defaults();
        // with the bundled SD 1.5 configs the tiny tensors have the wrong shapes, named one by one
        WeightFormatException e = assertThrows(WeightFormatException.class, () -> load(file.toString(), none));
        assertTrue(e.getMessage().contains("wrong shape") || e.getMessage().contains("missing"), e.getMessage());

        Files.delete(file.resolveSibling("tokenizer/vocab.json"));
        e = assertThrows(WeightFormatException.class, () -> load(file.toString(), none.withConfigFrom(dir.resolve("errors/configs"))));
        assertTrue(e.getMessage().contains("vocab.json"), e.getMessage());
        Path nowhere = dir.resolve("no-tokenizer");
        e = assertThrows(WeightFormatException.class,
                () -> load(file.toString(), none.withConfigFrom(dir.resolve("errors/diffusers")).withTokenizer(nowhere)));
        assertTrue(e.getMessage().contains(nowhere.toString()), e.getMessage());
        // the config folder's own tokenizer/ is the last fallback: the diffusers folder has one
        StableDiffusion sd = load(file.toString(), none.withConfigFrom(dir.resolve("errors/diffusers")));
        assertEquals(2, sd.vaeScaleFactor());

        IllegalArgumentException wrongUse = assertThrows(IllegalArgumentException.class,
                () -> load(dir.resolve("errors/diffusers").toString(), none.withConfigFrom(dir.resolve("errors/configs"))));
        assertTrue(wrongUse.getMessage().contains("single-file"), wrongUse.getMessage());
    }
}
