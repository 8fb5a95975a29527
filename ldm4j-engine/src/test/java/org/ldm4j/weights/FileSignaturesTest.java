package org.ldm4j.weights;

import org.bytedeco.pytorch.global.torch;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.*;

/** {@link WeightSource#open} by content: the formats ldm4j reads whatever their name, other files named for what they are. */
class FileSignaturesTest {
    @TempDir Path dir;

    @Test void otherKindsOfFileAreNamedWithTheFormatsRead() throws Exception {
        byte[] png = {(byte) 0x89, 'P', 'N', 'G', 0x0d, 0x0a, 0x1a, 0x0a, 0, 0, 0, 13, 'I', 'H', 'D', 'R', 0, 0, 0, 1};
        Map<String, byte[]> files = Map.of(
                "picture.png", png,
                "picture.ckpt", png,
                "photo.safetensors", new byte[]{(byte) 0xff, (byte) 0xd8, (byte) 0xff, (byte) 0xe0, 0, 16, 'J', 'F', 'I', 'F'},
                "model.safetensors.gz", new byte[]{0x1f, (byte) 0x8b, 8, 0, 0, 0, 0, 0, 0, 3},
                "notes.txt", "hello world\n".getBytes(StandardCharsets.UTF_8),
                "lfs.safetensors", "version https://git-lfs.github.com/spec/v1\noid sha256:ab\nsize 3\n".getBytes(StandardCharsets.UTF_8));
        Map<String, String> kinds = Map.of("picture.png", "a PNG image", "picture.ckpt", "a PNG image", "photo.safetensors", "a JPEG image",
                "model.safetensors.gz", "a gzip archive", "notes.txt", "a text file", "lfs.safetensors", "a Git LFS pointer");
        for (Map.Entry<String, byte[]> f : files.entrySet()) {
            Path p = Files.write(dir.resolve(f.getKey()), f.getValue());
            String m = assertThrows(WeightFormatException.class, () -> WeightSource.open(p)).getMessage();
            assertTrue(m.startsWith(p + " is " + kinds.get(f.getKey())) && m.contains(", not a checkpoint: ldm4j reads safetensors files (.safetensors) "
                    + "and zip-format PyTorch checkpoints (.ckpt, .pt, .pth, .bin)"), m);
        }
        Path unknown = Files.write(dir.resolve("weights.dat"), new byte[]{1, 2, 3, 4, 5, 6, 7, 8, 9, 0, 1, 2});
        String m = assertThrows(WeightFormatException.class, () -> WeightSource.open(unknown)).getMessage();
        assertTrue(m.startsWith(unknown + ": not a format ldm4j knows (it starts with bytes 01 02 03 04 05 06 07 08): ldm4j reads"), m);
    }

    /** Safetensors and PyTorch zips open whatever their names; a damaged .safetensors keeps its own detailed error. */
    @Test void weightsOpenByContentAndDamagedOnesKeepTheirErrors() throws Exception {
        Path st = dir.resolve("weights.bin");
        SafetensorsWriter.write(st, Map.of("w", torch.ones(2)));
        try (WeightSource w = WeightSource.open(st)) {
            assertInstanceOf(SafetensorsFile.class, w);
        }
        Path zip = dir.resolve("weights.safetensors");
        TorchZipWriter.write(zip, Map.of("w", torch.ones(2)));
        try (WeightSource w = WeightSource.open(zip)) {
            assertInstanceOf(TorchCheckpoint.class, w);
            assertTrue(w.contains("w"));
        }
        Path garbled = dir.resolve("garbled.safetensors");
        byte[] bytes = Files.readAllBytes(dir.resolve("weights.bin"));
        java.util.Arrays.fill(bytes, 0, 8, (byte) 0x7f);
        Files.write(garbled, bytes);
        assertTrue(assertThrows(WeightFormatException.class, () -> WeightSource.open(garbled)).getMessage().contains("header length"));
    }
}
