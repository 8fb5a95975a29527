package org.ldm4j.weights;

import com.fasterxml.jackson.databind.json.JsonMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import org.bytedeco.pytorch.Tensor;
import org.ldm4j.image.AtomicFiles;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.function.Supplier;

/**
 * Writes {@code .safetensors} files the way the reference implementation lays them out ({@code tensor.rs},
 * {@code prepare}): tensors ordered by descending element size then by name, so every tensor starts aligned to its
 * element size; the JSON header padded with spaces to a multiple of 8 bytes. Files appear atomically: the data goes
 * to a temporary file in the target directory, which is then moved over the target.
 */
public final class SafetensorsWriter {
    private static final JsonMapper JSON = JsonMapper.builder().build();

    private SafetensorsWriter() {}

    /** Writes tensors (any device, any layout) and optional metadata. */
    public static void write(Path target, Map<String, Tensor> tensors, Map<String, String> metadata) throws IOException {
        List<Item> items = new ArrayList<>();
        for (Map.Entry<String, Tensor> e : tensors.entrySet()) {
            Tensor t = e.getValue();
            TensorInfo info = new TensorInfo(SafetensorsDtype.of(t.scalar_type()).name(), t.sizes().vec().get());
            items.add(new Item(e.getKey(), info, () -> t, false));
        }
        writeItems(target, items, metadata);
    }

    public static void write(Path target, Map<String, Tensor> tensors) throws IOException {
        write(target, tensors, Map.of());
    }

    /** Copies every tensor of a source, reading one tensor at a time (memory stays at one tensor). */
    public static void write(Path target, WeightSource source, Map<String, String> metadata) throws IOException {
        List<Item> items = new ArrayList<>();
        for (String name : source.names()) items.add(new Item(name, source.info(name), () -> source.read(name), true));
        writeItems(target, items, metadata);
    }

    private record Item(String name, TensorInfo info, Supplier<Tensor> tensor, boolean owned) {}

    private static void writeItems(Path target, List<Item> items, Map<String, String> metadata) throws IOException {
        if (metadata == null) metadata = Map.of();
        items.sort(Comparator.comparingInt((Item i) -> -SafetensorsDtype.of(i.info.dtype()).size())
                .thenComparing(Item::name));
        ObjectNode header = JSON.createObjectNode();
        if (!metadata.isEmpty()) {
            ObjectNode meta = header.putObject(SafetensorsFile.METADATA_KEY);
            metadata.forEach(meta::put);
        }
        long offset = 0;
        for (Item item : items) {
            if (item.name.equals(SafetensorsFile.METADATA_KEY)) {
                throw new IllegalArgumentException("'" + SafetensorsFile.METADATA_KEY + "' cannot name a tensor");
            }
            ObjectNode entry = header.putObject(item.name);
            entry.put("dtype", item.info.dtype());
            ArrayNode shape = entry.putArray("shape");
            for (long d : item.info.shape()) shape.add(d);
            long size = item.info.byteSize();
            entry.putArray("data_offsets").add(offset).add(offset + size);
            offset += size;
        }
        byte[] json = JSON.writeValueAsBytes(header);
        int padded = (json.length + 7) / 8 * 8;
        ByteBuffer head = ByteBuffer.allocate(8 + padded).order(ByteOrder.LITTLE_ENDIAN);
        head.putLong(padded).put(json);
        while (head.hasRemaining()) head.put((byte) ' ');
        head.flip();

        Path dir = target.toAbsolutePath().getParent();
        Files.createDirectories(dir);
        Path tmp = AtomicFiles.newTempFile(dir, "." + target.getFileName() + ".");
        boolean done = false;
        try (FileChannel out = FileChannel.open(tmp, StandardOpenOption.WRITE, StandardOpenOption.TRUNCATE_EXISTING)) {
            while (head.hasRemaining()) out.write(head);
            for (Item item : items) {
                Tensor t = item.tensor.get();
                try {
                    long written = TensorBytes.write(t, out);
                    if (written != item.info.byteSize()) {
                        throw new IllegalStateException("tensor '" + item.name + "' has " + written
                                + " bytes, its info " + item.info + " says " + item.info.byteSize());
                    }
                } finally {
                    if (item.owned) t.close();
                }
            }
            out.force(true);
            out.close();
            AtomicFiles.keepUsualPermissions(tmp, target);
            Files.move(tmp, target, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
            done = true;
        } finally {
            if (!done) Files.deleteIfExists(tmp);
        }
    }

    /** The UTF-8 header a set of tensors would get (tests compare it with the reference layout). */
    static String headerJson(byte[] file) {
        long n = ByteBuffer.wrap(file, 0, 8).order(ByteOrder.LITTLE_ENDIAN).getLong();
        return new String(file, 8, (int) n, StandardCharsets.UTF_8);
    }
}
