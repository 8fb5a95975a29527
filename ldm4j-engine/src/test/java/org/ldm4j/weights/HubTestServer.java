package org.ldm4j.weights;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;

import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.stream.Stream;

/**
 * Test fixture: serves one local folder as a Hugging Face model repository on 127.0.0.1 (ephemeral port), in the
 * Hub's URL layout that {@link HfHub} uses: {@code /api/models/<repo>/revision/<rev>} (commit sha and file list) and
 * {@code /<repo>/resolve/<commit>/<path>} with {@code X-Linked-Etag} (sha256) for LFS-like files and {@code ETag}
 * (sha1) for small ones, plus {@code Range} resumption. No other host is ever contacted.
 */
public final class HubTestServer implements AutoCloseable {
    private final HttpServer server;
    private final String repo;
    private final String commit;
    private final Path files;
    private final List<String> requests = new CopyOnWriteArrayList<>();
    private volatile int chunkDelayMillis;

    public HubTestServer(String repo, String commit, Path files) throws IOException {
        this.repo = repo;
        this.commit = commit;
        this.files = files;
        server = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 0);
        server.createContext("/", this::handle);
        server.start();
    }

    public URI endpoint() { return URI.create("http://127.0.0.1:" + server.getAddress().getPort()); }

    /** A client of this server caching under {@code cache}, without progress bars. */
    public HfHub hub(Path cache) { return new HfHub(cache, endpoint(), null, false, false); }

    /** Slows file bodies down: a pause of {@code millis} after every 64 KiB (0: full speed), so a client can be killed mid-download. */
    public void throttle(int millis) { chunkDelayMillis = millis; }

    /** "METHOD path range authorization" of every request so far ("null" for a header not sent). */
    public List<String> requests() { return requests; }

    private List<String> listing() throws IOException {
        try (Stream<Path> s = Files.walk(files)) {
            return s.filter(Files::isRegularFile).map(p -> files.relativize(p).toString().replace('\\', '/')).sorted().toList();
        }
    }

    /** The etag the Hub gives a file: sha256 of an LFS file, sha1 (git's blob id stands in) of a small one. */
    public static String etag(byte[] content, boolean lfs) {
        try {
            return HexFormat.of().formatHex(MessageDigest.getInstance(lfs ? "SHA-256" : "SHA-1").digest(content));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    private void handle(HttpExchange ex) throws IOException {
        String path = ex.getRequestURI().getPath();
        String range = ex.getRequestHeaders().getFirst("Range");
        requests.add(ex.getRequestMethod() + " " + path + " " + range + " " + ex.getRequestHeaders().getFirst("Authorization"));
        try (ex) {
            if (path.equals("/api/models/" + repo + "/revision/main") || path.equals("/api/models/" + repo + "/revision/" + commit)) {
                StringBuilder json = new StringBuilder("{\"sha\":\"" + commit + "\",\"siblings\":[");
                List<String> all = listing();
                for (int i = 0; i < all.size(); i++) json.append(i > 0 ? "," : "").append("{\"rfilename\":\"").append(all.get(i)).append("\"}");
                byte[] body = json.append("]}").toString().getBytes(StandardCharsets.UTF_8);
                ex.sendResponseHeaders(200, body.length);
                ex.getResponseBody().write(body);
                return;
            }
            String prefix = "/" + repo + "/resolve/" + commit + "/";
            Path file = path.startsWith(prefix) ? files.resolve(path.substring(prefix.length())).normalize() : null;
            if (file == null || !file.startsWith(files) || !Files.isRegularFile(file)) {
                ex.sendResponseHeaders(404, -1);
                return;
            }
            byte[] content = Files.readAllBytes(file);
            boolean lfs = path.endsWith(".safetensors") || path.endsWith(".bin") || path.endsWith(".ckpt");
            ex.getResponseHeaders().add("X-Repo-Commit", commit);
            ex.getResponseHeaders().add(lfs ? "X-Linked-Etag" : "ETag", "\"" + etag(content, lfs) + "\"");
            ex.getResponseHeaders().add("X-Linked-Size", Long.toString(content.length));
            if (ex.getRequestMethod().equals("HEAD")) {
                ex.sendResponseHeaders(200, -1);
                return;
            }
            int from = 0;
            if (range != null && range.startsWith("bytes=") && range.endsWith("-")) {
                from = Integer.parseInt(range.substring(6, range.length() - 1));
                ex.getResponseHeaders().add("Content-Range", "bytes " + from + "-" + (content.length - 1) + "/" + content.length);
                ex.sendResponseHeaders(206, content.length - from);
            } else {
                ex.sendResponseHeaders(200, content.length);
            }
            for (int at = from; at < content.length; at += 1 << 16) {
                ex.getResponseBody().write(content, at, Math.min(1 << 16, content.length - at));
                if (chunkDelayMillis > 0) {
                    ex.getResponseBody().flush();
                    try {
                        Thread.sleep(chunkDelayMillis);
                    } catch (InterruptedException e) {
                        Thread.currentThread().interrupt();
                        return;
                    }
                }
            }
        }
    }

    @Override public void close() { server.stop(0); }
}
