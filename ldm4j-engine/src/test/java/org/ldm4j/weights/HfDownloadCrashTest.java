package org.ldm4j.weights;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Random;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.*;

/**
 * A Hugging Face cache download killed half-way (issue #14): a child JVM downloads an 8 MiB LFS file from the local
 * Hub stand-in, slowed down, and is killed with SIGKILL once part of it has arrived. Nothing under the names readers
 * use (the blob named by its sha256, the snapshot link) may exist then, only the {@code .incomplete} file; a rerun
 * must resume it with a Range request and end with exactly the served bytes.
 */
class HfDownloadCrashTest {
    static final String REPO = "tiny-org/big-file";
    static final String COMMIT = "fedcba9876543210fedcba9876543210fedcba98";
    static final String FILE = "unet/diffusion_pytorch_model.bin";

    @TempDir Path dir;

    @Test void aDownloadKilledHalfWayLeavesNoVisibleFileAndARerunResumesIt() throws Exception {
        byte[] content = new byte[8 << 20];
        new Random(14).nextBytes(content);
        Path remote = dir.resolve("remote");
        Files.createDirectories(remote.resolve("unet"));
        Files.write(remote.resolve(FILE), content);
        String etag = HubTestServer.etag(content, true);
        Path cache = dir.resolve("hf/hub");
        Path blobs = cache.resolve("models--tiny-org--big-file/blobs");
        Path partial = blobs.resolve(etag + ".incomplete");
        try (HubTestServer server = new HubTestServer(REPO, COMMIT, remote)) {
            server.throttle(20);   // 64 KiB per 20 ms: the whole file would take about 2.6 s
            String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
            Process child = new ProcessBuilder(java, "-Xmx128m", "-cp", System.getProperty("java.class.path"),
                    HfDownloadCrashTest.class.getName(), cache.toString(), server.endpoint().toString())
                    .redirectErrorStream(true).start();
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
            while (!(Files.exists(partial) && Files.size(partial) >= (2 << 20))) {
                assertTrue(child.isAlive(), () -> "the child ended before it was killed: " + output(child));
                assertTrue(System.nanoTime() < deadline, "the download never got going");
                Thread.sleep(20);
            }
            child.destroyForcibly();   // SIGKILL: no finally block, no shutdown hook
            assertTrue(child.waitFor(30, TimeUnit.SECONDS));
            long kept = Files.size(partial);
            assertTrue(kept > 0 && kept < content.length, "a partial download: " + kept);
            assertFalse(Files.exists(blobs.resolve(etag)), "no blob under its final name");
            assertFalse(Files.exists(cache.resolve("models--tiny-org--big-file/snapshots/" + COMMIT + "/" + FILE)), "no snapshot link");

            server.throttle(0);
            List<String> requests = server.requests();
            int before = requests.size();
            Path got = server.hub(cache).download(REPO, COMMIT, FILE);
            assertArrayEquals(content, Files.readAllBytes(got));
            assertTrue(requests.subList(before, requests.size()).stream().anyMatch(r -> r.startsWith("GET ") && r.contains("bytes=")),
                    "the rerun resumes with a Range request: " + requests.subList(before, requests.size()));
            assertFalse(Files.exists(partial));
        }
    }

    private static String output(Process p) {
        try {
            return new String(p.getInputStream().readAllBytes());
        } catch (java.io.IOException e) {
            return e.toString();
        }
    }

    /** The child: downloads the file into the cache (and is killed before it finishes). */
    public static void main(String[] args) throws Exception {
        new HfHub(Path.of(args[0]), URI.create(args[1]), null, false, false).download(REPO, COMMIT, FILE);
    }
}
