package org.ldm4j.nn;

import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.Scalar;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.*;

class ScopedForwardTest {
    @Test void temporariesDieWithTheScopeAndKeptTensorsMoveToTheOuterOne() {
        Tensor kept, temp;
        try (PointerScope step = new PointerScope()) {
            try (ScopedForward s = ScopedForward.open()) {
                temp = torch.ones(3).mul(new Scalar(2.0));
                kept = s.keep(temp.add(new Scalar(1.0)));
            }
            assertTrue(temp.isNull(), "temporary should be freed with the inner scope");
            assertFalse(kept.isNull());
            assertEquals(9.0, kept.sum().item_double(), 1e-6);
        }
        assertTrue(kept.isNull(), "kept tensor should belong to the step scope");
    }

    @Test void withoutAnOuterScopeTheKeptTensorIsLeftToTheCollector() {
        Tensor kept;
        try (ScopedForward s = ScopedForward.open()) {
            kept = s.keep(torch.ones(2));
        }
        assertFalse(kept.isNull());
        assertEquals(2.0, kept.sum().item_double(), 1e-6);
    }
}
