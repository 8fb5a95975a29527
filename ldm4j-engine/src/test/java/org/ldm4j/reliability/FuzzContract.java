package org.ldm4j.reliability;

import org.bytedeco.pytorch.global.torch;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;

/**
 * The contract every fuzz target checks: a parser given arbitrary bytes either returns a valid result or throws one
 * of the exception types its API documents, with a message. Anything else (NullPointerException,
 * ArrayIndexOutOfBoundsException, NegativeArraySizeException, ClassCastException, an undocumented exception type, an
 * empty message) is a finding: it is rethrown as an {@link AssertionError} that Jazzer reports with the input.
 * OutOfMemoryError and timeouts are findings of Jazzer itself.
 */
public final class FuzzContract {
    private FuzzContract() {}

    /**
     * The set-up every fuzz target shares: one libtorch thread, and a temporary file (deleted on exit) that each
     * input is written to, since the readers under test take paths.
     */
    public static Path scratchFile(String suffix) throws IOException {
        torch.set_num_threads(1);
        Path shm = tmpfs();
        Path file = shm != null ? Files.createTempFile(shm, "fuzz-", suffix) : Files.createTempFile("fuzz-", suffix);
        file.toFile().deleteOnExit();
        return file;
    }

    /** A scratch folder for targets that read several files (on tmpfs when there is one, as {@link #scratchFile}). */
    public static Path scratchFolder(String prefix) throws IOException {
        torch.set_num_threads(1);
        Path shm = tmpfs();
        Path folder = shm != null ? Files.createTempDirectory(shm, prefix) : Files.createTempDirectory(prefix);
        folder.toFile().deleteOnExit();
        return folder;
    }

    /** /dev/shm when it is there and writable, else null: a write to /tmp on this machine's disk cost 154 us per input, to /dev/shm 15 us. */
    private static Path tmpfs() {
        Path shm = Path.of("/dev/shm");
        return Files.isDirectory(shm) && Files.isWritable(shm) ? shm : null;
    }

    /** Code under test; may throw anything. */
    @FunctionalInterface
    public interface Body { void run() throws Exception; }

    /** Runs {@code body}; a throwable is accepted only if it is an instance of one of {@code documented}. */
    @SafeVarargs
    public static void check(String target, Body body, Class<? extends Throwable>... documented) {
        try {
            body.run();
        } catch (Throwable t) {
            if (t instanceof VirtualMachineError vm) throw vm;   // OOM/StackOverflow: Jazzer reports them itself
            if (t instanceof AssertionError a) throw a;
            for (Class<? extends Throwable> ok : documented) {
                if (ok.isInstance(t)) {
                    if (t.getMessage() == null || t.getMessage().isBlank()) {
                        throw new AssertionError(target + ": documented " + t.getClass().getName() + " without a message", t);
                    }
                    return;
                }
            }
            throw new AssertionError(target + ": undocumented " + t.getClass().getName() + " (documented: "
                    + Arrays.stream(documented).map(Class::getSimpleName).toList() + "): " + t.getMessage(), t);
        }
    }
}
