package org.ldm4j.weights;

import org.bytedeco.javacpp.BytePointer;
import org.bytedeco.pytorch.MemoryFormatOptional;
import org.bytedeco.pytorch.ScalarTypeOptional;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.TensorOptions;
import org.bytedeco.pytorch.global.torch;

import java.io.EOFException;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.channels.WritableByteChannel;

/**
 * Moves raw tensor bytes between files and libtorch's native memory without a Java heap copy: file reads land
 * directly in a freshly allocated tensor, writes go straight out of a contiguous CPU tensor. Chunks stay below
 * 2 GiB because NIO buffers are int-indexed; tensors themselves may be larger.
 */
final class TensorBytes {
    private static final int CHUNK = 1 << 30;

    private TensorBytes() {}

    static void requireLittleEndian() {
        if (ByteOrder.nativeOrder() != ByteOrder.LITTLE_ENDIAN) {
            throw new UnsupportedOperationException("safetensors data is little-endian; this platform is big-endian");
        }
    }

    /** Allocates a CPU tensor of this dtype and shape and fills it with {@code info.byteSize()} bytes at {@code position}. */
    static Tensor read(FileChannel channel, long position, TensorInfo info) throws IOException {
        requireLittleEndian();
        SafetensorsDtype dtype = SafetensorsDtype.of(info.dtype());
        Tensor t = torch.empty(info.shape(), new TensorOptions().dtype(new ScalarTypeOptional(dtype.scalarType())),
                new MemoryFormatOptional());
        long n = info.byteSize();
        if (n == 0) return t;
        BytePointer base = new BytePointer(t.data_ptr());
        try {
            for (long done = 0; done < n; ) {
                int len = (int) Math.min(CHUNK, n - done);
                ByteBuffer dst = window(base, done, len);
                while (dst.hasRemaining()) {
                    int r = channel.read(dst, position + done + dst.position());
                    if (r < 0) throw new EOFException("file ended inside tensor data at offset " + (position + done + dst.position()));
                }
                done += len;
            }
        } catch (IOException | RuntimeException e) {
            t.close();
            throw e;
        }
        return t;
    }

    /** Writes the bytes of {@code t} (made contiguous and moved to the CPU first) to {@code out}. */
    static long write(Tensor t, WritableByteChannel out) throws IOException {
        requireLittleEndian();
        Tensor c = t.contiguous().cpu();
        try {
            long n = c.nbytes();
            if (n == 0) return 0;
            BytePointer base = new BytePointer(c.data_ptr());
            for (long done = 0; done < n; ) {
                int len = (int) Math.min(CHUNK, n - done);
                ByteBuffer src = window(base, done, len);
                while (src.hasRemaining()) out.write(src);
                done += len;
            }
            return n;
        } finally {
            if (c != t) c.close();
        }
    }

    private static ByteBuffer window(BytePointer base, long offset, int len) {
        BytePointer p = new BytePointer(base);
        p.position(offset).limit(offset + len).capacity(offset + len);
        return p.asByteBuffer();
    }
}
