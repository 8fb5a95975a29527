package org.ldm4j.nn;

import org.bytedeco.pytorch.Tensor;
import org.junit.jupiter.api.Test;
import static org.bytedeco.pytorch.global.torch.*;
import static org.junit.jupiter.api.Assertions.*;

class SmokeTest {
    @Test void libtorchLoads() {
        Tensor a = ones(2, 3);
        Tensor b = a.add(a);
        assertEquals(12.0, b.sum().item_double(), 1e-9);
    }
}
