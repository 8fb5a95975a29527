package org.ldm4j.nn;

import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.*;

class TensorsTest {
    @Test void repeatBatchCopiesABatchOneTensorOfAnyRank() {
        Tensor states = torch.arange(new org.bytedeco.pytorch.Scalar(6)).reshape(1, 2, 3).to(torch.ScalarType.Float);
        Tensor three = Tensors.repeatBatch(states, 3, "text states");
        assertArrayEquals(new long[]{3, 2, 3}, three.sizes().vec().get());
        for (int i = 0; i < 3; i++) assertTrue(torch.equal(three.get(i), states.get(0)));
        Tensor latent = torch.randn(1, 4, 2, 2);
        assertArrayEquals(new long[]{2, 4, 2, 2}, Tensors.repeatBatch(latent, 2, "a start latent").sizes().vec().get());
        assertSame(latent, Tensors.repeatBatch(latent, 1, "a start latent"));
        var e = assertThrows(IllegalArgumentException.class, () -> Tensors.repeatBatch(torch.zeros(2, 4), 3, "a start latent"));
        assertEquals("a start latent given to a batch of 3 must have batch 1, got 2", e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> Tensors.repeatBatch(latent, 0, "a start latent"));
    }

    /** The halves are chunk(2)'s views, and they outlive everything they came from (no vector to dangle from). */
    @Test void halvesAreTheChunksAndOwnTheirStorage() {
        Tensor[] halves;
        {
            Tensor t = torch.arange(new org.bytedeco.pytorch.Scalar(24)).reshape(2, 6, 2).to(torch.ScalarType.Float);
            halves = Tensors.halves(t, 1);
            org.bytedeco.pytorch.TensorVector chunks = t.chunk(2, 1);
            assertTrue(torch.equal(halves[0], chunks.get(0)) && torch.equal(halves[1], chunks.get(1)));
        }
        for (int i = 0; i < 3; i++) System.gc();
        assertArrayEquals(new long[]{2, 3, 2}, halves[1].sizes().vec().get());
        assertEquals(6.0, halves[1].get(0).get(0).get(0).item_double(), "t[0, 3, 0]");
        assertEquals(23.0, halves[1].get(1).get(2).get(1).item_double(), "t[1, 5, 1]");
        assertTrue(torch.equal(Tensors.halves(torch.ones(4, 2), -1)[0], torch.ones(4, 1)));
        assertThrows(IllegalArgumentException.class, () -> Tensors.halves(torch.zeros(3, 2), 0));
    }
}
