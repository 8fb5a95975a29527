package org.ldm4j.batch;

import org.ldm4j.image.AtomicFiles;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Stream;

/** A batch's outputs in a local folder; writes go through {@link AtomicFiles} (temp file + atomic move). */
public final class LocalBatchStore implements BatchStore {
    private final Path root;

    public LocalBatchStore(Path root) { this.root = root.toAbsolutePath(); }

    public Path root() { return root; }

    @Override public boolean exists(String relative) { return Files.isRegularFile(root.resolve(relative)); }

    @Override public byte[] read(String relative) throws IOException { return Files.readAllBytes(root.resolve(relative)); }

    @Override
    public void write(String relative, byte[] bytes) throws IOException {
        Path target = root.resolve(relative);
        Files.createDirectories(target.getParent());
        AtomicFiles.write(target, bytes);
    }

    @Override
    public Path localInput(String location) throws IOException {
        Path p = Path.of(location.startsWith("file:") ? java.net.URI.create(location).getPath() : location);
        if (!Files.isRegularFile(p)) throw new IOException("input file not found: " + location);
        return p;
    }

    @Override public String location(String relative) { return root.resolve(relative).toString(); }

    @Override
    public int sweepTemporaries() throws IOException {
        int n = 0;
        for (String dir : List.of("images", "rows")) {
            Path d = root.resolve(dir);
            if (!Files.isDirectory(d)) continue;
            try (Stream<Path> files = Files.list(d)) {
                for (Path p : files.filter(f -> BatchStore.isTemporary(f.getFileName().toString())).toList()) {
                    if (Files.deleteIfExists(p)) n++;
                }
            }
        }
        return n;
    }
}
