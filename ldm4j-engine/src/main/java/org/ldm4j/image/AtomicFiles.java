package org.ldm4j.image;

import java.io.FileOutputStream;
import java.io.FilterOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;

/**
 * Atomic file replacement: content goes to a temporary file in the target's directory (same file system, so the
 * rename is atomic), is flushed to disk, then moved over the target. Readers see the old file or the new one, never
 * a half-written one; a failure leaves the old file untouched and no temporary behind.
 */
public final class AtomicFiles {
    private AtomicFiles() {}

    /** Like {@link java.util.function.Consumer}, but may throw {@link IOException}. */
    @FunctionalInterface
    public interface IOConsumer<T> {
        void accept(T t) throws IOException;
    }

    /**
     * Writes {@code target} with what {@code body} writes to the stream. The stream must not be closed by
     * {@code body} (closing it is harmless, though). Parent directories must exist.
     */
    public static void write(Path target, IOConsumer<OutputStream> body) throws IOException {
        Path absolute = target.toAbsolutePath();
        Path dir = absolute.getParent();
        if (dir == null || !Files.isDirectory(dir)) throw new IOException("cannot write " + target + ": directory " + dir + " does not exist");
        Path temp = newTempFile(dir, "." + absolute.getFileName() + ".");
        boolean moved = false;
        try {
            try (FileOutputStream out = new FileOutputStream(temp.toFile())) {
                // Writers such as Jackson close the stream they are given; the file must stay open for the sync.
                OutputStream unclosable = new FilterOutputStream(out) {
                    @Override public void write(byte[] b, int off, int len) throws IOException { out.write(b, off, len); }
                    @Override public void close() throws IOException { out.flush(); }
                };
                body.accept(unclosable);
                out.flush();
                out.getFD().sync();     // the data must be on disk before the rename makes it visible
            }
            keepUsualPermissions(temp, absolute);
            try {
                Files.move(temp, absolute, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
            } catch (AtomicMoveNotSupportedException e) {
                Files.move(temp, absolute, StandardCopyOption.REPLACE_EXISTING);
            }
            moved = true;
        } finally {
            if (!moved) {
                try {
                    Files.deleteIfExists(temp);
                } catch (IOException suppressed) {
                    // the original failure is what the caller needs to see
                }
            }
        }
    }

    private static final java.security.SecureRandom RANDOM = new java.security.SecureRandom();

    /**
     * A new, empty temporary file in {@code dir} ({@code prefix}, a random number, {@code .tmp}) for a writer that
     * renames it over its target. Unlike {@link Files#createTempFile}, which makes a private file (0600), it is
     * created as {@link Files#write} creates a file: 0666 less the process's umask (0644 under the usual 022), so
     * outputs stay readable for a server or another user exactly as plainly written files are.
     */
    public static Path newTempFile(Path dir, String prefix) throws IOException {
        for (int attempt = 0; ; attempt++) {
            Path temp = dir.resolve(prefix + Long.toUnsignedString(RANDOM.nextLong(), 36) + ".tmp");
            try {
                Files.newByteChannel(temp, java.util.EnumSet.of(java.nio.file.StandardOpenOption.CREATE_NEW,
                        java.nio.file.StandardOpenOption.WRITE)).close();
                return temp;
            } catch (java.nio.file.FileAlreadyExistsException taken) {
                if (attempt >= 100) throw taken;
            }
        }
    }

    /**
     * A new, empty temporary folder in {@code dir} ({@code prefix} and a random number), with a new folder's usual
     * permissions (0777 less the umask) where {@link Files#createTempDirectory} makes a private one (0700): for a
     * writer that fills a folder and then renames it into place.
     */
    public static Path newTempDirectory(Path dir, String prefix) throws IOException {
        for (int attempt = 0; ; attempt++) {
            try {
                return Files.createDirectory(dir.resolve(prefix + Long.toUnsignedString(RANDOM.nextLong(), 36)));
            } catch (java.nio.file.FileAlreadyExistsException taken) {
                if (attempt >= 100) throw taken;
            }
        }
    }

    /**
     * A replaced file keeps its permissions: the temporary file ({@link #newTempFile}, created with a new file's usual
     * permissions) takes the target's when the target exists. For every writer that renames a temporary file over
     * its target.
     */
    public static void keepUsualPermissions(Path temp, Path target) throws IOException {
        try {
            if (Files.exists(target)) Files.setPosixFilePermissions(temp, Files.getPosixFilePermissions(target));
        } catch (UnsupportedOperationException notPosix) {
            // other file systems keep their own defaults
        }
    }

    /** Writes bytes atomically. */
    public static void write(Path target, byte[] bytes) throws IOException {
        write(target, out -> out.write(bytes));
    }
}
