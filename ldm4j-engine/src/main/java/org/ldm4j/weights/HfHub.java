package org.ldm4j.weights;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.json.JsonMapper;
import me.tongfei.progressbar.ProgressBar;
import me.tongfei.progressbar.ProgressBarBuilder;
import org.ldm4j.image.AtomicFiles;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.function.Predicate;
import java.util.regex.Pattern;

/**
 * Models from the Hugging Face Hub, through the cache layout huggingface_hub uses ({@code file_download.py}), so
 * ldm4j and Python share downloads:
 * {@code <cache>/models--org--name/refs/<revision>} (the commit), {@code blobs/<etag>} (file contents, named by the
 * server's {@code X-Linked-Etag} or {@code ETag}), {@code snapshots/<commit>/<path>} (relative symlinks to blobs).
 *
 * <p>Environment: {@code HF_HUB_CACHE} or {@code HF_HOME}/hub (default {@code ~/.cache/huggingface/hub}),
 * {@code HF_ENDPOINT} (default https://huggingface.co), {@code HF_TOKEN} (sent as {@code Authorization: Bearer},
 * only to the endpoint's host), {@code HF_HUB_OFFLINE=1} (cache only). Online, the file list and commit come from
 * {@code {endpoint}/api/models/{repo}/revision/{rev}}; files from {@code {endpoint}/{repo}/resolve/{commit}/{path}}.
 * Partial downloads are kept as {@code blobs/<etag>.incomplete} and resumed with a {@code Range} request; complete
 * blobs are moved into place atomically, and LFS blobs (64-hex etag = sha256) are verified.
 */
public final class HfHub {
    private static final org.slf4j.Logger LOG = org.slf4j.LoggerFactory.getLogger(HfHub.class);

    private static final JsonMapper JSON = new JsonMapper();
    private static final Pattern COMMIT = Pattern.compile("[0-9a-f]{40}");
    private static final Pattern SHA256 = Pattern.compile("[0-9a-f]{64}");

    private final Path cache;
    private final URI endpoint;
    private final String token;
    private final boolean offline;
    private final boolean progress;
    private final HttpClient http;

    public HfHub(Path cache, URI endpoint, String token, boolean offline, boolean progress) {
        this.cache = cache;
        this.endpoint = URI.create(endpoint.toString().replaceAll("/+$", ""));
        this.token = token == null || token.isBlank() ? null : token.strip();
        this.offline = offline;
        this.progress = progress;
        this.http = HttpClient.newBuilder().followRedirects(HttpClient.Redirect.NEVER)
                .connectTimeout(Duration.ofSeconds(30)).build();
    }

    public static HfHub fromEnvironment() { return fromEnvironment(System.getenv()); }

    public static HfHub fromEnvironment(Map<String, String> env) {
        Path home = env.containsKey("HF_HOME") ? Path.of(env.get("HF_HOME"))
                : Path.of(System.getProperty("user.home"), ".cache", "huggingface");
        Path cache = env.containsKey("HF_HUB_CACHE") ? Path.of(env.get("HF_HUB_CACHE")) : home.resolve("hub");
        String offline = env.getOrDefault("HF_HUB_OFFLINE", "0").toLowerCase();
        return new HfHub(cache, URI.create(env.getOrDefault("HF_ENDPOINT", "https://huggingface.co")),
                env.get("HF_TOKEN"), java.util.Set.of("1", "true", "yes", "on").contains(offline), true);
    }

    public Path cacheDir() { return cache; }

    public boolean offline() { return offline; }

    /** {@code <cache>/models--org--name}. */
    public Path repoDir(String repoId) {
        if (!repoId.matches("[A-Za-z0-9][A-Za-z0-9._-]*(/[A-Za-z0-9][A-Za-z0-9._-]*)?") || repoId.contains("..")) {
            throw new IllegalArgumentException("invalid Hugging Face model id '" + repoId + "' (expected org/name)");
        }
        return cache.resolve("models--" + repoId.replace("/", "--"));
    }

    /** The files a Stable Diffusion pipeline needs: configs, tokenizer, and the safetensors of each model component. */
    public static Predicate<String> pipelineFiles(String variant) {
        return path -> {
            if (path.equals("model_index.json")) return true;
            int slash = path.indexOf('/');
            if (slash < 0 || path.indexOf('/', slash + 1) >= 0) return false;
            String dir = path.substring(0, slash), file = path.substring(slash + 1);
            if (file.equals("config.json") || file.equals("scheduler_config.json")) return true;
            if (dir.equals("tokenizer") || dir.startsWith("tokenizer_")) {
                return file.endsWith(".json") || file.endsWith(".txt");
            }
            if (dir.equals("safety_checker") || dir.equals("feature_extractor")) return false;
            return isWeightFile(file, variant);
        };
    }

    private static final Pattern PLAIN_WEIGHTS = Pattern.compile(
            "(diffusion_pytorch_model|model)(-\\d{5}-of-\\d{5})?\\.safetensors|(diffusion_pytorch_model|model)\\.safetensors\\.index\\.json");

    static boolean isWeightFile(String file, String variant) {
        if (variant == null) return PLAIN_WEIGHTS.matcher(file).matches();
        String v = Pattern.quote(variant);
        return file.matches("(diffusion_pytorch_model|model)\\." + v + "(-\\d{5}-of-\\d{5})?\\.safetensors")
                || file.matches("(diffusion_pytorch_model|model)\\.safetensors\\.index\\." + v + "\\.json");
    }

    /**
     * The local snapshot folder of {@code repoId} at {@code revision}, downloading the files {@code wanted} selects
     * that are not cached yet (nothing is downloaded offline). Returns {@code snapshots/<commit>}.
     */
    public Path snapshot(String repoId, String revision, Predicate<String> wanted) throws IOException {
        return snapshotSelecting(repoId, revision, all -> wanted);
    }

    private static final Pattern PICKLE_WEIGHTS = Pattern.compile(
            "(diffusion_pytorch_model|pytorch_model)(-\\d{5}-of-\\d{5})?\\.bin|(diffusion_pytorch_model|pytorch_model)\\.bin\\.index\\.json");

    /**
     * A Stable Diffusion pipeline ({@link #pipelineFiles}): per component folder, the {@code variant} weights where
     * the repository has them, else the default ones (as diffusers falls back); a component folder with no
     * safetensors at all gets its PyTorch {@code .bin} weights, which {@link TorchCheckpoint} reads weights-only.
     */
    public Path pipeline(String repoId, String revision, String variant) throws IOException {
        return snapshotSelecting(repoId, revision, all -> {
            java.util.Set<String> withVariant = new java.util.HashSet<>(), withSafetensors = new java.util.HashSet<>();
            for (String f : all) {
                int slash = f.indexOf('/');
                if (slash < 0) continue;
                if (variant != null && isWeightFile(f.substring(slash + 1), variant)) withVariant.add(f.substring(0, slash));
                if (f.endsWith(".safetensors")) withSafetensors.add(f.substring(0, slash));
            }
            Predicate<String> plain = pipelineFiles(null), varied = pipelineFiles(variant);
            return f -> {
                int slash = f.indexOf('/');
                if (slash > 0 && f.indexOf('/', slash + 1) < 0 && !withSafetensors.contains(f.substring(0, slash))
                        && PICKLE_WEIGHTS.matcher(f.substring(slash + 1)).matches()) {
                    return !f.startsWith("safety_checker/") && !f.startsWith("feature_extractor/");
                }
                return slash > 0 && withVariant.contains(f.substring(0, slash)) ? varied.test(f) : plain.test(f);
            };
        });
    }

    /** Top-level files of a transformers model repository that a CLIP ranker needs: config, tokenizer, weights. */
    private static final Pattern TRANSFORMERS_FILES = Pattern.compile(
            "config\\.json|vocab\\.json|merges\\.txt|tokenizer\\.json|tokenizer_config\\.json|special_tokens_map\\.json");
    private static final Pattern MODEL_SAFETENSORS = Pattern.compile("model(-\\d{5}-of-\\d{5})?\\.safetensors|model\\.safetensors\\.index\\.json");

    /**
     * A transformers model repository (e.g. {@code openai/clip-vit-base-patch16}): its top-level config and tokenizer
     * files and its weights, {@code model.safetensors} where the repository has them, else {@code pytorch_model.bin}
     * (read weights-only); TensorFlow and Flax weights are never fetched.
     */
    public Path transformersModel(String repoId, String revision) throws IOException {
        return snapshotSelecting(repoId, revision, all -> {
            boolean safetensors = all.stream().anyMatch(f -> MODEL_SAFETENSORS.matcher(f).matches());
            return f -> TRANSFORMERS_FILES.matcher(f).matches()
                    || (safetensors ? MODEL_SAFETENSORS.matcher(f).matches() : PICKLE_WEIGHTS.matcher(f).matches() && f.startsWith("pytorch_model"));
        });
    }

    private Path snapshotSelecting(String repoId, String revision,
                          java.util.function.Function<List<String>, Predicate<String>> select) throws IOException {
        String rev = revision == null ? "main" : revision;
        Path repo = repoDir(repoId);
        if (offline) {
            String commit = cachedCommit(repoId, rev).orElseThrow(() -> new IOException("offline (HF_HUB_OFFLINE=1) and "
                    + repoId + "@" + rev + " is not in the cache " + cache));
            Path snap = repo.resolve("snapshots").resolve(commit);
            if (!Files.isDirectory(snap)) throw new IOException("offline and " + snap + " is missing");
            return snap;
        }
        JsonNode info;
        try {
            info = getJson(endpoint + "/api/models/" + repoId + "/revision/" + encode(rev), repoId + "@" + rev);
        } catch (Unreachable e) {   // as huggingface_hub does: a revision already in the cache is served from it
            Optional<Path> snap = cachedCommit(repoId, rev).map(c -> repo.resolve("snapshots").resolve(c)).filter(Files::isDirectory);
            if (snap.isPresent()) {
                LOG.warn("{}@{}: {}; using the cached snapshot {} (HF_HUB_OFFLINE=1 skips the network)", repoId, rev, e.getMessage(), snap.get());
                return snap.get();
            }
            throw new IOException(repoId + "@" + rev + ": " + e.getMessage() + " and it is not in the cache " + cache, e);
        }
        String commit = info.path("sha").asText("");
        if (!COMMIT.matcher(commit).matches()) throw new IOException(repoId + "@" + rev + ": server gave no commit sha");
        if (!rev.equals(commit)) writeRef(repo, rev, commit);
        List<String> all = new ArrayList<>();
        for (JsonNode s : info.path("siblings")) {
            String f = s.path("rfilename").asText("");
            if (!f.isEmpty()) all.add(f);
        }
        Predicate<String> wanted = select.apply(all);
        List<String> files = all.stream().filter(wanted).toList();
        if (files.isEmpty()) throw new IOException(repoId + "@" + rev + ": none of its files is needed by the filter");
        for (String f : files) download(repoId, commit, f);
        return repo.resolve("snapshots").resolve(commit);
    }

    /** The commit a revision points to in the cache, if known. */
    public Optional<String> cachedCommit(String repoId, String revision) throws IOException {
        if (COMMIT.matcher(revision).matches()) return Optional.of(revision);
        Path ref = repoDir(repoId).resolve("refs").resolve(revision);
        if (!Files.isRegularFile(ref)) return Optional.empty();
        String c = Files.readString(ref).strip();
        return COMMIT.matcher(c).matches() ? Optional.of(c) : Optional.empty();
    }

    /** A cached file, without any network access. */
    public Optional<Path> cached(String repoId, String revision, String file) throws IOException {
        Optional<String> commit = cachedCommit(repoId, revision == null ? "main" : revision);
        if (commit.isEmpty()) return Optional.empty();
        Path p = repoDir(repoId).resolve("snapshots").resolve(commit.get()).resolve(file);
        return Files.exists(p) ? Optional.of(p) : Optional.empty();
    }

    /** Downloads one file into the cache (skipped when its snapshot entry or blob exists) and returns the snapshot path. */
    public Path download(String repoId, String commit, String file) throws IOException {
        if (file.startsWith("/") || file.contains("..") || file.contains("\\")) throw new IOException("unsafe file path " + file);
        Path repo = repoDir(repoId);
        Path target = repo.resolve("snapshots").resolve(commit).resolve(file);
        if (Files.exists(target)) return target;
        if (offline) throw new IOException("offline and " + repoId + "/" + file + " is not in the cache");
        String url = endpoint + "/" + repoId + "/resolve/" + encode(commit) + "/" + file;
        HttpResponse<Void> head = send(HttpRequest.newBuilder(URI.create(url)).method("HEAD", HttpRequest.BodyPublishers.noBody())
                .header("Accept-Encoding", "identity"), HttpResponse.BodyHandlers.discarding(), url);
        String etag = normalizeEtag(head.headers().firstValue("X-Linked-Etag").or(() -> head.headers().firstValue("ETag"))
                .orElseThrow(() -> new IOException(url + ": server sent no ETag")));
        if (!etag.matches("[A-Za-z0-9._-]+")) throw new IOException(url + ": unusable ETag " + etag);
        long size = head.headers().firstValueAsLong("X-Linked-Size")
                .orElse(head.headers().firstValueAsLong("Content-Length").orElse(-1));
        Path blob = repo.resolve("blobs").resolve(etag);
        if (!Files.exists(blob)) fetchBlob(url, blob, size, etag, file);
        link(target, blob);
        return target;
    }

    private void fetchBlob(String url, Path blob, long size, String etag, String file) throws IOException {
        Files.createDirectories(blob.getParent());
        Path partial = blob.resolveSibling(etag + ".incomplete");
        long have = Files.exists(partial) ? Files.size(partial) : 0;
        HttpRequest.Builder get = HttpRequest.newBuilder(URI.create(url)).GET().header("Accept-Encoding", "identity");
        if (have > 0) get.header("Range", "bytes=" + have + "-");
        HttpResponse<InputStream> resp = send(get, HttpResponse.BodyHandlers.ofInputStream(), url);
        boolean resumed = resp.statusCode() == 206;
        if (!resumed) have = 0;   // a 200 carries the whole file
        try (InputStream in = resp.body();
             OutputStream out = Files.newOutputStream(partial, StandardOpenOption.CREATE, StandardOpenOption.WRITE,
                     resumed ? StandardOpenOption.APPEND : StandardOpenOption.TRUNCATE_EXISTING);
             ProgressBar bar = progress ? new ProgressBarBuilder().setTaskName(file).setInitialMax(size > 0 ? size : 0)
                     .setUnit("MB", 1 << 20).showSpeed().startsFrom(have, Duration.ZERO).build() : null) {
            byte[] buf = new byte[1 << 16];
            for (int r; (r = in.read(buf)) > 0; ) {
                out.write(buf, 0, r);
                if (bar != null) bar.stepBy(r);
            }
        }
        long got = Files.size(partial);
        if (size >= 0 && got != size) throw new IOException(url + ": got " + got + " bytes, expected " + size + " (kept " + partial + " for resuming)");
        if (SHA256.matcher(etag).matches()) {
            String sha = sha256(partial);
            if (!sha.equals(etag)) {
                Files.delete(partial);
                throw new IOException(url + ": sha256 " + sha + " does not match the server's " + etag);
            }
        }
        Files.move(partial, blob, StandardCopyOption.ATOMIC_MOVE);
    }

    private static void link(Path target, Path blob) throws IOException {
        Files.createDirectories(target.getParent());
        Path relative = target.getParent().relativize(blob);
        Path tmp = target.resolveSibling("." + target.getFileName() + ".tmp" + ProcessHandle.current().pid());
        Files.deleteIfExists(tmp);
        try {
            Files.createSymbolicLink(tmp, relative);
        } catch (UnsupportedOperationException | IOException e) {   // e.g. Windows without the privilege
            Files.copy(blob, tmp, StandardCopyOption.REPLACE_EXISTING);
        }
        Files.move(tmp, target, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
    }

    private static void writeRef(Path repo, String revision, String commit) throws IOException {
        Path ref = repo.resolve("refs").resolve(revision);
        if (!ref.normalize().startsWith(repo.resolve("refs"))) throw new IOException("unsafe revision " + revision);
        Files.createDirectories(ref.getParent());
        Path tmp = AtomicFiles.newTempFile(ref.getParent(), ".ref.");
        Files.writeString(tmp, commit);
        AtomicFiles.keepUsualPermissions(tmp, ref);
        Files.move(tmp, ref, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
    }

    private JsonNode getJson(String url, String what) throws IOException {
        HttpResponse<byte[]> r = send(HttpRequest.newBuilder(URI.create(url)).GET(), HttpResponse.BodyHandlers.ofByteArray(), url);
        return JSON.readTree(r.body());
    }

    /** Sends with manual redirects, so the token never leaves the endpoint's host. Non-2xx statuses become IOExceptions. */
    private <T> HttpResponse<T> send(HttpRequest.Builder request, HttpResponse.BodyHandler<T> body, String what) throws IOException {
        URI uri = request.build().uri();
        for (int hop = 0; hop < 10; hop++) {
            HttpRequest.Builder b = request.copy().uri(uri).header("User-Agent", "ldm4j");
            if (token != null && sameHost(uri)) b.header("Authorization", "Bearer " + token);
            HttpResponse<T> r;
            try {
                r = http.send(b.build(), body);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new IOException("interrupted: " + what, e);
            } catch (IOException e) {   // no answer at all: say why, naming the host (the JDK's message is often null)
                throw new Unreachable("cannot reach " + uri.getHost() + (uri.getPort() >= 0 ? ":" + uri.getPort() : "")
                        + " (" + whyUnreachable(e) + ")", e);
            }
            int code = r.statusCode();
            if (code >= 300 && code < 400 && r.headers().firstValue("Location").isPresent()) {
                // HEAD keeps the Hub's own headers (X-Linked-Etag) from the first, non-CDN response
                if (request.build().method().equals("HEAD")) return r;
                uri = uri.resolve(r.headers().firstValue("Location").get());
                continue;
            }
            if (code == 401 || code == 403) throw new IOException(what + ": HTTP " + code + " (gated or private repository? set HF_TOKEN)");
            if (code == 404) throw new IOException(what + ": HTTP 404 (no such repository, revision or file)");
            if (code < 200 || code >= 300) throw new IOException(what + ": HTTP " + code);
            return r;
        }
        throw new IOException(what + ": too many redirects");
    }

    /** No response from the server: the network, the host name or the connection failed. */
    static final class Unreachable extends IOException {
        Unreachable(String message, Throwable cause) { super(message, cause); }
    }

    /** Why a request got no response, in words: the exception chain's kind of failure, with its deepest message. */
    static String whyUnreachable(IOException e) {
        String detail = null;
        for (Throwable t = e; t != null; t = t.getCause()) {
            if (t instanceof java.nio.channels.UnresolvedAddressException || t instanceof java.net.UnknownHostException) {
                return "its host name does not resolve: offline, or no DNS?";
            }
            if (t instanceof java.net.http.HttpTimeoutException) return "timed out";
            if (t instanceof javax.net.ssl.SSLException) return "TLS failed: " + t.getMessage();
            if (t.getMessage() != null) detail = t.getMessage();
        }
        if (e instanceof java.net.ConnectException || e.getCause() instanceof java.net.ConnectException) {
            return detail != null ? detail.toLowerCase(java.util.Locale.ROOT) : "connection failed";
        }
        return detail != null ? detail : e.getClass().getSimpleName();
    }

    private boolean sameHost(URI uri) {
        return endpoint.getHost() != null && endpoint.getHost().equalsIgnoreCase(uri.getHost()) && endpoint.getPort() == uri.getPort();
    }

    static String normalizeEtag(String etag) {
        String e = etag.strip();
        if (e.startsWith("W/")) e = e.substring(2);
        return e.replace("\"", "");
    }

    private static String encode(String s) { return URLEncoder.encode(s, StandardCharsets.UTF_8).replace("+", "%20"); }

    private static String sha256(Path file) throws IOException {
        try (InputStream in = Files.newInputStream(file)) {
            java.security.MessageDigest md = java.security.MessageDigest.getInstance("SHA-256");
            byte[] buf = new byte[1 << 16];
            for (int r; (r = in.read(buf)) > 0; ) md.update(buf, 0, r);
            return java.util.HexFormat.of().formatHex(md.digest());
        } catch (java.security.NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }
}
