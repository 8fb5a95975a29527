package org.ldm4j.nn;

import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.TensorVector;
import org.bytedeco.pytorch.global.torch;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.*;

class RngTest {
    @Test void aPerSampleStreamDrawsWhatSeparateStreamsDrawPerElement() {
        Rng batch = Rng.perSample(5, 9, 5);
        assertEquals(3, batch.batch());
        assertEquals(5, batch.seed());
        // two draws in a row: each element's generator advances as a batch-1 run's would (a scheduler's per-step noise)
        for (int draw = 0; draw < 2; draw++) {
            Tensor got = draw == 0 ? batch.randn(3, 2, 4) : batch.rand(3, 2, 4);
            assertArrayEquals(new long[]{3, 2, 4}, got.sizes().vec().get());
            TensorVector expected = new TensorVector();
            for (long s : new long[]{5, 9, 5}) {
                Rng one = new Rng(s);
                if (draw == 1) one.randn(1, 2, 4);
                expected.push_back(draw == 0 ? one.randn(1, 2, 4) : one.rand(1, 2, 4));
            }
            assertTrue(torch.equal(torch.cat(expected, 0), got), "draw " + draw);
        }
        assertFalse(torch.equal(batch.randn(3, 2, 4).narrow(0, 0, 1), batch.randn(3, 2, 4).narrow(0, 1, 1)));
    }

    @Test void aPerSampleStreamRefusesShapesOfAnotherBatchAndHasNoSingleGenerator() {
        Rng batch = Rng.perSample(1, 2);
        var e = assertThrows(IllegalArgumentException.class, () -> batch.randn(3, 4));
        assertTrue(e.getMessage().contains("draws (2, ...) shapes"), e.getMessage());
        assertThrows(IllegalStateException.class, batch::generator);
        assertThrows(IllegalArgumentException.class, Rng::perSample);
        assertTrue(torch.equal(new Rng(3).randn(2, 2), Rng.perSample(3).randn(2, 2)), "one seed: a plain stream of any shape");
    }
}
