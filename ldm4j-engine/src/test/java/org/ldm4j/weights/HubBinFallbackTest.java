package org.ldm4j.weights;

import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.*;

/** A repository whose text encoder exists only as pytorch_model.bin: the .bin is fetched and read weights-only. */
class HubBinFallbackTest {
    @TempDir Path dir;

    @BeforeAll static void threads() { torch.set_num_threads(1); }

    @Test void binWeightsAreFetchedOnlyWhereNoSafetensorsExist() throws Exception {
        torch.manual_seed(3);
        Path remote = dir.resolve("remote");
        Map<String, Map<String, Tensor>> written = TinyModels.writeDiffusersFolder(remote);
        Files.delete(remote.resolve("text_encoder/model.safetensors"));
        TorchZipWriter.write(remote.resolve("text_encoder/pytorch_model.bin"), written.get("text_encoder"));
        Files.write(remote.resolve("unet/diffusion_pytorch_model.bin"), new byte[64]);          // safetensors exist: not needed
        Files.createDirectories(remote.resolve("safety_checker"));
        Files.write(remote.resolve("safety_checker/pytorch_model.bin"), new byte[64]);          // never needed
        Files.write(remote.resolve("v1-5-pruned.ckpt"), new byte[64]);
        try (HubTestServer server = new HubTestServer("org/bin-only", "0123456789abcdef0123456789abcdef01234567", remote)) {
            Path snap = server.hub(dir.resolve("cache")).pipeline("org/bin-only", "main", null);
            assertTrue(Files.exists(snap.resolve("text_encoder/pytorch_model.bin")));
            assertFalse(Files.exists(snap.resolve("unet/diffusion_pytorch_model.bin")));
            assertFalse(Files.exists(snap.resolve("safety_checker/pytorch_model.bin")));
            assertFalse(Files.exists(snap.resolve("v1-5-pruned.ckpt")));
            try (WeightSource te = DiffusersFolder.open(snap).weights("text_encoder")) {
                assertInstanceOf(TorchCheckpoint.class, te);
                DiffusersFolderTest.assertSameTensors(written.get("text_encoder"), te, Map.of());
            }
        }
    }
}
