package org.ldm4j.weights;

import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.*;

class RenamedTest {
    @TempDir Path dir;

    @Test void prefixesFiltersCollisionsAndMerging() throws IOException {
        Path a = dir.resolve("a.safetensors"), b = dir.resolve("b.safetensors");
        SafetensorsWriter.write(a, Map.of("m.x", torch.ones(2), "m.y", torch.zeros(3), "other", torch.zeros(1)));
        SafetensorsWriter.write(b, Map.of("z", torch.ones(4)));
        try (SafetensorsFile fa = SafetensorsFile.open(a)) {
            Renamed stripped = Renamed.stripPrefix(fa, "m.");
            assertEquals(List.of("x", "y"), List.copyOf(stripped.names()));
            assertEquals(List.of("other"), stripped.dropped());
            assertEquals("m.y", stripped.sourceName("y"));
            try (Tensor x = stripped.read("x")) { assertEquals(2.0, x.sum().item_double()); }
            WeightFormatException e = assertThrows(WeightFormatException.class, () -> new Renamed(fa, n -> "same"));
            assertTrue(e.getMessage().contains("map to 'same'"), e.getMessage());
            assertThrows(IllegalArgumentException.class, () -> stripped.info("m.x"));
        }
        try (Merged m = new Merged(List.of(SafetensorsFile.open(a), SafetensorsFile.open(b)))) {
            assertEquals(4, m.names().size());
            try (Tensor z = m.read("z")) { assertEquals(4.0, z.sum().item_double()); }
        }
        WeightFormatException e = assertThrows(WeightFormatException.class,
                () -> new Merged(List.of(SafetensorsFile.open(b), SafetensorsFile.open(b))));
        assertTrue(e.getMessage().contains("'z' appears in both"), e.getMessage());
    }
}
