package org.ldm4j.weights;

import com.fasterxml.jackson.core.JacksonException;
import com.fasterxml.jackson.core.StreamReadFeature;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.json.JsonMapper;
import org.bytedeco.pytorch.Tensor;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.Collections;
import java.util.Comparator;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * A {@code .safetensors} file (huggingface/safetensors): an 8-byte little-endian header length N, N bytes of
 * UTF-8 JSON mapping names to {@code {dtype, shape, data_offsets:[begin, end)}} (offsets relative to the data
 * section) plus an optional {@code __metadata__} string map, then the raw little-endian data.
 *
 * <p>The whole header is validated on {@link #open} with the rules of the reference Rust crate
 * ({@code safetensors/src/tensor.rs}: {@code read_metadata}, {@code Metadata::validate}): header at most 100 MB and
 * inside the file; valid UTF-8 JSON object; known dtypes; non-negative integer shapes; offsets that, sorted, tile
 * the data section exactly from 0 to its end (no gap, overlap or trailing byte), each spanning
 * product(shape) × dtype size bytes (overflow-checked). Duplicate names, which serde would silently collapse, are
 * rejected too. Nothing is allocated from a declared size before it has been checked against the real file size.
 *
 * <p>Tensors are read lazily with positional {@link FileChannel} reads straight into a new tensor's native memory:
 * one copy, as a mapping plus {@code clone()} would cost, but with no 2 GiB mapping limit and no mapping that
 * outlives {@link #close()} (Java cannot unmap a {@code MappedByteBuffer} deterministically).
 */
public final class SafetensorsFile implements WeightSource {
    static final long MAX_HEADER_BYTES = 100_000_000L;
    static final String METADATA_KEY = "__metadata__";

    private static final JsonMapper JSON = JsonMapper.builder()
            .enable(StreamReadFeature.STRICT_DUPLICATE_DETECTION)
            .enable(DeserializationFeature.FAIL_ON_TRAILING_TOKENS)
            .build();

    private record Entry(TensorInfo info, long begin, long end) {}

    private final Path path;
    private final FileChannel channel;
    private final long dataStart;
    private final Map<String, Entry> entries;   // file (offset) order
    private final Map<String, String> metadata;

    private SafetensorsFile(Path path, FileChannel channel, long dataStart, Map<String, Entry> entries,
                            Map<String, String> metadata) {
        this.path = path;
        this.channel = channel;
        this.dataStart = dataStart;
        this.entries = entries;
        this.metadata = metadata;
    }

    /** Opens and validates the header; throws {@link WeightFormatException} naming the problem. */
    public static SafetensorsFile open(Path path) throws IOException {
        FileChannel ch = FileChannel.open(path, StandardOpenOption.READ);
        try {
            return parse(path, ch);
        } catch (RuntimeException | IOException e) {
            ch.close();
            throw e;
        }
    }

    private static SafetensorsFile parse(Path path, FileChannel ch) throws IOException {
        long fileSize = ch.size();
        if (fileSize < 8) throw bad(path, "file is " + fileSize + " bytes, shorter than the 8-byte header length");
        ByteBuffer lenBuf = ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN);
        readFully(ch, lenBuf, 0);
        long n = lenBuf.getLong(0);   // u64; a negative long means > 2^63
        if (n < 0 || n > MAX_HEADER_BYTES) {
            throw bad(path, "header length " + Long.toUnsignedString(n) + " exceeds the 100 MB limit");
        }
        if (n > fileSize - 8) {
            throw bad(path, "header length " + n + " exceeds the file size minus 8 (" + (fileSize - 8) + ")");
        }
        ByteBuffer headerBuf = ByteBuffer.allocate((int) n);
        readFully(ch, headerBuf, 8);
        headerBuf.flip();
        String text;
        try {
            text = StandardCharsets.UTF_8.newDecoder().onMalformedInput(CodingErrorAction.REPORT)
                    .onUnmappableCharacter(CodingErrorAction.REPORT).decode(headerBuf).toString();
        } catch (CharacterCodingException e) {
            throw bad(path, "header is not valid UTF-8");
        }
        JsonNode root;
        try {
            root = JSON.readTree(text);
        } catch (JacksonException e) {
            String msg = e.getOriginalMessage();
            if (msg != null && msg.startsWith("Duplicate field")) {
                throw bad(path, "duplicate name in header: " + msg.substring("Duplicate field ".length()));
            }
            throw bad(path, "header is not valid JSON: " + msg);
        }
        if (root == null || !root.isObject()) {
            throw bad(path, "header is not a JSON object");
        }
        long dataSize = fileSize - 8 - n;
        Map<String, String> metadata = Map.of();
        List<Map.Entry<String, Entry>> tensors = new ArrayList<>();
        for (Iterator<Map.Entry<String, JsonNode>> it = root.fields(); it.hasNext(); ) {
            Map.Entry<String, JsonNode> field = it.next();
            if (field.getKey().equals(METADATA_KEY)) {
                metadata = parseMetadata(path, field.getValue());
            } else {
                tensors.add(Map.entry(field.getKey(), parseEntry(path, field.getKey(), field.getValue(), dataSize)));
            }
        }
        checkCoverage(path, tensors, dataSize);
        Map<String, Entry> entries = new LinkedHashMap<>();
        for (Map.Entry<String, Entry> e : tensors) entries.put(e.getKey(), e.getValue());
        return new SafetensorsFile(path, ch, 8 + n, Collections.unmodifiableMap(entries), metadata);
    }

    private static Map<String, String> parseMetadata(Path path, JsonNode node) {
        if (node.isNull()) return Map.of();
        if (!node.isObject()) throw bad(path, "__metadata__ is not a JSON object of strings");
        Map<String, String> out = new LinkedHashMap<>();
        for (Iterator<Map.Entry<String, JsonNode>> it = node.fields(); it.hasNext(); ) {
            Map.Entry<String, JsonNode> e = it.next();
            if (!e.getValue().isTextual()) {
                throw bad(path, "__metadata__ value for key '" + e.getKey() + "' is not a string ("
                        + e.getValue().getNodeType().name().toLowerCase() + ")");
            }
            out.put(e.getKey(), e.getValue().textValue());
        }
        return Collections.unmodifiableMap(out);
    }

    private static Entry parseEntry(Path path, String name, JsonNode node, long dataSize) {
        if (!node.isObject()) throw bad(path, name, "entry is not a JSON object");
        JsonNode dtypeNode = node.get("dtype");
        if (dtypeNode == null || !dtypeNode.isTextual()) throw bad(path, name, "missing or non-string dtype");
        SafetensorsDtype dtype = SafetensorsDtype.orNull(dtypeNode.textValue());
        if (dtype == null) throw bad(path, name, "unknown dtype '" + dtypeNode.textValue() + "'");
        JsonNode shapeNode = node.get("shape");
        if (shapeNode == null || !shapeNode.isArray()) throw bad(path, name, "missing or non-array shape");
        long[] shape = new long[shapeNode.size()];
        for (int i = 0; i < shape.length; i++) {
            shape[i] = nonNegativeLong(path, name, "shape", shapeNode.get(i));
        }
        JsonNode offsets = node.get("data_offsets");
        if (offsets == null || !offsets.isArray() || offsets.size() != 2) {
            throw bad(path, name, "data_offsets must be an array of two integers");
        }
        long begin = nonNegativeLong(path, name, "data_offsets", offsets.get(0));
        long end = nonNegativeLong(path, name, "data_offsets", offsets.get(1));
        if (begin > end) throw bad(path, name, "data_offsets begin " + begin + " > end " + end);
        if (end > dataSize) {
            throw bad(path, name, "data_offsets end " + end + " is beyond the data section (" + dataSize + " bytes)");
        }
        TensorInfo info = new TensorInfo(dtype.name(), shape);
        long expected;
        try {
            expected = info.byteSize();
        } catch (ArithmeticException e) {
            throw bad(path, name, "shape " + info + " overflows a 64-bit byte count");
        }
        if (end - begin != expected) {
            throw bad(path, name, "data_offsets span " + (end - begin) + " bytes but shape " + info + " needs " + expected);
        }
        return new Entry(info, begin, end);
    }

    private static long nonNegativeLong(Path path, String name, String field, JsonNode v) {
        if (v == null || !v.isIntegralNumber() || !v.canConvertToLong() || v.longValue() < 0) {
            throw bad(path, name, field + " has a value that is not a non-negative 64-bit integer: " + v);
        }
        return v.longValue();
    }

    /** Sorted by offsets, tensors must tile [0, dataSize) exactly, as Metadata::validate plus the buffer-end check. */
    private static void checkCoverage(Path path, List<Map.Entry<String, Entry>> tensors, long dataSize) {
        tensors.sort(Comparator.comparingLong((Map.Entry<String, Entry> e) -> e.getValue().begin)
                .thenComparingLong(e -> e.getValue().end));
        long covered = 0;
        String previous = null;
        for (Map.Entry<String, Entry> e : tensors) {
            Entry t = e.getValue();
            if (t.begin < covered) {
                throw bad(path, e.getKey(), "data_offsets [" + t.begin + ", " + t.end + ") overlap tensor '"
                        + previous + "' which ends at " + covered);
            }
            if (t.begin > covered) {
                throw bad(path, e.getKey(), "gap in the data section: bytes [" + covered + ", " + t.begin
                        + ") belong to no tensor (tensors must be stored contiguously)");
            }
            covered = t.end;
            previous = e.getKey();
        }
        if (covered != dataSize) {
            throw bad(path, "tensors cover " + covered + " bytes of the " + dataSize
                    + "-byte data section (trailing bytes belong to no tensor)");
        }
    }

    private static void readFully(FileChannel ch, ByteBuffer buf, long position) throws IOException {
        while (buf.hasRemaining()) {
            int r = ch.read(buf, position + buf.position());
            if (r < 0) throw new java.io.EOFException("unexpected end of file");
        }
    }

    static WeightFormatException bad(Path path, String problem) {
        return new WeightFormatException(path + ": " + problem);
    }

    static WeightFormatException bad(Path path, String tensor, String problem) {
        return new WeightFormatException(path + ": tensor '" + tensor + "': " + problem);
    }

    public Path path() { return path; }

    /** The {@code __metadata__} map (empty when absent). */
    public Map<String, String> metadata() { return metadata; }

    @Override public Set<String> names() { return entries.keySet(); }

    @Override public TensorInfo info(String name) { return entry(name).info; }

    /** Absolute byte offset of a tensor's data in the file (for error messages and tests). */
    public long fileOffset(String name) { return dataStart + entry(name).begin; }

    @Override public Tensor read(String name) {
        Entry e = entry(name);
        try {
            return TensorBytes.read(channel, dataStart + e.begin, e.info);
        } catch (IOException ex) {
            throw new UncheckedIOException(path + ": reading tensor '" + name + "' at offset " + (dataStart + e.begin), ex);
        }
    }

    private Entry entry(String name) {
        Entry e = entries.get(name);
        if (e == null) throw WeightSource.unknown(path.toString(), name);
        return e;
    }

    @Override public void close() {
        try {
            channel.close();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    @Override public String toString() { return "SafetensorsFile[" + path + ", " + entries.size() + " tensors]"; }

}
