package org.ldm4j.weights;

import com.code_intelligence.jazzer.junit.DictionaryEntries;
import com.code_intelligence.jazzer.junit.FuzzTest;
import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch;
import org.junit.jupiter.api.BeforeAll;
import org.ldm4j.reliability.FuzzContract;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.zip.CRC32;
import java.util.zip.ZipEntry;
import java.util.zip.ZipOutputStream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Fuzzes the weights-only checkpoint reader ({@link TorchCheckpoint} over {@link PickleReader}). Two targets:
 * <ul>
 *   <li>{@code rawFile}: arbitrary file bytes (zip structure, entries, sizes);</li>
 *   <li>{@code pickleInValidZip}: the fuzz input is {@code archive/data.pkl} of an otherwise valid torch.save zip
 *       with two stored storages ({@code data/0}: 64 bytes, {@code data/1}: 8 bytes), so the fuzzer spends its time in
 *       the pickle VM, the allow-list, persistent ids and view bounds.</li>
 * </ul>
 * Contract (class javadoc of TorchCheckpoint): {@link WeightFormatException} with a message on open, an
 * {@link UncheckedIOException} at most from a read of a corrupt entry; every tensor that opens reads with its
 * declared shape, and no tensor is bigger than the file (views may not have more elements than their storage).
 */
class TorchCheckpointFuzzTest {
    private static Path file;

    @BeforeAll static void setUp() throws IOException {
        file = FuzzContract.scratchFile(".pt");
    }

    @FuzzTest(maxDuration = "5m")
    void rawFile(byte[] bytes) throws IOException {
        Files.write(file, bytes);
        openAndReadEverything(bytes.length);
    }

    @FuzzTest(maxDuration = "5m")
    @DictionaryEntries({"torch._utils", "_rebuild_tensor_v2", "_rebuild_parameter", "collections", "OrderedDict", "torch",
            "FloatStorage", "HalfStorage", "LongStorage", "storage", "cpu", "state_dict", "builtins", "eval"})
    void pickleInValidZip(byte[] pickle) throws IOException {
        byte[] zip = zip(pickle);
        Files.write(file, zip);
        openAndReadEverything(zip.length);
    }

    private static void openAndReadEverything(long fileSize) {
        FuzzContract.check("TorchCheckpoint", () -> {
            try (TorchCheckpoint c = TorchCheckpoint.open(file)) {
                for (String name : c.names()) {
                    TensorInfo info = c.info(name);
                    assertTrue(info.byteSize() <= fileSize, name + ": " + info + " is larger than the " + fileSize + "-byte file");
                    try (PointerScope scope = new PointerScope()) {
                        Tensor t = c.read(name);
                        assertEquals(Arrays.toString(info.shape()), Arrays.toString(t.sizes().vec().get()), name);
                    }
                }
            }
        }, WeightFormatException.class, UncheckedIOException.class);
    }

    /** A torch.save zip around {@code pickle}: stored entries, as PyTorch writes them. */
    static byte[] zip(byte[] pickle) throws IOException {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        try (ZipOutputStream z = new ZipOutputStream(bytes)) {
            stored(z, "archive/data.pkl", pickle);
            stored(z, "archive/byteorder", "little".getBytes(StandardCharsets.US_ASCII));
            stored(z, "archive/data/0", new byte[64]);
            stored(z, "archive/data/1", new byte[8]);
            stored(z, "archive/version", "3\n".getBytes(StandardCharsets.US_ASCII));
        }
        return bytes.toByteArray();
    }

    private static void stored(ZipOutputStream z, String name, byte[] data) throws IOException {
        ZipEntry e = new ZipEntry(name);
        e.setMethod(ZipEntry.STORED);
        e.setSize(data.length);
        e.setCompressedSize(data.length);
        CRC32 crc = new CRC32();
        crc.update(data);
        e.setCrc(crc.getValue());
        z.putNextEntry(e);
        z.write(data);
        z.closeEntry();
    }
}
