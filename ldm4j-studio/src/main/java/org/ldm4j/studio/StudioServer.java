package org.ldm4j.studio;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.javalin.Javalin;
import io.javalin.http.Context;
import io.javalin.http.HttpResponseException;
import io.javalin.http.sse.SseClient;
import io.javalin.http.sse.SseHandler;
import org.ldm4j.image.PngParameters;
import org.ldm4j.nn.Dtypes;
import org.ldm4j.nn.Engine;
import org.ldm4j.pipeline.ModelLoader;
import org.ldm4j.pipeline.StableDiffusion;
import org.ldm4j.methods.blended.ClipEditScore;
import org.ldm4j.methods.blended.EditScorer;
import org.ldm4j.schedulers.Schedulers;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.SecureRandom;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * The studio's HTTP server: the JSON API (see the module README) and the page, on Javalin.
 *
 * <p>Safety: bound to 127.0.0.1 unless told otherwise, and then only with a token every API and gallery request
 * must send; no CORS headers, cross-origin requests refused (Origin checked, JSON content type required, which
 * browsers cannot send cross-origin without a preflight this server never answers); on loopback the Host header
 * must be a loopback name (DNS rebinding); files are served from the gallery folder only. Bad requests get 4xx
 * with {@code {"error": "..."}}; a stack trace never leaves the server.
 */
public final class StudioServer implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(StudioServer.class);
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final Map<String, String> PAGE_FILES = Map.of(
            "/", "index.html", "/studio.js", "studio.js", "/modes.js", "modes.js", "/paint.js", "paint.js",
            "/factorgraph.js", "factorgraph.js", "/studio.css", "studio.css");
    private static final String WEB_ROOT = "/org/ldm4j/studio/web/";
    private static final int MAX_REMEMBERED_JOBS = 1000;
    private static final SecureRandom IDS = new SecureRandom();

    private final StudioConfig config;
    private final Gallery gallery;
    private final ModelWorker worker;
    private final String noModelMessage;
    private final FactorGraphModel factorGraph;
    private final String noFactorGraphMessage;
    private final EditScorer clipRanker;   // the edit mode's CLIP ranking (--clip), or null
    private final Map<String, Job> jobs = new LinkedHashMap<>(16, 0.75f, false) {
        @Override protected boolean removeEldestEntry(Map.Entry<String, Job> eldest) {
            return size() > MAX_REMEMBERED_JOBS && eldest.getValue().state().finished();
        }
    };
    private final Javalin app;

    private StudioServer(StudioConfig config, Gallery gallery, ModelWorker worker, String noModelMessage,
                         FactorGraphModel factorGraph, String noFactorGraphMessage, EditScorer clipRanker) {
        this.config = config;
        this.clipRanker = clipRanker;
        this.gallery = gallery;
        this.worker = worker;
        this.noModelMessage = noModelMessage;
        this.factorGraph = factorGraph;
        this.noFactorGraphMessage = worker == null ? noModelMessage : noFactorGraphMessage;
        this.app = Javalin.create(c -> {
            c.showJavalinBanner = false;
            c.http.maxRequestSize = config.limits().maxBodyBytes();
            c.http.disableCompression();
        });
        routes();
        app.start(config.host(), config.port());
    }

    /**
     * Loads the model (if any) and starts serving. A model the user named must load; the default one may be
     * missing, and the server then runs and answers "no model loaded".
     */
    public static StudioServer start(StudioConfig config) throws IOException {
        return start(config, null);
    }

    /**
     * {@link #start(StudioConfig)} with the Factor graph mode: {@code factorGraph} is asked once, with the loaded
     * model, for the FG-DM to serve (null source, or null answer: the mode is shown disabled; see {@link FactorGraphSource}).
     */
    public static StudioServer start(StudioConfig config, FactorGraphSource factorGraph) throws IOException {
        config.validate();
        Engine.threads(config.threads());
        Gallery gallery = new Gallery(config.gallery());
        if (config.modelSpec() == null) return new StudioServer(config, gallery, null, "no model loaded: start the studio with --model DIR", null, null, null);
        StableDiffusion sd;
        try {
            sd = ModelLoader.load(config.modelSpec(), Dtypes.device(config.device()), Dtypes.parse(config.dtype()));
        } catch (IOException | RuntimeException e) {
            if (config.modelRequired()) throw new IOException("cannot load model '" + config.modelSpec() + "': " + e.getMessage(), e);
            LOG.warn("starting without a model: {}", e.getMessage());
            return new StudioServer(config, gallery, null, "no model loaded: " + config.modelSpec()
                    + " is not available (" + e.getMessage() + "); start the studio with --model DIR", null, null, null);
        }
        if (config.vae() != null) {   // asked for by name: a VAE that cannot serve stops the server
            try {
                sd = ModelLoader.withVaeFolder(sd, config.vae());
            } catch (IOException | IllegalArgumentException e) {
                throw new IOException("cannot use --vae " + config.vae() + ": " + e.getMessage(), e);
            }
        }
        EditScorer clip = null;
        if (config.clip() != null) {   // asked for by name, like --vae: a CLIP that cannot load stops the server
            try {
                clip = ClipEditScore.load(config.clip(), sd.device());
            } catch (IOException | RuntimeException e) {
                throw new IOException("cannot use --clip " + config.clip() + ": " + e.getMessage(), e);
            }
        }
        FactorGraphModel fg = null;
        String noFactorGraph = FactorGraphSource.NO_FACTORS;
        if (factorGraph != null) {
            try {
                fg = factorGraph.load(sd);
            } catch (IOException | RuntimeException e) {
                LOG.warn("the Factor graph mode is off: {}", e.getMessage());
                noFactorGraph = "cannot load the FG-DM factors: " + e.getMessage();
            }
        }
        ModelWorker worker = new ModelWorker(sd, ModelInfo.of(sd, config.modelSpec()), gallery, config.limits());
        return new StudioServer(config, gallery, worker, null, fg, noFactorGraph, clip);
    }

    public int port() { return app.port(); }

    /** The address to open; with a token, the page reads it from the fragment (never sent to the server). */
    public String url() {
        String host = config.host().contains(":") ? "[" + config.host() + "]" : config.host();
        return "http://" + host + ":" + port() + "/" + (config.token() != null ? "#token=" + config.token() : "");
    }

    public Gallery gallery() { return gallery; }

    @Override
    public void close() {
        if (worker != null) worker.close();
        app.stop();
    }

    private void routes() {
        app.before(this::guard);
        PAGE_FILES.forEach((path, file) -> app.get(path, ctx -> page(ctx, file)));
        app.get("/api/models", ctx -> json(ctx, 200, models()));
        app.post("/api/jobs", this::submit);
        app.get("/api/jobs/{id}", ctx -> json(ctx, 200, job(ctx).toJson()));
        app.delete("/api/jobs/{id}", this::cancel);
        app.get("/api/jobs/{id}/events", ctx -> {
            Job job = job(ctx);
            if (!"text/event-stream".equals(ctx.header("Accept"))) {   // Javalin's SSE handler answers nothing otherwise
                throw new ApiError(406, "this is an event stream: send Accept: text/event-stream");
            }
            new SseHandler(client -> stream(job, client)).handle(ctx);
        });
        app.get("/api/gallery", ctx -> json(ctx, 200, Map.of("items", gallery.list(200))));
        app.get("/gallery/{file}", ctx -> {
            Path file = gallery.resolve(ctx.pathParam("file"));
            ctx.contentType("image/png").result(Files.readAllBytes(file));
        });
        app.post("/api/parameters", this::parameters);
        app.post("/api/fgdm/edit", this::editMap);
        app.exception(ApiError.class, (e, ctx) -> json(ctx, e.status, Map.of("error", e.getMessage())));
        app.exception(HttpResponseException.class, (e, ctx) -> json(ctx, e.getStatus(), Map.of("error", e.getMessage())));
        app.exception(Exception.class, (e, ctx) -> {
            LOG.error("{} {} failed", ctx.method(), ctx.path(), e);
            json(ctx, 500, Map.of("error", "internal error (details are in the server log)"));
        });
        app.error(404, ctx -> {   // unmatched routes already answer JSON through HttpResponseException
            if (!"application/json".equals(ctx.res().getContentType())) {
                json(ctx, 404, Map.of("error", "no such endpoint: " + ctx.method() + " " + ctx.path()));
            }
        });
    }

    /** Token, Origin and Host checks for everything but the page itself. */
    private void guard(Context ctx) {
        ctx.header("X-Content-Type-Options", "nosniff");
        ctx.header("Referrer-Policy", "no-referrer");
        String path = ctx.path();
        if (PAGE_FILES.containsKey(path)) return;
        String origin = ctx.header("Origin");
        String host = ctx.header("Host");
        if (origin != null && !origin.equals("http://" + host)) {
            throw new ApiError(403, "cross-origin requests are refused (Origin " + origin + ")");
        }
        if (config.token() == null) {
            if (!loopbackName(host)) throw new ApiError(403, "requests must address the server by a loopback name, not " + host);
            return;
        }
        String auth = ctx.header("Authorization");
        byte[] expected = ("Bearer " + config.token()).getBytes(java.nio.charset.StandardCharsets.UTF_8);
        if (auth == null || !MessageDigest.isEqual(expected, auth.getBytes(java.nio.charset.StandardCharsets.UTF_8))) {
            ctx.header("WWW-Authenticate", "Bearer");
            throw new ApiError(401, "this server requires a token: send Authorization: Bearer <token>");
        }
    }

    private static boolean loopbackName(String host) {
        if (host == null) return false;
        String name = host.startsWith("[") ? host.substring(0, host.indexOf(']') + 1) : host.replaceFirst(":\\d+$", "");
        name = name.toLowerCase(Locale.ROOT);
        return name.equals("localhost") || name.equals("[::1]") || name.matches("127(\\.\\d{1,3}){3}");
    }

    private void page(Context ctx, String file) throws IOException {
        try (InputStream in = StudioServer.class.getResourceAsStream(WEB_ROOT + file)) {
            if (in == null) throw ApiError.notFound("page file missing from the jar: " + file);
            String type = file.endsWith(".html") ? "text/html; charset=utf-8"
                    : file.endsWith(".js") ? "text/javascript; charset=utf-8" : "text/css; charset=utf-8";
            ctx.header("Cache-Control", "no-cache");
            // The page talks to this server only: no scripts, styles, images or connections from elsewhere.
            ctx.header("Content-Security-Policy", "default-src 'self'; img-src 'self' data: blob:; connect-src 'self'; "
                    + "script-src 'self'; style-src 'self'; frame-ancestors 'none'; form-action 'none'");
            ctx.contentType(type).result(in.readAllBytes());
        }
    }

    private Map<String, Object> models() {
        Map<String, Object> m = new LinkedHashMap<>();
        List<Object> models = new ArrayList<>();
        if (worker != null) {
            Map<String, Object> info = new LinkedHashMap<>(JSON.convertValue(worker.info, Map.class));
            models.add(info);
        }
        m.put("models", models);
        m.put("loaded", worker != null);
        if (worker == null) m.put("message", noModelMessage);
        List<Map<String, Object>> modes = new ArrayList<>();
        for (Mode mode : Modes.ALL) {
            Map<String, Object> entry = new LinkedHashMap<>();
            entry.put("name", mode.name());
            entry.put("title", mode.title());
            boolean enabled = worker != null && (!mode.needsFactorGraph() || factorGraph != null);
            entry.put("enabled", enabled);
            if (!enabled) entry.put("message", mode.needsFactorGraph() ? noFactorGraphMessage : noModelMessage);
            modes.add(entry);
        }
        m.put("modes", modes);
        if (worker != null && factorGraph != null) m.put("factorGraph", FactorGraphInfo.of(factorGraph));
        m.put("clipRanking", clipRanker != null);
        List<String> schedulers = new ArrayList<>();
        for (Schedulers s : Schedulers.values()) schedulers.add(s.alias());
        m.put("schedulers", schedulers);
        m.put("limits", config.limits());
        return m;
    }

    private void submit(Context ctx) throws IOException {
        String type = ctx.contentType();
        if (type == null || !type.toLowerCase(Locale.ROOT).startsWith("application/json")) {
            throw new ApiError(415, "send the job as JSON (Content-Type: application/json)");
        }
        JsonNode body = parseJson(readBody(ctx));
        if (worker == null) throw new ApiError(503, noModelMessage);
        JsonNode modeNode = body.get("mode");
        if (modeNode != null && !modeNode.isTextual()) throw ApiError.badRequest("mode must be a string");
        Mode mode = Modes.get(modeNode == null ? null : modeNode.textValue());
        Mode.Prepared prepared = mode.prepare(new RequestFields(body, worker.info, config.limits(), mode.extraFields(),
                worker.sd.tokenizer).withFactorGraph(factorGraph, noFactorGraphMessage).withClipRanker(clipRanker));
        Job job = new Job(HexFormat.of().formatHex(randomId()), mode, prepared);
        synchronized (jobs) {
            jobs.put(job.id, job);
        }
        try {
            worker.submit(job);
        } catch (ApiError full) {
            synchronized (jobs) {
                jobs.remove(job.id);
            }
            throw full;
        }
        json(ctx, 202, Map.of("id", job.id, "url", "/api/jobs/" + job.id, "events", "/api/jobs/" + job.id + "/events"));
    }

    private static byte[] randomId() {
        byte[] b = new byte[8];
        IDS.nextBytes(b);
        return b;
    }

    private void cancel(Context ctx) {
        Job job = job(ctx);
        if (!worker.cancel(job)) throw new ApiError(409, "job " + job.id + " has already finished (" + job.state().json() + ")");
        json(ctx, 202, job.toJson());
    }

    private Job job(Context ctx) {
        String id = ctx.pathParam("id");
        Job job;
        synchronized (jobs) {
            job = jobs.get(id);
        }
        if (job == null) throw ApiError.notFound("no such job: " + id);
        return job;
    }

    private void stream(Job job, SseClient client) {
        client.keepAlive();
        Job.Listener listener = new Job.Listener() {
            @Override public void event(String event, Map<String, Object> data) {
                if (client.terminated()) throw new IllegalStateException("client went away");
                try {
                    client.sendEvent(event, JSON.writeValueAsString(data));
                } catch (JsonProcessingException e) {
                    throw new IllegalStateException(e);
                }
            }

            @Override public void finished() { client.close(); }
        };
        client.onClose(() -> job.unsubscribe(listener));
        job.subscribe(listener);
    }

    /**
     * {@code POST /api/fgdm/edit}: the map editor's operations without generating ({@link SegmentationEdits}), on the
     * HTTP thread (class maps, no model): body {@code {map, edits?, select?: {x, y}}}; answers the edited map in
     * exact palette colours, its class areas and, with {@code select}, the region at that pixel of the edited map.
     */
    private void editMap(Context ctx) throws IOException {
        String type = ctx.contentType();
        if (type == null || !type.toLowerCase(Locale.ROOT).startsWith("application/json")) {
            throw new ApiError(415, "send the edit as JSON (Content-Type: application/json)");
        }
        JsonNode body = parseJson(readBody(ctx));
        if (worker == null || factorGraph == null) throw new ApiError(503, noFactorGraphMessage);
        for (java.util.Iterator<String> it = body.fieldNames(); it.hasNext(); ) {
            String k = it.next();
            if (!List.of("map", "edits", "select").contains(k)) throw ApiError.badRequest("unknown field '" + k + "' (known: map, edits, select)");
        }
        JsonNode mapNode = body.get("map");
        if (mapNode == null || !mapNode.isTextual()) throw ApiError.badRequest("map is missing (a PNG data URL of the segmentation map)");
        org.ldm4j.methods.fgdm.Palette palette = factorGraph.palette();
        org.ldm4j.methods.fgdm.ClassMap map = SegmentationEdits.apply(
                SegmentationEdits.read(mapNode.textValue(), "map", palette, config.limits().maxSide()), body.get("edits"), palette);
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("map", SegmentationEdits.png(map, palette));
        m.put("width", map.width());
        m.put("height", map.height());
        m.put("areas", SegmentationEdits.areas(map, palette));
        JsonNode select = body.get("select");
        if (select != null && !select.isNull()) {
            JsonNode x = select.get("x"), y = select.get("y");
            if (!select.isObject() || x == null || y == null || !x.canConvertToInt() || !y.canConvertToInt() || !x.isIntegralNumber() || !y.isIntegralNumber()) {
                throw ApiError.badRequest("select must be {\"x\": int, \"y\": int}, a pixel of the map");
            }
            m.put("region", SegmentationEdits.describe(map, x.intValue(), y.intValue(), palette));
        }
        json(ctx, 200, m);
    }

    /** {@code POST /api/parameters}: the request embedded in an uploaded PNG (the page restores its fields from it). */
    private void parameters(Context ctx) throws IOException {
        byte[] png = readBody(ctx);
        PngParameters.Contents contents;
        try {
            contents = PngParameters.read(png, "upload");
        } catch (IOException | RuntimeException e) {
            throw ApiError.badRequest("not a PNG with readable chunks: " + e.getMessage());
        }
        if (contents.request() == null && contents.infotext() == null) {
            throw new ApiError(422, "the PNG carries no generation parameters");
        }
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("parameters", contents.request());
        m.put("infotext", contents.fields());
        json(ctx, 200, m);
    }

    /** The body, refused with 413 past the limit whether or not the client announced its length. */
    private byte[] readBody(Context ctx) throws IOException {
        long limit = config.limits().maxBodyBytes();
        long announced = ctx.req().getContentLengthLong();
        if (announced > limit) throw new ApiError(413, "request body of " + announced + " bytes exceeds the limit of " + limit);
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        try (InputStream in = ctx.req().getInputStream()) {
            byte[] buf = new byte[64 * 1024];
            for (int n; (n = in.read(buf)) > 0; ) {
                out.write(buf, 0, n);
                if (out.size() > limit) throw new ApiError(413, "request body exceeds the limit of " + limit + " bytes");
            }
        }
        if (out.size() == 0) throw ApiError.badRequest("the request body is empty");
        return out.toByteArray();
    }

    private static JsonNode parseJson(byte[] body) {
        try {
            JsonNode node = JSON.readTree(body);
            if (node == null || !node.isObject()) throw ApiError.badRequest("the request body must be a JSON object");
            return node;
        } catch (JsonProcessingException e) {
            throw ApiError.badRequest("malformed JSON: " + e.getOriginalMessage());
        } catch (IOException e) {
            throw ApiError.badRequest("unreadable request body: " + e.getMessage());
        }
    }

    private static void json(Context ctx, int status, Object body) {
        try {
            ctx.status(status).contentType("application/json").result(JSON.writeValueAsString(body));
        } catch (JsonProcessingException e) {
            throw new IllegalStateException("cannot serialise a response", e);
        }
    }
}
