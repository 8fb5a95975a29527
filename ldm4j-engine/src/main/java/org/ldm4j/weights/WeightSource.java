package org.ldm4j.weights;

import org.bytedeco.pytorch.Tensor;

import java.util.Set;

/**
 * Named tensors, read lazily, under diffusers names once converted (see {@link Renamed}, {@link LdmToDiffusers}).
 *
 * <p>Implementations validate their whole index when opened, so {@link #info} never fails on a name listed by
 * {@link #names}, and {@link #read} only fails on I/O.
 */
public interface WeightSource extends AutoCloseable {
    /** All tensor names, in a stable order (file order for a single file). */
    Set<String> names();

    /** dtype and shape of a tensor; reads no data. Throws {@link IllegalArgumentException} for an unknown name. */
    TensorInfo info(String name);

    /**
     * A new CPU tensor in the source's dtype that owns its memory (nothing stays tied to the file). The caller
     * frees it (a {@code PointerScope} or {@code close()}).
     */
    Tensor read(String name);

    default boolean contains(String name) { return names().contains(name); }

    /** Releases files and other sources this one wraps. */
    @Override void close();

    /**
     * Opens one weight file by its first bytes: safetensors ({@link SafetensorsFile}) or a zip-format PyTorch
     * checkpoint ({@link TorchCheckpoint}, weights only), whatever its extension. A file of another kind (an image, an
     * archive, text, a Git LFS pointer) is a {@link WeightFormatException} saying what it is and what ldm4j reads; one
     * whose bytes say nothing known is read by its extension ({@code .safetensors}, or {@code .ckpt/.pt/.pth/.bin}),
     * for that format's own detailed error.
     */
    static WeightSource open(java.nio.file.Path file) throws java.io.IOException {
        return FileSignatures.open(file);
    }

    /** The exception for a name this source does not hold. */
    static IllegalArgumentException unknown(String where, String name) {
        return new IllegalArgumentException("no tensor '" + name + "' in " + where);
    }
}
