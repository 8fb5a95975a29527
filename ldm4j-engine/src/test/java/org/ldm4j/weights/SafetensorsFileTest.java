package org.ldm4j.weights;

import org.bytedeco.javacpp.FloatPointer;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch;
import org.bytedeco.pytorch.global.torch.ScalarType;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.Channels;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.*;

class SafetensorsFileTest {
    @TempDir Path dir;

    @BeforeAll static void threads() { torch.set_num_threads(1); }

    /** u64 LE header length + header bytes + {@code dataBytes} zero bytes. */
    static byte[] file(byte[] header, long declaredLength, int dataBytes) {
        ByteBuffer b = ByteBuffer.allocate(8 + header.length + dataBytes).order(ByteOrder.LITTLE_ENDIAN);
        b.putLong(declaredLength).put(header);
        return b.array();
    }

    static byte[] file(String header, int dataBytes) {
        byte[] h = header.getBytes(StandardCharsets.UTF_8);
        return file(h, h.length, dataBytes);
    }

    static Arguments bad(String label, byte[] content, String expected) { return Arguments.of(label, content, expected); }

    static String t(String name, String dtype, String shape, long b, long e) {
        return "\"" + name + "\":{\"dtype\":\"" + dtype + "\",\"shape\":" + shape + ",\"data_offsets\":[" + b + "," + e + "]}";
    }

    static Stream<Arguments> malformed() {
        return Stream.of(
                bad("shorter than 8 bytes", new byte[4], "shorter than the 8-byte"),
                bad("header longer than file", file("{}".getBytes(StandardCharsets.UTF_8), 50, 0), "exceeds the file size"),
                bad("header over 100 MB", file("{}".getBytes(StandardCharsets.UTF_8), 100_000_001L, 0), "100 MB"),
                bad("header length u64 max", file("{}".getBytes(StandardCharsets.UTF_8), -1L, 0), "100 MB"),
                bad("invalid UTF-8", file(new byte[]{'{', '"', (byte) 0xC3, (byte) 0x28, '"', ':', '1', '}'}, 8, 0), "UTF-8"),
                bad("invalid JSON", file("{\"a\":", 0), "not valid JSON"),
                bad("trailing garbage", file("{} x", 0), "not valid JSON"),
                bad("header is an array", file("[1,2]", 0), "not a JSON object"),
                bad("entry not an object", file("{\"a\":3}", 0), "entry is not a JSON object"),
                bad("missing dtype", file("{\"a\":{\"shape\":[1],\"data_offsets\":[0,4]}}", 4), "dtype"),
                bad("unknown dtype", file("{" + t("a", "F33", "[1]", 0, 4) + "}", 4), "unknown dtype 'F33'"),
                bad("negative shape", file("{" + t("a", "F32", "[-1]", 0, 4) + "}", 4), "shape"),
                bad("fractional shape", file("{" + t("a", "F32", "[1.5]", 0, 4) + "}", 4), "shape"),
                bad("string shape", file("{" + t("a", "F32", "[\"1\"]", 0, 4) + "}", 4), "shape"),
                bad("shape beyond 64 bits", file("{" + t("a", "F32", "[99999999999999999999999]", 0, 4) + "}", 4), "shape"),
                bad("shape not an array", file("{\"a\":{\"dtype\":\"F32\",\"shape\":4,\"data_offsets\":[0,4]}}", 4), "shape"),
                bad("one offset", file("{\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0]}}", 4), "two integers"),
                bad("offsets not integers", file("{\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,\"4\"]}}", 4), "data_offsets"),
                bad("begin after end", file("{" + t("a", "F32", "[0]", 4, 0) + "}", 4), "begin 4 > end 0"),
                bad("end beyond data", file("{" + t("a", "F32", "[2]", 0, 8) + "}", 4), "beyond the data section"),
                bad("length != shape x dtype", file("{" + t("a", "F32", "[2]", 0, 4) + "}", 4), "needs 8"),
                bad("overflowing shape", file("{" + t("a", "F32", "[4611686018427387904,4]", 0, 4) + "}", 4), "overflow"),
                bad("overlap", file("{" + t("a", "F32", "[2]", 0, 8) + "," + t("b", "F32", "[1]", 4, 8) + "}", 8), "overlap tensor 'a'"),
                bad("gap", file("{" + t("a", "F32", "[1]", 0, 4) + "," + t("b", "F32", "[1]", 8, 12) + "}", 12), "gap"),
                bad("trailing data bytes", file("{" + t("a", "F32", "[1]", 0, 4) + "}", 8), "trailing"),
                bad("metadata value not string", file("{\"__metadata__\":{\"k\":1}}", 0), "__metadata__ value for key 'k'"),
                bad("metadata not object", file("{\"__metadata__\":[\"k\"]}", 0), "__metadata__"),
                bad("duplicate names", file("{" + t("a", "F32", "[1]", 0, 4) + "," + t("a", "F32", "[1]", 4, 8) + "}", 8), "duplicate name"));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("malformed")
    void malformedFilesAreRejectedWithAClearMessage(String label, byte[] content, String expected) throws IOException {
        Path p = dir.resolve("bad.safetensors");
        Files.write(p, content);
        WeightFormatException e = assertThrows(WeightFormatException.class, () -> SafetensorsFile.open(p).close(), label);
        assertTrue(e.getMessage().contains("bad.safetensors"), e.getMessage());
        assertTrue(e.getMessage().contains(expected), "expected '" + expected + "' in: " + e.getMessage());
    }

    @Test void wellFormedHandWrittenFileReadsValues() throws IOException {
        // Offsets listed out of order in the header are fine; only the tiling matters.
        String header = "{" + t("b", "F32", "[2]", 4, 12) + "," + t("a", "I32", "[]", 0, 4) + ",\"__metadata__\":{\"format\":\"pt\"}}";
        byte[] bytes = file(header, 12);
        ByteBuffer data = ByteBuffer.wrap(bytes, bytes.length - 12, 12).slice().order(ByteOrder.LITTLE_ENDIAN);
        data.putInt(-7).putFloat(1.5f).putFloat(-2.25f);
        Path p = dir.resolve("ok.safetensors");
        Files.write(p, bytes);
        try (SafetensorsFile f = SafetensorsFile.open(p)) {
            assertEquals(List.of("a", "b"), List.copyOf(f.names()));
            assertEquals(Map.of("format", "pt"), f.metadata());
            assertEquals(new TensorInfo("I32", new long[0]), f.info("a"));
            try (Tensor a = f.read("a"); Tensor b = f.read("b")) {
                assertEquals(-7, a.item_int());
                assertEquals(1.5f, b.get(0).item_float());
                assertEquals(-2.25f, b.get(1).item_float());
            }
            assertThrows(IllegalArgumentException.class, () -> f.info("c"));
        }
    }

    static byte[] bytesOf(Tensor t) throws IOException {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        TensorBytes.write(t, Channels.newChannel(out));
        return out.toByteArray();
    }

    @Test void writerReaderRoundTripIsBitExact() throws IOException {
        torch.manual_seed(3);
        float[] special = {Float.NaN, Float.intBitsToFloat(0x7fc12345), -0.0f, Float.POSITIVE_INFINITY, Float.MIN_VALUE, 1e-40f};
        Map<String, Tensor> tensors = new LinkedHashMap<>();
        tensors.put("f32.special", torch.from_blob(new FloatPointer(special), 2, 3).clone());
        tensors.put("f32.randn", torch.randn(3, 5, 2));
        tensors.put("f16", torch.randn(7, 3).to(ScalarType.Half));
        tensors.put("bf16", torch.randn(4, 1, 3).to(ScalarType.BFloat16));
        tensors.put("i64", torch.randint(Long.MIN_VALUE / 2, Long.MAX_VALUE / 2, new long[]{5}, new org.bytedeco.pytorch.TensorOptions().dtype(new org.bytedeco.pytorch.ScalarTypeOptional(ScalarType.Long))));
        tensors.put("empty", torch.zeros(0, 3));
        tensors.put("scalar", torch.scalar_tensor(new org.bytedeco.pytorch.Scalar(2.5)));
        tensors.put("strided", torch.randn(4, 6).t());   // non-contiguous input
        Map<String, String> meta = Map.of("format", "pt", "note", "ünïcode ✓");
        Path p = dir.resolve("round.safetensors");
        SafetensorsWriter.write(p, tensors, meta);
        try (SafetensorsFile f = SafetensorsFile.open(p)) {
            assertEquals(tensors.keySet(), f.names());
            assertEquals(meta, f.metadata());
            for (Map.Entry<String, Tensor> e : tensors.entrySet()) {
                Tensor expected = e.getValue();
                assertArrayEquals(expected.sizes().vec().get(), f.info(e.getKey()).shape(), e.getKey());
                assertEquals(SafetensorsDtype.of(expected.scalar_type()).name(), f.info(e.getKey()).dtype());
                try (Tensor got = f.read(e.getKey())) {
                    assertEquals(expected.scalar_type().value, got.scalar_type().value);
                    assertArrayEquals(bytesOf(expected), bytesOf(got), e.getKey());
                    // element alignment of the data as the reference layout guarantees
                    assertEquals(0, f.fileOffset(e.getKey()) % got.element_size(), e.getKey());
                }
            }
        }
        assertEquals(List.of(p), Files.list(dir).toList(), "no temporary file left behind");
    }

    /** Byte-for-byte the outputs of the reference crate's tests test_serialization, test_empty, forced alignment. */
    @Test void writerMatchesReferenceLayout() throws IOException {
        float[] values = {0, 1, 2, 3, 4, 5};
        Path p = dir.resolve("ref.safetensors");
        SafetensorsWriter.write(p, Map.of("attn.0", torch.from_blob(new FloatPointer(values), 1, 2, 3).clone()));
        byte[] got = Files.readAllBytes(p);
        assertEquals(64, ByteBuffer.wrap(got).order(ByteOrder.LITTLE_ENDIAN).getLong());
        assertEquals("{\"attn.0\":{\"dtype\":\"F32\",\"shape\":[1,2,3],\"data_offsets\":[0,24]}}", SafetensorsWriter.headerJson(got));
        assertEquals(8 + 64 + 24, got.length);
        assertEquals(1.0f, ByteBuffer.wrap(got, 8 + 64 + 4, 4).order(ByteOrder.LITTLE_ENDIAN).getFloat());

        SafetensorsWriter.write(p, Map.of("attn0", torch.from_blob(new FloatPointer(values), 1, 1, 2, 3).clone()));
        got = Files.readAllBytes(p);
        assertEquals(72, ByteBuffer.wrap(got).order(ByteOrder.LITTLE_ENDIAN).getLong());
        assertTrue(SafetensorsWriter.headerJson(got).endsWith("}}       "), "padded with 7 spaces");

        SafetensorsWriter.write(p, Map.of());
        assertArrayEquals(new byte[]{8, 0, 0, 0, 0, 0, 0, 0, '{', '}', ' ', ' ', ' ', ' ', ' ', ' '}, Files.readAllBytes(p));

        SafetensorsWriter.write(p, Map.of(), Map.of("framework", "pt"));
        got = Files.readAllBytes(p);
        assertEquals(40, got.length - 8);
        assertEquals("{\"__metadata__\":{\"framework\":\"pt\"}}     ", SafetensorsWriter.headerJson(got));
    }

    @Test void writerOrdersByElementSizeThenName() throws IOException {
        Map<String, Tensor> tensors = new LinkedHashMap<>();
        tensors.put("z16", torch.zeros(3).to(ScalarType.Half));
        tensors.put("b32", torch.zeros(1));
        tensors.put("a64", torch.zeros(new long[]{1}, new org.bytedeco.pytorch.TensorOptions().dtype(new org.bytedeco.pytorch.ScalarTypeOptional(ScalarType.Long))));
        tensors.put("a16", torch.zeros(1).to(ScalarType.BFloat16));
        Path p = dir.resolve("order.safetensors");
        SafetensorsWriter.write(p, tensors);
        try (SafetensorsFile f = SafetensorsFile.open(p)) {
            assertEquals(List.of("a64", "b32", "a16", "z16"), List.copyOf(f.names()));
            for (String n : f.names()) {
                assertEquals(0, f.fileOffset(n) % SafetensorsDtype.of(f.info(n).dtype()).size(), n);
            }
        }
    }

    @Test void copyingASourceStreamsTensors() throws IOException {
        Path a = dir.resolve("a.safetensors");
        Path b = dir.resolve("b.safetensors");
        SafetensorsWriter.write(a, Map.of("x", torch.arange(new org.bytedeco.pytorch.Scalar(6)).reshape(2, 3)));
        try (SafetensorsFile src = SafetensorsFile.open(a)) {
            SafetensorsWriter.write(b, src, Map.of("copied", "yes"));
        }
        try (SafetensorsFile f = SafetensorsFile.open(b); Tensor x = f.read("x")) {
            assertEquals("I64", f.info("x").dtype());
            assertEquals(15, x.sum().item_long());
            assertEquals("yes", f.metadata().get("copied"));
        }
    }
}
