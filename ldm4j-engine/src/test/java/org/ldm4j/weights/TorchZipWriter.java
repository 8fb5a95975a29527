package org.ldm4j.weights;

import org.bytedeco.javacpp.BytePointer;
import org.bytedeco.pytorch.Tensor;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.zip.CRC32;
import java.util.zip.ZipEntry;
import java.util.zip.ZipOutputStream;

/**
 * Test fixture: writes PyTorch checkpoints in the {@code torch.save} zip layout with a protocol-2 pickle, emitting
 * the opcodes CPython's pickler emits for a state dict (see the README next to the checked-in fixtures): globals
 * memoised with BINPUT/LONG_BINPUT and reused with BINGET/LONG_BINGET, storages as BINPERSID tuples, tensors as
 * {@code torch._utils._rebuild_tensor_v2} (optionally inside {@code _rebuild_parameter}) REDUCE calls, the dict as an
 * {@code OrderedDict} filled by SETITEMS and given a {@code _metadata} state by BUILD.
 */
public final class TorchZipWriter {
    /** One tensor of the pickle: a view of a storage. */
    public record View(String storage, long offset, long[] size, long[] stride, boolean parameter) {}

    private final Map<String, Tensor> storages = new LinkedHashMap<>();   // key -> flat contiguous data
    private final Map<String, View> tensors = new LinkedHashMap<>();
    private final Map<String, Long> extra = new LinkedHashMap<>();
    private boolean wrap;

    /** Adds a storage holding the flattened contents of {@code data}. */
    public TorchZipWriter storage(String key, Tensor data) {
        storages.put(key, data.contiguous().reshape(-1));
        return this;
    }

    public TorchZipWriter view(String name, String storage, long offset, long[] size, long[] stride) {
        tensors.put(name, new View(storage, offset, size, stride, false));
        return this;
    }

    /** A tensor with its own storage (key = running number), saved as a parameter every other time. */
    public TorchZipWriter tensor(String name, Tensor t) {
        String key = Integer.toString(storages.size());
        storage(key, t);
        long[] size = t.sizes().vec().get();
        tensors.put(name, new View(key, 0, size, contiguousStrides(size), tensors.size() % 2 == 1));
        return this;
    }

    /** Wraps the dict as {@code {"epoch": ..., "global_step": ..., "state_dict": dict}} like an SD .ckpt. */
    public TorchZipWriter wrapInStateDict(long epoch, long step) {
        wrap = true;
        extra.put("epoch", epoch);
        extra.put("global_step", step);
        return this;
    }

    public static void write(Path file, Map<String, Tensor> stateDict) throws IOException {
        TorchZipWriter w = new TorchZipWriter();
        stateDict.forEach(w::tensor);
        w.write(file);
    }

    static long[] contiguousStrides(long[] size) {
        long[] s = new long[size.length];
        long acc = 1;
        for (int i = size.length - 1; i >= 0; i--) {
            s[i] = acc;
            acc *= size[i];
        }
        return s;
    }

    public void write(Path file) throws IOException {
        Map<String, byte[]> entries = new LinkedHashMap<>();
        entries.put("data.pkl", pickle());
        entries.put("byteorder", "little".getBytes(StandardCharsets.US_ASCII));
        for (Map.Entry<String, Tensor> e : storages.entrySet()) entries.put("data/" + e.getKey(), bytes(e.getValue()));
        entries.put("version", "3\n".getBytes(StandardCharsets.US_ASCII));
        Files.write(file, zip("archive", entries));
    }

    static byte[] bytes(Tensor t) {
        Tensor c = t.contiguous();
        byte[] b = new byte[(int) c.nbytes()];
        if (b.length > 0) new BytePointer(c.data_ptr()).capacity(b.length).get(b);
        return b;
    }

    /** A zip of STORED entries under {@code archive/} (torch writes them uncompressed). */
    public static byte[] zip(String archive, Map<String, byte[]> entries) throws IOException {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        try (ZipOutputStream z = new ZipOutputStream(out)) {
            for (Map.Entry<String, byte[]> e : entries.entrySet()) {
                ZipEntry entry = new ZipEntry(archive + "/" + e.getKey());
                entry.setMethod(ZipEntry.STORED);
                entry.setSize(e.getValue().length);
                CRC32 crc = new CRC32();
                crc.update(e.getValue());
                entry.setCrc(crc.getValue());
                z.putNextEntry(entry);
                z.write(e.getValue());
                z.closeEntry();
            }
        }
        return out.toByteArray();
    }

    // ---------------------------------------------------------------- pickle, protocol 2
    private final ByteArrayOutputStream p = new ByteArrayOutputStream();
    private final Map<String, Integer> memo = new HashMap<>();
    private int nextMemo;

    byte[] pickle() {
        p.reset();
        memo.clear();
        nextMemo = 0;
        op(0x80, 2);                                    // PROTO 2
        if (wrap) {
            op('}');                                    // EMPTY_DICT
            op('(');
            for (Map.Entry<String, Long> e : extra.entrySet()) {
                string(e.getKey());
                integer(e.getValue());
            }
            string("state_dict");
        }
        global("collections", "OrderedDict");
        op(')');
        op('R');
        put();
        op('(');
        for (Map.Entry<String, View> e : tensors.entrySet()) {
            string(e.getKey());
            tensor(e.getValue());
        }
        op('u');                                        // SETITEMS
        op('}');                                        // state {"_metadata": {}} applied by BUILD
        string("_metadata");
        op('}');
        op('s');
        op('b');
        if (wrap) op('u');
        op('.');
        return p.toByteArray();
    }

    private void tensor(View v) {
        if (v.parameter) global("torch._utils", "_rebuild_parameter");
        global("torch._utils", "_rebuild_tensor_v2");
        op('(');
        op('(');                                        // persistent id ("storage", type, key, "cpu", numel)
        string("storage");
        global("torch", storageType(storages.get(v.storage)));
        string(v.storage);
        string("cpu");
        integer(storages.get(v.storage).numel());
        op('t');
        op('Q');                                        // BINPERSID
        integer(v.offset);
        tuple(v.size);
        tuple(v.stride);
        op(0x89);                                       // requires_grad False
        global("collections", "OrderedDict");
        op(')');
        op('R');
        op('t');
        op('R');
        if (v.parameter) {
            op(0x88);
            global("collections", "OrderedDict");
            op(')');
            op('R');
            op(0x87);                                   // TUPLE3
            op('R');
        }
    }

    static String storageType(Tensor t) {
        for (Map.Entry<String, SafetensorsDtype> e : TorchCheckpoint.STORAGES.entrySet()) {
            if (e.getValue() == SafetensorsDtype.of(t.scalar_type())) return e.getKey();
        }
        throw new IllegalArgumentException("no torch storage type for " + t.scalar_type());
    }

    private void tuple(long[] values) {
        if (values.length == 0) { op(')'); return; }
        if (values.length > 3) op('(');
        for (long v : values) integer(v);
        op(switch (values.length) { case 1 -> 0x85; case 2 -> 0x86; case 3 -> 0x87; default -> 't'; });
    }

    /** GLOBAL once, memoised; BINGET (or LONG_BINGET) afterwards, as CPython's pickler does. */
    private void global(String module, String name) {
        String key = module + "\n" + name;
        Integer m = memo.get(key);
        if (m != null) {
            if (m < 256) op('h', m); else { op('j'); u32(m); }
            return;
        }
        op('c');
        p.writeBytes((module + "\n" + name + "\n").getBytes(StandardCharsets.US_ASCII));
        memo.put(key, nextMemo);
        put();
    }

    private void put() {
        int m = nextMemo++;
        if (m < 256) op('q', m); else { op('r'); u32(m); }
    }

    private void string(String s) {
        byte[] b = s.getBytes(StandardCharsets.UTF_8);
        op('X');
        u32(b.length);
        p.writeBytes(b);
        put();                                          // CPython memoises every string it writes
    }

    private void integer(long v) {
        if (v >= 0 && v < 256) op('K', (int) v);
        else if (v >= 0 && v < 65536) { op('M'); p.write((int) v & 0xff); p.write((int) (v >> 8) & 0xff); }
        else if (v >= Integer.MIN_VALUE && v <= Integer.MAX_VALUE) { op('J'); u32((int) v); }
        else {
            op(0x8a, 8);                                // LONG1, 8 bytes little-endian
            p.writeBytes(ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN).putLong(v).array());
        }
    }

    private void u32(int v) { p.writeBytes(ByteBuffer.allocate(4).order(ByteOrder.LITTLE_ENDIAN).putInt(v).array()); }

    private void op(int code) { p.write(code); }

    private void op(int code, int arg) { p.write(code); p.write(arg); }
}
