package org.ldm4j.batch;

import java.io.IOException;
import java.nio.file.Path;

/**
 * Where a batch writes its outputs: a local folder ({@link LocalBatchStore}) or, in the Spark module, any Hadoop
 * FileSystem. Paths are relative to the job's output root ({@code images/ID.png}, {@code rows/ID.json}).
 *
 * <p>Every write is atomic: the bytes go to a hidden temporary name in the same folder ({@code .NAME.*.tmp}) that is
 * then renamed, so a killed task leaves either the whole file or none (plus at worst a temporary, which readers
 * ignore and {@link #sweepTemporaries} removes).
 */
public interface BatchStore {
    boolean exists(String relative) throws IOException;

    byte[] read(String relative) throws IOException;

    /** Writes atomically, creating parent folders; replaces an existing file. */
    void write(String relative, byte[] bytes) throws IOException;

    /** A local file holding the input named in a spec (init image, painting, mask): a path or a store-specific URI. */
    Path localInput(String location) throws IOException;

    /** The full location of {@code relative}, for the index and messages. */
    String location(String relative);

    /** Deletes temporaries that killed writers left in images/ and rows/; returns how many. Driver only, before a run. */
    int sweepTemporaries() throws IOException;

    /** Whether a name is one of the temporaries {@link #write} uses. */
    static boolean isTemporary(String fileName) {
        return fileName.startsWith(".") && fileName.endsWith(".tmp");
    }
}
