package org.ldm4j.weights;

import org.bytedeco.pytorch.LongOptional;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch;
import org.bytedeco.pytorch.global.torch.ScalarType;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.*;

class TorchCheckpointTest {
    @TempDir Path dir;

    @BeforeAll static void threads() { torch.set_num_threads(1); }

    static Path resource(Path dir, String name) throws IOException {
        Path out = dir.resolve(name);
        try (InputStream in = TorchCheckpointTest.class.getResourceAsStream("torch/" + name)) {
            assertNotNull(in, name);
            Files.copy(in, out);
        }
        return out;
    }

    static Tensor values(ScalarType type, long... shape) {
        Tensor r = torch.randn(shape).mul(torch.scalar_tensor(new org.bytedeco.pytorch.Scalar(50.0)));
        if (type.value == ScalarType.Bool.value) return r.gt(torch.scalar_tensor(new org.bytedeco.pytorch.Scalar(0.0)));
        if (type.value == ScalarType.Byte.value) return r.abs().to(type);
        return r.to(type);
    }

    @Test void everyDtypeRoundTripsInsideAStateDictWrapper() throws IOException {
        torch.manual_seed(0);
        ScalarType[] types = {ScalarType.Float, ScalarType.Half, ScalarType.BFloat16, ScalarType.Double, ScalarType.Long,
                ScalarType.Int, ScalarType.Short, ScalarType.Char, ScalarType.Byte, ScalarType.Bool};
        Map<String, Tensor> written = new LinkedHashMap<>();
        for (int i = 0; i < types.length; i++) written.put("layer." + i + "." + types[i], values(types[i], 3, i + 1));
        written.put("scalar", torch.scalar_tensor(new org.bytedeco.pytorch.Scalar(70000.0)));   // rank 0, BININT values
        written.put("empty", torch.zeros(0, 4));
        TorchZipWriter w = new TorchZipWriter().wrapInStateDict(3, 1L << 40);   // LONG1 for the step
        written.forEach(w::tensor);
        Path file = dir.resolve("model.ckpt");
        w.write(file);
        try (TorchCheckpoint ckpt = TorchCheckpoint.open(file)) {
            assertEquals(List.copyOf(written.keySet()), List.copyOf(ckpt.names()));
            assertEquals(List.of("epoch", "global_step"), ckpt.skippedKeys());
            for (Map.Entry<String, Tensor> e : written.entrySet()) {
                TensorInfo info = ckpt.info(e.getKey());
                assertEquals(SafetensorsDtype.of(e.getValue().scalar_type()).name(), info.dtype(), e.getKey());
                assertArrayEquals(e.getValue().sizes().vec().get(), info.shape(), e.getKey());
                try (Tensor t = ckpt.read(e.getKey())) {
                    assertEquals(e.getValue().scalar_type().value, t.scalar_type().value, e.getKey());
                    assertTrue(t.equal(e.getValue()), e.getKey());
                }
            }
        }
    }

    @Test void manyTensorsUseLongMemoKeys() throws IOException {
        Map<String, Tensor> written = new LinkedHashMap<>();
        for (int i = 0; i < 300; i++) written.put("t" + i, torch.full(new long[]{1}, new org.bytedeco.pytorch.Scalar((double) i)));
        Path file = dir.resolve("many.pt");
        TorchZipWriter.write(file, written);
        try (TorchCheckpoint ckpt = TorchCheckpoint.open(file)) {
            assertEquals(300, ckpt.names().size());
            try (Tensor t = ckpt.read("t299")) { assertEquals(299.0, t.item_double()); }
        }
    }

    /** Strided views of one shared storage come back equal to libtorch's own as_strided of the same data. */
    @Test void nonContiguousViewsOfASharedStorage() throws IOException {
        Tensor storage = torch.arange(new org.bytedeco.pytorch.Scalar(40)).to(ScalarType.Float);
        long[][][] views = {   // {offset}, size, stride
                {{0}, {4, 6}, {6, 1}}, {{0}, {6, 4}, {1, 6}}, {{5}, {3, 2}, {6, 2}}, {{7}, {2, 3, 2}, {12, 1, 3}}, {{39}, {1}, {1}}};
        TorchZipWriter w = new TorchZipWriter().storage("shared", storage);
        for (int i = 0; i < views.length; i++) w.view("v" + i, "shared", views[i][0][0], views[i][1], views[i][2]);
        Path file = dir.resolve("views.pth");
        w.write(file);
        try (TorchCheckpoint ckpt = TorchCheckpoint.open(file)) {
            for (int i = 0; i < views.length; i++) {
                Tensor expected = storage.as_strided(views[i][1], views[i][2], new LongOptional(views[i][0][0]));
                Tensor got = ckpt.read("v" + i);
                assertTrue(got.is_contiguous(), "v" + i);
                assertArrayEquals(views[i][1], got.sizes().vec().get());
                assertTrue(got.equal(expected), "v" + i + ": " + Arrays.deepToString(views[i]));
            }
            Tensor a = ckpt.read("v0"), b = ckpt.read("v1");
            a.zero_();   // copies: writing one does not touch the other view of the same storage
            assertTrue(b.equal(storage.narrow(0, 0, 24).reshape(4, 6).t()));
        }
    }

    /** A state dict pickled by CPython's own Pickler the way torch.save does it (see resources README). */
    @Test void readsAPickleWrittenByCPython() throws IOException {
        try (TorchCheckpoint ckpt = TorchCheckpoint.open(resource(dir, "cpython_state_dict.pt"))) {
            assertEquals(List.of("weight", "weight_t", "tail", "half"), List.copyOf(ckpt.names()));
            assertEquals(List.of("epoch", "global_step"), ckpt.skippedKeys());
            Tensor w = torch.arange(new org.bytedeco.pytorch.Scalar(6)).to(ScalarType.Float).reshape(2, 3);
            assertTrue(ckpt.read("weight").equal(w));
            assertTrue(ckpt.read("weight_t").equal(w.t()));
            assertTrue(ckpt.read("tail").equal(w.reshape(-1).narrow(0, 2, 3)));
            assertEquals("F16", ckpt.info("half").dtype());
            assertTrue(ckpt.read("half").equal(torch.arange(new org.bytedeco.pytorch.Scalar(4)).to(ScalarType.Half)));
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {"os_system.pt:os.system", "builtins_exec.pt:builtins.exec"})
    void foreignGlobalsAreRefusedAndNothingRuns(String fixture) throws IOException {
        String[] parts = fixture.split(":");
        Path file = resource(dir, parts[0]);
        WeightFormatException e = assertThrows(WeightFormatException.class, () -> TorchCheckpoint.open(file));
        assertTrue(e.getMessage().contains("'" + parts[1] + "'") && e.getMessage().contains("only weights, no code")
                && e.getMessage().contains(parts[0]), e.getMessage());
        assertFalse(Files.exists(Path.of("PWNED")));
        assertFalse(Files.exists(dir.resolve("PWNED")));
        // the same through the folder loader, as a text encoder's pytorch_model.bin
        Path te = dir.resolve("text_encoder");
        Files.createDirectories(te);
        Files.copy(file, te.resolve("pytorch_model.bin"));
        e = assertThrows(WeightFormatException.class, () -> DiffusersFolder.findWeights(te, null));
        assertTrue(e.getMessage().contains(parts[1]), e.getMessage());
    }

    @Test void globalsOutsideTheAllowListAreRefusedEvenInTorch() throws IOException {
        Path file = dir.resolve("x.pt");
        byte[] pkl = "\u0080\u0002ctorch\nload\nq\u0000.".getBytes(StandardCharsets.ISO_8859_1);
        Files.write(file, TorchZipWriter.zip("archive", Map.of("data.pkl", pkl)));
        WeightFormatException e = assertThrows(WeightFormatException.class, () -> TorchCheckpoint.open(file));
        assertTrue(e.getMessage().contains("'torch.load'"), e.getMessage());
    }

    @Test void truncatedFilesFailCleanly() throws IOException {
        Path good = dir.resolve("good.ckpt");
        TorchZipWriter.write(good, Map.of("w", torch.randn(8, 8)));
        byte[] all = Files.readAllBytes(good);
        Path cut = dir.resolve("cut.ckpt");
        Files.write(cut, Arrays.copyOf(all, all.length / 2));
        WeightFormatException e = assertThrows(WeightFormatException.class, () -> TorchCheckpoint.open(cut));
        assertTrue(e.getMessage().contains("cut.ckpt") && e.getMessage().contains("zip"), e.getMessage());

        byte[] pkl = new TorchZipWriter().tensor("w", torch.randn(2)).pickle();
        Path shortPickle = dir.resolve("short.ckpt");
        Files.write(shortPickle, TorchZipWriter.zip("archive", Map.of("data.pkl", Arrays.copyOf(pkl, pkl.length - 10))));
        e = assertThrows(WeightFormatException.class, () -> TorchCheckpoint.open(shortPickle));
        assertTrue(e.getMessage().contains("data.pkl"), e.getMessage());

        Path legacy = dir.resolve("legacy.pt");
        Files.write(legacy, new byte[]{(byte) 0x80, 2, (byte) 0x8a, 10});
        e = assertThrows(WeightFormatException.class, () -> TorchCheckpoint.open(legacy));
        assertTrue(e.getMessage().contains("legacy"), e.getMessage());
    }

    @Test void declaredSizesMustMatchTheEntries() throws IOException {
        byte[] pkl = new TorchZipWriter().tensor("w", torch.randn(4, 4)).pickle();
        byte[] data = TorchZipWriter.bytes(torch.randn(4, 4));
        Map<String, byte[]> entries = new LinkedHashMap<>();
        entries.put("data.pkl", pkl);
        entries.put("data/0", Arrays.copyOf(data, 60));   // 15 floats where 16 are declared
        Path small = dir.resolve("small.pt");
        Files.write(small, TorchZipWriter.zip("archive", entries));
        WeightFormatException e = assertThrows(WeightFormatException.class, () -> TorchCheckpoint.open(small));
        assertTrue(e.getMessage().contains("storage '0'") && e.getMessage().contains("64 bytes") && e.getMessage().contains("60 bytes"), e.getMessage());

        Path outside = dir.resolve("outside.pt");   // a view reaching past its storage
        new TorchZipWriter().storage("s", torch.randn(10)).view("v", "s", 4, new long[]{2, 4}, new long[]{4, 1}).write(outside);
        e = assertThrows(WeightFormatException.class, () -> TorchCheckpoint.open(outside));
        assertTrue(e.getMessage().contains("tensor 'v'") && e.getMessage().contains("reaches element 11"), e.getMessage());

        Path broadcast = dir.resolve("broadcast.pt");   // stride 0: 10^12 elements from one stored float
        new TorchZipWriter().storage("s", torch.randn(1)).view("v", "s", 0, new long[]{1_000_000, 1_000_000}, new long[]{0, 0}).write(broadcast);
        e = assertThrows(WeightFormatException.class, () -> TorchCheckpoint.open(broadcast));
        assertTrue(e.getMessage().contains("tensor 'v'") && e.getMessage().contains("1000000000000 elements"), e.getMessage());

        Path huge = dir.resolve("huge.pt");        // a 2 GiB string length in a 20-byte pickle allocates nothing
        byte[] bomb = {(byte) 0x80, 2, 'X', (byte) 0xff, (byte) 0xff, (byte) 0xff, 0x7f, 'a', 'b', '.'};
        Files.write(huge, TorchZipWriter.zip("archive", Map.of("data.pkl", bomb)));
        e = assertThrows(WeightFormatException.class, () -> TorchCheckpoint.open(huge));
        assertTrue(e.getMessage().contains("truncated or corrupt"), e.getMessage());

        Path big = dir.resolve("big.pt");
        Files.write(big, TorchZipWriter.zip("archive", Map.of("data.pkl", pkl, "byteorder", "big".getBytes(StandardCharsets.US_ASCII))));
        e = assertThrows(WeightFormatException.class, () -> TorchCheckpoint.open(big));
        assertTrue(e.getMessage().contains("byteorder"), e.getMessage());
    }

    /** Diffusers' .bin fallback: a folder whose weights exist only as pytorch_model.bin loads the same tensors. */
    @Test void diffusersFolderFallsBackToBinFiles() throws IOException {
        torch.manual_seed(2);
        Map<String, Tensor> text = TinyModels.randomModel("text_model.embeddings.token_embedding.weight:10x4", "text_model.final_layer_norm.bias:4");
        Path te = dir.resolve("text_encoder");
        Files.createDirectories(te);
        TorchZipWriter.write(te.resolve("pytorch_model.bin"), text);
        try (WeightSource w = DiffusersFolder.findWeights(te, null)) {
            assertInstanceOf(TorchCheckpoint.class, w);
            DiffusersFolderTest.assertSameTensors(text, w, Map.of());
        }
    }
}
