package org.ldm4j.spark;

import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.FSDataInputStream;
import org.apache.hadoop.fs.FSDataOutputStream;
import org.apache.hadoop.fs.FileStatus;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.Path;
import org.ldm4j.batch.BatchStore;

import java.io.IOException;
import java.io.InputStream;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.StandardCopyOption;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;

/**
 * A batch's outputs on any Hadoop {@link FileSystem} (HDFS, S3A, GCS, file:...). Writes go to a hidden temporary in
 * the target's folder and are renamed: atomic on HDFS and local disks; object stores (S3A) copy on rename, which
 * is still all-or-nothing for readers. Local folders use the raw local FS, so no {@code .crc} files appear beside
 * the images.
 */
final class HadoopBatchStore implements BatchStore {
    /** Inputs fetched from a remote FS to this JVM's local disk, once per JVM. */
    private static final Map<String, java.nio.file.Path> FETCHED = new ConcurrentHashMap<>();

    private final Configuration conf;
    private final Path root;
    private final FileSystem fs;

    HadoopBatchStore(String output, Configuration conf) throws IOException {
        this.conf = conf;
        Path p = new Path(output);
        FileSystem f = p.getFileSystem(conf);
        if ("file".equals(f.getScheme())) f = FileSystem.getLocal(conf).getRawFileSystem();
        this.fs = f;
        this.root = fs.makeQualified(p);
    }

    Path root() { return root; }

    @Override public boolean exists(String relative) throws IOException { return fs.isFile(new Path(root, relative)); }

    @Override
    public byte[] read(String relative) throws IOException {
        try (FSDataInputStream in = fs.open(new Path(root, relative))) {
            return in.readAllBytes();
        }
    }

    @Override
    public void write(String relative, byte[] bytes) throws IOException {
        Path target = new Path(root, relative);
        Path dir = target.getParent();
        fs.mkdirs(dir);
        Path temp = new Path(dir, "." + target.getName() + "." + UUID.randomUUID() + ".tmp");
        boolean moved = false;
        try {
            try (FSDataOutputStream out = fs.create(temp, true)) {
                out.write(bytes);
                out.hsync();   // on disk before the rename makes it visible
            }
            if (!fs.rename(temp, target)) {
                // HDFS does not rename over an existing file; the old one is the same item's earlier output
                fs.delete(target, false);
                if (!fs.rename(temp, target)) throw new IOException("cannot rename " + temp + " to " + target);
            }
            moved = true;
        } finally {
            if (!moved) {
                try {
                    fs.delete(temp, false);
                } catch (IOException suppressed) {
                    // the original failure is what the caller needs to see
                }
            }
        }
    }

    /**
     * A plain path that exists here is used as it is; anything else is read through Hadoop (a URI, or a path on the
     * default FS) and copied to a local temporary once per JVM.
     */
    @Override
    public java.nio.file.Path localInput(String location) throws IOException {
        URI uri = URI.create(location.replace(" ", "%20"));
        if (uri.getScheme() == null || "file".equals(uri.getScheme())) {
            java.nio.file.Path local = uri.getScheme() == null ? java.nio.file.Path.of(location) : java.nio.file.Path.of(uri);
            if (Files.isRegularFile(local)) return local;
            if (uri.getScheme() != null) throw new IOException("input file not found: " + location);
        }
        java.nio.file.Path cached = FETCHED.get(location);
        if (cached != null && Files.isRegularFile(cached)) return cached;
        Path remote = new Path(location);
        FileSystem rfs = remote.getFileSystem(conf);
        if (!rfs.isFile(remote)) throw new IOException("input file not found: " + location);
        String name = remote.getName();
        java.nio.file.Path tmp = Files.createTempFile("ldm4j-input-", name.contains(".") ? name.substring(name.lastIndexOf('.')) : "");
        tmp.toFile().deleteOnExit();
        try (InputStream in = rfs.open(remote)) {
            Files.copy(in, tmp, StandardCopyOption.REPLACE_EXISTING);
        }
        FETCHED.put(location, tmp);
        return tmp;
    }

    @Override public String location(String relative) { return new Path(root, relative).toString(); }

    @Override
    public int sweepTemporaries() throws IOException {
        int n = 0;
        for (String dir : List.of("images", "rows")) {
            Path d = new Path(root, dir);
            if (!fs.exists(d)) continue;
            for (FileStatus s : fs.listStatus(d, p -> BatchStore.isTemporary(p.getName()))) {
                if (fs.delete(s.getPath(), false)) n++;
            }
        }
        return n;
    }
}
