package org.ldm4j.weights;

import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.ldm4j.nn.Linear;

import java.io.IOException;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.*;

class WeightLoaderReportTest {
    @TempDir Path dir;

    @BeforeAll static void threads() { torch.set_num_threads(1); }

    @Test void nonStrictLoadsWhatMatchesAndReportsTheRest() throws IOException {
        torch.manual_seed(0);
        Linear layer = new Linear(3, 2, true);
        Tensor biasBefore = layer.namedParameters().get("bias").t().clone();
        Map<String, Tensor> tensors = new LinkedHashMap<>();
        tensors.put("weight", torch.randn(2, 3));
        tensors.put("extra.scale", torch.randn(1));
        Path file = dir.resolve("partial.safetensors");
        SafetensorsWriter.write(file, tensors);
        try (SafetensorsFile source = SafetensorsFile.open(file)) {
            WeightFormatException e = assertThrows(WeightFormatException.class, () -> WeightLoader.load(layer, source, "linear"));
            assertTrue(e.getMessage().contains("1 missing: bias") && e.getMessage().contains("1 unexpected: extra.scale"), e.getMessage());

            WeightLoader.Report report = WeightLoader.loadReporting(layer, source, "linear", n -> false);
            assertEquals(List.of("bias"), report.missing());
            assertEquals(List.of("extra.scale"), report.unexpected());
            assertFalse(report.complete());
            assertTrue(layer.namedParameters().get("weight").t().equal(tensors.get("weight")));
            assertTrue(layer.namedParameters().get("bias").t().equal(biasBefore), "a missing parameter keeps its value");
            assertTrue(WeightLoader.loadReporting(layer, source, "linear", n -> n.startsWith("extra.")).unexpected().isEmpty());
        }
        SafetensorsWriter.write(file, Map.of("weight", torch.randn(3, 3), "bias", torch.randn(2)));
        try (SafetensorsFile source = SafetensorsFile.open(file)) {   // a wrong shape is never a partial load
            WeightFormatException e = assertThrows(WeightFormatException.class, () -> WeightLoader.loadReporting(layer, source, "linear", n -> false));
            assertTrue(e.getMessage().contains("wrong shape: weight [3, 3]"), e.getMessage());
        }
    }
}
