package org.ldm4j.reliability;

import org.bytedeco.pytorch.global.torch;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.ldm4j.image.AtomicFiles;
import org.ldm4j.weights.SafetensorsFile;
import org.ldm4j.weights.SafetensorsWriter;
import org.ldm4j.weights.TensorInfo;
import org.ldm4j.weights.WeightSource;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Faults during writes. A child JVM ({@link SlowWriter}) is killed with SIGKILL in the middle of writing a 16 MiB
 * file through {@link AtomicFiles} (what PNG writers use) or {@link SafetensorsWriter}: the previous file must still be
 * under the final name, byte for byte, and a rerun must replace it completely. A failing stream (disk full) must
 * surface as the IOException it is and leave the previous file intact with no temporary behind.
 */
class CrashDuringWriteTest {
    @BeforeAll static void threads() { torch.set_num_threads(1); }

    static Process child(String kind, Path target, int marker, String speed) throws IOException {
        String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
        return new ProcessBuilder(java, "-Xmx256m", "-cp", System.getProperty("java.class.path"),
                SlowWriter.class.getName(), kind, target.toString(), Integer.toString(marker), speed)
                .redirectErrorStream(true).start();
    }

    /** The marker byte every data byte of the file has, checked through the reader the project uses. */
    static int contentMarker(String kind, Path file) throws IOException {
        if (kind.equals("png")) {
            byte[] b = Files.readAllBytes(file);
            assertEquals(SlowWriter.PARTS * SlowWriter.PART_BYTES, b.length, "complete file");
            for (byte x : b) assertEquals(b[0], x);
            return b[0];
        }
        try (SafetensorsFile f = SafetensorsFile.open(file)) {
            assertEquals(SlowWriter.PARTS, f.names().size());
            return Integer.parseInt(f.metadata().get("marker"));
        }
    }

    @ParameterizedTest @ValueSource(strings = {"png", "safetensors"})
    void killedMidWriteLeavesThePreviousFileAndARerunCompletes(String kind, @TempDir Path dir) throws Exception {
        Path target = dir.resolve("big." + kind);
        Process first = child(kind, target, 1, "fast");
        assertTrue(first.waitFor(60, TimeUnit.SECONDS) && first.exitValue() == 0, "first write");
        assertEquals(1, contentMarker(kind, target));

        Process killed = child(kind, target, 2, "slow");
        try (BufferedReader out = new BufferedReader(new InputStreamReader(killed.getInputStream()))) {
            String line;
            while ((line = out.readLine()) != null && !line.equals("WRITING")) { /* JVM start-up output */ }
            assertEquals("WRITING", line, "the child must report that it is writing");
            Thread.sleep(400);              // a few parts into the temporary file
            killed.destroyForcibly();       // SIGKILL: no finally block, no shutdown hook runs
        }
        assertTrue(killed.waitFor(30, TimeUnit.SECONDS));
        assertEquals(1, contentMarker(kind, target), "the old file is intact under the final name");
        try (Stream<Path> files = Files.list(dir)) {
            List<Path> temps = files.filter(p -> !p.equals(target)).toList();
            // the writer's temporary survives a SIGKILL, but only under a hidden name that no reader looks for
            for (Path t : temps) assertTrue(t.getFileName().toString().startsWith(".big.") && t.toString().endsWith(".tmp"), t.toString());
        }

        Process rerun = child(kind, target, 3, "fast");
        assertTrue(rerun.waitFor(60, TimeUnit.SECONDS) && rerun.exitValue() == 0, "rerun");
        assertEquals(3, contentMarker(kind, target));
    }

    @Test void diskFullDuringAnAtomicWriteKeepsTheOldFile(@TempDir Path dir) throws IOException {
        Path target = dir.resolve("image.png");
        AtomicFiles.write(target, new byte[]{1, 2, 3});
        IOException e = assertThrows(IOException.class, () -> AtomicFiles.write(target, out -> {
            out.write(new byte[1 << 16]);
            throw new IOException("No space left on device");
        }));
        assertEquals("No space left on device", e.getMessage());
        assertEquals(List.of(target), listDir(dir));
        assertEquals(3, Files.size(target));
    }

    @Test void diskFullDuringASafetensorsWriteKeepsTheOldFile(@TempDir Path dir) throws IOException {
        Path target = dir.resolve("model.safetensors");
        Set<String> names = Set.of("a", "b");
        WeightSource failing = new WeightSource() {
            @Override public Set<String> names() { return names; }
            @Override public TensorInfo info(String name) { return new TensorInfo("F32", new long[]{4}); }
            @Override public org.bytedeco.pytorch.Tensor read(String name) {
                if (name.equals("b")) throw new UncheckedIOException(new IOException("No space left on device"));
                return torch.zeros(4);
            }
            @Override public void close() {}
        };
        SafetensorsWriter.write(target, Map.of("old", torch.ones(2)));
        UncheckedIOException e = assertThrows(UncheckedIOException.class, () -> SafetensorsWriter.write(target, failing, Map.of()));
        assertTrue(e.getMessage().contains("No space left"), e.getMessage());
        assertEquals(List.of(target), listDir(dir));
        try (SafetensorsFile f = SafetensorsFile.open(target)) {
            assertEquals(Set.of("old"), f.names());
        }
    }

    static List<Path> listDir(Path dir) throws IOException {
        try (Stream<Path> s = Files.list(dir)) {
            return s.toList();
        }
    }
}
