package org.ldm4j.image;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.List;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.*;

class AtomicFilesTest {
    static List<String> names(Path dir) throws IOException {
        try (Stream<Path> s = Files.list(dir)) {
            return s.map(p -> p.getFileName().toString()).sorted().toList();
        }
    }

    @Test void replacesContent(@TempDir Path dir) throws IOException {
        Path f = dir.resolve("a.txt");
        AtomicFiles.write(f, "one".getBytes(StandardCharsets.UTF_8));
        AtomicFiles.write(f, out -> { out.write("two".getBytes(StandardCharsets.UTF_8)); out.close(); });   // closing is harmless
        assertEquals("two", Files.readString(f));
        assertEquals(List.of("a.txt"), names(dir));
    }

    @Test void failureMidwayKeepsOldFileAndLeavesNoTemp(@TempDir Path dir) throws IOException {
        Path f = dir.resolve("image.png");
        Files.writeString(f, "previous content");
        IOException e = assertThrows(IOException.class, () -> AtomicFiles.write(f, out -> {
            out.write(new byte[4096]);
            throw new IOException("disk on fire");
        }));
        assertEquals("disk on fire", e.getMessage());
        assertEquals("previous content", Files.readString(f));
        assertEquals(List.of("image.png"), names(dir));

        assertThrows(IllegalStateException.class, () -> AtomicFiles.write(f, out -> {
            out.write(1);
            throw new IllegalStateException("bug");
        }));
        assertEquals("previous content", Files.readString(f));
        assertEquals(List.of("image.png"), names(dir));

        // a stream that breaks halfway through a write
        assertThrows(IOException.class, () -> AtomicFiles.write(dir.resolve("new.bin"), out -> {
            for (int i = 0; i < 10; i++) {
                if (i == 5) throw new IOException("broken pipe");
                out.write(i);
            }
        }));
        assertFalse(Files.exists(dir.resolve("new.bin")));
        assertEquals(List.of("image.png"), names(dir));
    }

    @Test void missingDirectoryIsNamed(@TempDir Path dir) {
        IOException e = assertThrows(IOException.class, () -> AtomicFiles.write(dir.resolve("no/such/x.png"), new byte[1]));
        assertTrue(e.getMessage().contains("no/such") || e.getMessage().contains("no\\such"), e.getMessage());
    }

    /**
     * Outputs get the permissions a plainly written file gets (0666 less the umask: rw-r--r-- under the usual 022),
     * not the temporary file's private 0600 that createTempFile gives; a replaced file keeps its own. POSIX only.
     */
    @Test void newFilesGetUsualPermissionsAndReplacedFilesKeepTheirs(@TempDir Path dir) throws IOException {
        org.junit.jupiter.api.Assumptions.assumeTrue(dir.getFileSystem().supportedFileAttributeViews().contains("posix"));
        Path plain = Files.write(dir.resolve("plain.png"), new byte[]{1});
        Path fresh = dir.resolve("fresh.png");
        AtomicFiles.write(fresh, new byte[]{1});
        assertEquals(Files.getPosixFilePermissions(plain), Files.getPosixFilePermissions(fresh));
        Path plainDir = Files.createDirectory(dir.resolve("plain-dir"));
        Path tempDir = AtomicFiles.newTempDirectory(dir, "step.tmp");
        assertEquals(Files.getPosixFilePermissions(plainDir), Files.getPosixFilePermissions(tempDir), "a folder filled, then renamed");
        Path kept = dir.resolve("kept.png");
        Files.write(kept, new byte[]{0});
        Files.setPosixFilePermissions(kept, PosixFilePermissions.fromString("rw-rw----"));
        AtomicFiles.write(kept, new byte[]{2});
        assertEquals(PosixFilePermissions.fromString("rw-rw----"), Files.getPosixFilePermissions(kept));
        assertArrayEquals(new byte[]{2}, Files.readAllBytes(kept));
    }
}
