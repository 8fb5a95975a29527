package org.ldm4j.weights;

import com.code_intelligence.jazzer.junit.DictionaryEntries;
import com.code_intelligence.jazzer.junit.FuzzTest;
import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.Tensor;
import org.junit.jupiter.api.BeforeAll;
import org.ldm4j.reliability.FuzzContract;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Fuzzes {@link SafetensorsFile#open} and {@link SafetensorsFile#read} with arbitrary file bytes (header length,
 * JSON, dtypes, shapes, offsets, data). Contract ({@link WeightFormatException} javadoc): a bad file is a
 * WeightFormatException with a message; a file that opens reads every tensor with exactly its declared shape, and
 * the declared tensors together never take more bytes than the file has (so no input can make us allocate more
 * than its own size). Corpus: {@code src/test/resources/org/ldm4j/weights/SafetensorsFileFuzzTestInputs/}.
 */
class SafetensorsFileFuzzTest {
    private static Path file;

    @BeforeAll static void setUp() throws IOException {
        file = FuzzContract.scratchFile(".safetensors");
    }

    @FuzzTest(maxDuration = "5m")
    @DictionaryEntries({"\"dtype\"", "\"shape\"", "\"data_offsets\"", "\"__metadata__\"", "\"F32\"", "\"F16\"",
            "\"BF16\"", "\"I64\"", "\"BOOL\"", "\"F8_E4M3\"", "\"U64\"", "9223372036854775807", "18446744073709551615", "-1"})
    void openAndReadEverything(byte[] bytes) throws IOException {
        Files.write(file, bytes);
        FuzzContract.check("SafetensorsFile", () -> {
            try (SafetensorsFile f = SafetensorsFile.open(file)) {
                long total = 0;
                for (String name : f.names()) {
                    TensorInfo info = f.info(name);
                    total += info.byteSize();
                    assertTrue(total <= bytes.length, "declared tensors exceed the file size");
                    try (PointerScope scope = new PointerScope()) {
                        Tensor t = f.read(name);
                        assertEquals(Arrays.toString(info.shape()), Arrays.toString(t.sizes().vec().get()), name);
                        assertEquals(SafetensorsDtype.of(info.dtype()).scalarType().value, t.scalar_type().value, name);
                    }
                }
                f.metadata().forEach((k, v) -> assertTrue(k != null && v != null));
            }
        }, WeightFormatException.class, UncheckedIOException.class);
    }
}
