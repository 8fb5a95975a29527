package org.ldm4j.nn;

import org.bytedeco.pytorch.global.torch;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.*;

class DtypesTest {
    @Test void namesParseAndUnknownOnesAreNamed() {
        assertEquals("fp32", Dtypes.name(Dtypes.parse("float32")));
        assertEquals("bf16", Dtypes.name(Dtypes.parse("BF16")));
        assertTrue(assertThrows(IllegalArgumentException.class, () -> Dtypes.parse("fp8")).getMessage().contains("unknown dtype 'fp8'"));
        assertTrue(Dtypes.device("CPU").is_cpu());
        assertTrue(assertThrows(IllegalArgumentException.class, () -> Dtypes.device("tpu")).getMessage().contains("unknown device 'tpu'"));
        assertTrue(assertThrows(IllegalArgumentException.class, () -> Dtypes.device("cuda:x")).getMessage().contains("unknown device 'cuda:x'"));
    }

    /** A CUDA device the process cannot use is refused by name when parsed, on a CPU-only build and past the last GPU alike. */
    @Test void unusableCudaDevicesAreRefusedWhenParsed() {
        String past = "cuda:" + (torch.hasCUDA() ? torch.cuda_device_count() : 0);
        String message = assertThrows(IllegalArgumentException.class, () -> Dtypes.device(past)).getMessage();
        if (!torch.hasCUDA()) {
            assertTrue(message.contains("no CUDA support"), message);
            assertTrue(assertThrows(IllegalArgumentException.class, () -> Dtypes.device("cuda")).getMessage().contains("no CUDA support"));
        } else {
            assertTrue(message.contains("visible"), message);
            if (torch.cuda_device_count() > 0) assertTrue(Dtypes.device("cuda").is_cuda());
        }
    }
}
