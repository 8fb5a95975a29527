package org.ldm4j.weights;

import org.bytedeco.javacpp.BytePointer;
import org.bytedeco.pytorch.LongOptional;
import org.bytedeco.pytorch.MemoryFormatOptional;
import org.bytedeco.pytorch.ScalarTypeOptional;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.TensorOptions;
import org.bytedeco.pytorch.global.torch;

import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.Enumeration;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.zip.ZipEntry;
import java.util.zip.ZipException;
import java.util.zip.ZipFile;

/**
 * A PyTorch checkpoint ({@code .ckpt}, {@code .pt}, {@code .pth}, {@code .bin}) written by {@code torch.save} since
 * PyTorch 1.6, read as weights only: nothing in the file is executed.
 *
 * <p>The file is a zip ({@code torch/serialization.py}, {@code _save}): {@code <archive>/data.pkl} pickles the
 * object, with each tensor as {@code torch._utils._rebuild_tensor_v2(storage, storage_offset, size, stride, ...)} and
 * each storage as a persistent id {@code ("storage", torch.FloatStorage, key, location, numel)} whose bytes are the
 * entry {@code <archive>/data/<key>} (little-endian per {@code <archive>/byteorder}). {@link PickleReader} evaluates the
 * pickle against an allow-list of the globals a state dict needs ({@link #ALLOWED}, the same idea as
 * {@code torch.load(weights_only=True)}); any other global ({@code os.system}, {@code builtins.eval}, a Lightning
 * callback class, ...) refuses the whole file, naming the global, before anything could have run.
 *
 * <p>The object must be a dict of tensors, or a dict holding one under {@code "state_dict"} (original SD
 * {@code .ckpt} files); other non-tensor values (epoch, global_step) are listed by {@link #skippedKeys()}. Every
 * storage must exist with exactly numel × element-size bytes and every tensor view (offset, size, stride) must lie
 * inside its storage, with no more elements than the storage (so a read never allocates more than the file holds),
 * all checked on {@link #open}. A read copies only the bytes the view spans; a non-contiguous view
 * is made contiguous, and tensors sharing a storage come back as independent copies.
 */
public final class TorchCheckpoint implements WeightSource {
    static final long MAX_PICKLE_BYTES = 256L << 20;

    /** torch storage classes, by their name in the {@code torch} module, as safetensors dtypes. */
    static final Map<String, SafetensorsDtype> STORAGES = Map.ofEntries(
            Map.entry("FloatStorage", SafetensorsDtype.F32), Map.entry("HalfStorage", SafetensorsDtype.F16),
            Map.entry("BFloat16Storage", SafetensorsDtype.BF16), Map.entry("DoubleStorage", SafetensorsDtype.F64),
            Map.entry("LongStorage", SafetensorsDtype.I64), Map.entry("IntStorage", SafetensorsDtype.I32),
            Map.entry("ShortStorage", SafetensorsDtype.I16), Map.entry("CharStorage", SafetensorsDtype.I8),
            Map.entry("ByteStorage", SafetensorsDtype.U8), Map.entry("BoolStorage", SafetensorsDtype.BOOL));

    /** Every global a weights-only state dict may name. */
    public static final Set<String> ALLOWED;
    static {
        Set<String> s = new TreeSet<>(List.of("collections.OrderedDict", "torch._utils._rebuild_tensor",
                "torch._utils._rebuild_tensor_v2", "torch._utils._rebuild_parameter",
                "torch._utils._rebuild_parameter_with_state"));
        for (String storage : STORAGES.keySet()) s.add("torch." + storage);
        ALLOWED = Collections.unmodifiableSet(s);
    }

    private record Storage(String key, SafetensorsDtype dtype, long numel, ZipEntry entry) {}

    private record View(Storage storage, long offset, long[] size, long[] stride) {
        TensorInfo info() { return new TensorInfo(storage.dtype.name(), size); }
    }

    private final Path path;
    private final ZipFile zip;
    private final Map<String, View> tensors;
    private final List<String> skipped;

    private TorchCheckpoint(Path path, ZipFile zip, Map<String, View> tensors, List<String> skipped) {
        this.path = path;
        this.zip = zip;
        this.tensors = tensors;
        this.skipped = skipped;
    }

    /** Opens and validates the checkpoint; throws {@link WeightFormatException} naming the file and the problem. */
    public static TorchCheckpoint open(Path path) throws IOException {
        if (!Files.isRegularFile(path)) throw new WeightFormatException(path + ": no such file");
        byte[] magic = new byte[4];
        try (InputStream in = Files.newInputStream(path)) {
            int n = in.readNBytes(magic, 0, 4);
            if (n >= 2 && (magic[0] & 0xff) == 0x80) {
                throw new WeightFormatException(path + ": legacy PyTorch checkpoint (torch.save before 1.6, a bare pickle"
                        + " stream); only the zip format is read. Re-save it with a current PyTorch, or convert it to safetensors");
            }
            if (n < 4 || magic[0] != 'P' || magic[1] != 'K') {
                throw new WeightFormatException(path + ": not a PyTorch checkpoint (no zip signature)");
            }
        }
        ZipFile zip;
        try {
            zip = new ZipFile(path.toFile());
        } catch (ZipException | EOFException e) {   // EOF: the file ends inside the zip's END record (TorchCheckpointFuzzTest)
            throw new WeightFormatException(path + ": unreadable zip archive (truncated or corrupt?): " + e.getMessage(), e);
        }
        try {
            return parse(path, zip);
        } catch (IllegalArgumentException e) {
            // java.util.zip reports an entry name that is not valid UTF-8 this way, while iterating (TorchCheckpointFuzzTest)
            zip.close();
            throw new WeightFormatException(path + ": corrupt zip directory: " + e.getMessage(), e);
        } catch (RuntimeException | IOException e) {
            zip.close();
            throw e;
        }
    }

    private static TorchCheckpoint parse(Path path, ZipFile zip) throws IOException {
        String prefix = null;
        for (Enumeration<? extends ZipEntry> it = zip.entries(); it.hasMoreElements(); ) {
            String name = it.nextElement().getName();
            int slash = name.indexOf('/');
            if (slash > 0 && name.substring(slash + 1).equals("data.pkl")) {
                if (prefix != null) throw new WeightFormatException(path + ": two data.pkl entries (" + prefix + "data.pkl, " + name + ")");
                prefix = name.substring(0, slash + 1);
            }
        }
        if (prefix == null) throw new WeightFormatException(path + ": no <archive>/data.pkl entry; not a torch.save checkpoint");
        ZipEntry byteorder = zip.getEntry(prefix + "byteorder");
        if (byteorder != null) {
            String order = new String(readEntry(zip, byteorder, 16, path), StandardCharsets.US_ASCII).strip();
            if (!order.equals("little")) throw new WeightFormatException(path + ": byteorder is '" + order + "'; only little-endian is supported");
        }
        ZipEntry pkl = zip.getEntry(prefix + "data.pkl");
        byte[] pickle = readEntry(zip, pkl, MAX_PICKLE_BYTES, path);
        String where = path + " (" + pkl.getName() + ")";
        Map<String, Storage> storages = new HashMap<>();
        String dataPrefix = prefix + "data/";
        Object root = PickleReader.load(pickle, where, TorchCheckpoint::resolve,
                pid -> storage(pid, storages, zip, dataPrefix, where));

        if (!(root instanceof Map<?, ?> top)) throw new WeightFormatException(where + ": holds " + PickleReader.describe(root) + ", not a dict of tensors");
        Map<?, ?> dict = top;
        List<String> skipped = new ArrayList<>();
        if (top.get("state_dict") instanceof Map<?, ?> inner) {
            dict = inner;
            for (Object k : top.keySet()) if (!"state_dict".equals(k)) skipped.add(String.valueOf(k));
        }
        Map<String, View> tensors = new LinkedHashMap<>();
        for (Map.Entry<?, ?> e : dict.entrySet()) {
            if (!(e.getKey() instanceof String key)) throw new WeightFormatException(where + ": a key is " + PickleReader.describe(e.getKey()) + ", not a string");
            if (e.getValue() instanceof View v) {
                check(v, key, where);
                tensors.put(key, v);
            } else {
                skipped.add(key);
            }
        }
        return new TorchCheckpoint(path, zip, Collections.unmodifiableMap(tensors), Collections.unmodifiableList(skipped));
    }

    /** The allow-list: stand-ins for the few globals a state dict uses; everything else is refused here. */
    private static Object resolve(String module, String name) {
        String full = module + "." + name;
        if (!ALLOWED.contains(full)) {
            throw new WeightFormatException("the pickle refers to the global '" + full + "', which is not part of a"
                    + " weights-only state dict; ldm4j loads only weights, no code, and refused the file without running"
                    + " anything (allowed globals: " + String.join(", ", ALLOWED) + ")");
        }
        if (module.equals("torch") && STORAGES.containsKey(name)) return STORAGES.get(name);
        return switch (full) {
            case "collections.OrderedDict" -> (PickleReader.Function) args -> {
                PickleReader.Dict d = new PickleReader.Dict();
                if (args.size() == 1 && args.get(0) instanceof List<?> pairs) {   // OrderedDict([(k, v), ...])
                    for (Object p : pairs) {
                        if (!(p instanceof PickleReader.Tuple t) || t.size() != 2) throw new WeightFormatException("OrderedDict item is not a pair");
                        d.put(t.get(0), t.get(1));
                    }
                } else if (args.size() != 0) {
                    throw new WeightFormatException("OrderedDict called with " + args.size() + " arguments");
                }
                return d;
            };
            case "torch._utils._rebuild_tensor", "torch._utils._rebuild_tensor_v2" -> (PickleReader.Function) args -> {
                if (args.size() < 4) throw new WeightFormatException(full + " called with " + args.size() + " arguments");
                if (!(args.get(0) instanceof Storage s)) throw new WeightFormatException(full + ": first argument is not a storage");
                return new View(s, nonNegative(args.get(1), "storage_offset"), longs(args.get(2), "size"), longs(args.get(3), "stride"));
            };
            default -> (PickleReader.Function) args -> {     // _rebuild_parameter(data, requires_grad, hooks[, state])
                if (args.size() < 1 || !(args.get(0) instanceof View v)) throw new WeightFormatException(full + ": first argument is not a tensor");
                return v;
            };
        };
    }

    private static Storage storage(Object pid, Map<String, Storage> storages, ZipFile zip, String dataPrefix, String where) {
        if (!(pid instanceof PickleReader.Tuple t) || t.size() != 5 || !"storage".equals(t.get(0))
                || !(t.get(1) instanceof SafetensorsDtype dtype) || !(t.get(2) instanceof String key)) {
            throw new WeightFormatException(where + ": persistent id is not ('storage', <torch storage type>, key, location, numel)");
        }
        if (!key.matches("[A-Za-z0-9_.-]{1,64}")) throw new WeightFormatException(where + ": invalid storage key '" + key + "'");
        long numel = nonNegative(t.get(4), "storage numel");
        Storage known = storages.get(key);
        if (known != null) {
            if (known.dtype != dtype || known.numel != numel) {
                throw new WeightFormatException(where + ": storage '" + key + "' is declared twice with different types or sizes");
            }
            return known;
        }
        ZipEntry entry = zip.getEntry(dataPrefix + key);
        if (entry == null) throw new WeightFormatException(where + ": storage '" + key + "' has no entry " + dataPrefix + key);
        long bytes;
        try {
            bytes = Math.multiplyExact(numel, dtype.size());
        } catch (ArithmeticException e) {
            throw new WeightFormatException(where + ": storage '" + key + "' declares " + numel + " elements, overflowing a byte count");
        }
        if (entry.getSize() != bytes) {
            throw new WeightFormatException(where + ": storage '" + key + "' declares " + numel + " " + dtype + " elements ("
                    + bytes + " bytes) but entry " + entry.getName() + " holds " + entry.getSize() + " bytes");
        }
        Storage s = new Storage(key, dtype, numel, entry);
        storages.put(key, s);
        return s;
    }

    /** The view must lie inside its storage: offset + sum((size_i - 1) * stride_i) < numel (overflow-checked). */
    private static void check(View v, String key, String where) {
        try {
            long numel = 1, last = v.offset;
            if (v.size.length != v.stride.length) throw new WeightFormatException("size " + Arrays.toString(v.size)
                    + " and stride " + Arrays.toString(v.stride) + " differ in rank");
            for (int i = 0; i < v.size.length; i++) {
                numel = Math.multiplyExact(numel, v.size[i]);
                if (v.size[i] > 0) last = Math.addExact(last, Math.multiplyExact(v.size[i] - 1, v.stride[i]));
            }
            if (numel > v.storage.numel) {   // bounds the allocation: a weight never reuses storage elements
                throw new WeightFormatException("view of " + numel + " elements over storage '" + v.storage.key + "' of "
                        + v.storage.numel + " (overlapping strides such as 0 are not weights)");
            }
            if (numel > 0 && last >= v.storage.numel) {
                throw new WeightFormatException("view (offset " + v.offset + ", size " + Arrays.toString(v.size) + ", stride "
                        + Arrays.toString(v.stride) + ") reaches element " + last + " of storage '" + v.storage.key
                        + "', which has " + v.storage.numel);
            }
        } catch (ArithmeticException e) {
            throw new WeightFormatException(where + ": tensor '" + key + "': size/stride overflow 64 bits");
        } catch (WeightFormatException e) {
            throw new WeightFormatException(where + ": tensor '" + key + "': " + e.getMessage());
        }
    }

    private static long nonNegative(Object o, String what) {
        if (o instanceof Long l && l >= 0) return l;
        throw new WeightFormatException(what + " is " + o + ", not a non-negative integer");
    }

    private static long[] longs(Object o, String what) {
        if (!(o instanceof PickleReader.Tuple t)) throw new WeightFormatException(what + " is not a tuple");
        if (t.size() > 64) throw new WeightFormatException(what + " has rank " + t.size());
        long[] out = new long[t.size()];
        for (int i = 0; i < out.length; i++) out[i] = nonNegative(t.get(i), what + "[" + i + "]");
        return out;
    }

    private static byte[] readEntry(ZipFile zip, ZipEntry entry, long max, Path path) throws IOException {
        if (entry.getSize() < 0 || entry.getSize() > max) {
            throw new WeightFormatException(path + ": entry " + entry.getName() + " has size " + entry.getSize() + " (limit " + max + ")");
        }
        try (InputStream in = zip.getInputStream(entry)) {
            byte[] b = in.readNBytes((int) entry.getSize());
            if (b.length != entry.getSize()) throw new WeightFormatException(path + ": entry " + entry.getName() + " is truncated");
            return b;
        } catch (ZipException | EOFException e) {
            // a truncated or corrupt deflated entry ends early; that is bad data, not a failing disk (TorchCheckpointFuzzTest)
            throw new WeightFormatException(path + ": entry " + entry.getName() + " is corrupt or truncated: " + e.getMessage(), e);
        }
    }

    public Path path() { return path; }

    /** Top-level keys that were not tensors (e.g. {@code epoch}, {@code global_step}), in file order. */
    public List<String> skippedKeys() { return skipped; }

    @Override public Set<String> names() { return tensors.keySet(); }

    @Override public TensorInfo info(String name) { return view(name).info(); }

    @Override public Tensor read(String name) {
        View v = view(name);
        TensorBytes.requireLittleEndian();
        long numel = v.info().numel();
        int es = v.storage.dtype.size();
        if (numel == 0) return empty(v.size, v.storage.dtype);
        boolean contiguous = isContiguous(v.size, v.stride);
        long span = 1;
        for (int i = 0; i < v.size.length; i++) span += (v.size[i] - 1) * v.stride[i];
        Tensor raw = empty(contiguous ? v.size : new long[]{span}, v.storage.dtype);
        try {
            fill(raw, v.storage.entry, v.offset * es, (contiguous ? numel : span) * es);
            if (contiguous) return raw;
            Tensor out = raw.as_strided(v.size, v.stride, new LongOptional(0)).contiguous();
            raw.close();
            return out;
        } catch (IOException e) {
            raw.close();
            throw new UncheckedIOException(path + ": reading tensor '" + name + "' from " + v.storage.entry.getName(), e);
        }
    }

    static boolean isContiguous(long[] size, long[] stride) {
        long expected = 1;
        for (int i = size.length - 1; i >= 0; i--) {
            if (size[i] != 1 && stride[i] != expected) return false;
            expected *= size[i];
        }
        return true;
    }

    private static Tensor empty(long[] shape, SafetensorsDtype dtype) {
        return torch.empty(shape, new TensorOptions().dtype(new ScalarTypeOptional(dtype.scalarType())), new MemoryFormatOptional());
    }

    /** Copies {@code n} bytes of an entry, from byte {@code skip}, into the tensor's memory (1 MiB at a time). */
    private void fill(Tensor t, ZipEntry entry, long skip, long n) throws IOException {
        BytePointer base = new BytePointer(t.data_ptr());
        byte[] buf = new byte[(int) Math.min(n, 1 << 20)];
        try (InputStream in = zip.getInputStream(entry)) {
            for (long left = skip; left > 0; ) {
                long k = in.skip(left);
                if (k <= 0) {
                    if (in.read() < 0) throw new EOFException(entry.getName() + " ended at " + (skip - left));
                    k = 1;
                }
                left -= k;
            }
            for (long done = 0; done < n; ) {
                int r = in.read(buf, 0, (int) Math.min(buf.length, n - done));
                if (r < 0) throw new EOFException(entry.getName() + " ended at " + (skip + done) + " of " + (skip + n));
                base.position(done).put(buf, 0, r);
                done += r;
            }
        }
    }

    private View view(String name) {
        View v = tensors.get(name);
        if (v == null) throw WeightSource.unknown(path.toString(), name);
        return v;
    }

    @Override public void close() {
        try {
            zip.close();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    @Override public String toString() { return "TorchCheckpoint[" + path + ", " + tensors.size() + " tensors]"; }
}
