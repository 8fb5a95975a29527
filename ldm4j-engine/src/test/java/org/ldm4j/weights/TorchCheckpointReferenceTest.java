package org.ldm4j.weights;

import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.net.URISyntaxException;
import java.nio.file.Path;
import java.util.Set;
import java.util.TreeSet;

import static org.junit.jupiter.api.Assertions.*;

/**
 * The weights-only reader on files PyTorch 2.11's own {@code torch.save} wrote ({@code scripts/reference/
 * checkpoint_reference.py}): an LDM-named state dict under {@code "state_dict"} with {@code global_step} and
 * {@code epoch} beside it (SD's {@code .ckpt}), and a bare state dict ({@code .bin}), holding fp16 weights and views
 * PyTorch stores as one storage with offsets and strides (transposed, sliced, shared), bf16, int64 and 0-d tensors.
 * Every tensor must equal PyTorch's own contiguous copy, bit for bit.
 */
class TorchCheckpointReferenceTest {
    static Path file(String name) throws URISyntaxException {
        return Path.of(TorchCheckpointReferenceTest.class.getResource("/torch-checkpoints/" + name).toURI());
    }

    @Test void zipCheckpointAndBareStateDictEqualPyTorchsTensors() throws Exception {
        for (String name : new String[]{"tiny-zip.ckpt", "tiny-plain.bin"}) {
            try (SafetensorsFile expected = SafetensorsFile.open(file("expected.safetensors"));
                 TorchCheckpoint ckpt = TorchCheckpoint.open(file(name));
                 PointerScope scope = new PointerScope()) {
                assertEquals(new TreeSet<>(expected.names()), new TreeSet<>(ckpt.names()), name + ": tensor names");
                for (String tensor : expected.names()) {
                    Tensor theirs = expected.read(tensor), ours = ckpt.read(tensor);
                    assertEquals(theirs.scalar_type().value, ours.scalar_type().value, name + " " + tensor + " dtype");
                    assertArrayEquals(theirs.sizes().vec().get(), ours.sizes().vec().get(), name + " " + tensor + " shape");
                    assertTrue(torch.equal(theirs, ours), name + " " + tensor + " values");
                }
                if (name.endsWith(".ckpt")) assertEquals(Set.of("global_step", "epoch"), Set.copyOf(ckpt.skippedKeys()));
            }
        }
    }

    /** PyTorch's pre-1.6 format (a bare pickle stream, no zip) is named as such, not misread. */
    @Test void legacyFormatIsRefusedByName() throws Exception {
        Exception e = assertThrows(Exception.class, () -> TorchCheckpoint.open(file("tiny-legacy.ckpt")).close());
        assertTrue(e instanceof IOException || e instanceof WeightFormatException, e.toString());
        System.out.println("legacy: " + e.getMessage());
    }
}
