package org.ldm4j.studio;

import com.fasterxml.jackson.databind.JsonNode;
import org.ldm4j.methods.blended.ClipEditScore;
import org.ldm4j.methods.blended.EditScorer;
import org.ldm4j.models.clip.CLIPTokenizer;
import org.ldm4j.pipeline.GenerationRequest;
import org.ldm4j.schedulers.Schedulers;

import java.util.Iterator;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.ThreadLocalRandom;

/**
 * The JSON body of {@code POST /api/jobs}, checked field by field: unknown fields, wrong types and values beyond
 * the {@link Limits} are {@link ApiError}s naming the field. Missing fields take the model's defaults (as the CLI's).
 */
public final class RequestFields {
    /** Fields every mode accepts: those of {@link GenerationRequest} a client may set. */
    public static final Set<String> COMMON = Set.of("mode", "model", "prompt", "negativePrompt", "width", "height",
            "steps", "guidanceScale", "scheduler", "seed", "count", "clipSkip", "eta");

    private final JsonNode body;
    private final ModelInfo model;
    private final Limits limits;
    private final CLIPTokenizer tokenizer;
    private FactorGraphModel factorGraph;
    private EditScorer clipRanker;
    private String noFactorGraph = FactorGraphSource.NO_FACTORS;

    public RequestFields(JsonNode body, ModelInfo model, Limits limits, Set<String> extraFields) {
        this(body, model, limits, extraFields, null);
    }

    /** @param tokenizer the model's tokenizer (thread-safe), for modes that check phrases against the prompt; or null */
    public RequestFields(JsonNode body, ModelInfo model, Limits limits, Set<String> extraFields, CLIPTokenizer tokenizer) {
        if (body == null || !body.isObject()) throw ApiError.badRequest("the request body must be a JSON object");
        Set<String> unknown = new TreeSet<>();
        for (Iterator<String> it = body.fieldNames(); it.hasNext(); ) {
            String name = it.next();
            if (!COMMON.contains(name) && !extraFields.contains(name)) unknown.add(name);
        }
        if (!unknown.isEmpty()) {
            Set<String> known = new TreeSet<>(COMMON);
            known.addAll(extraFields);
            throw ApiError.badRequest("unknown field(s) " + unknown + " for mode '" + body.path("mode").asText() + "' (known: " + known + ")");
        }
        this.body = body;
        this.model = model;
        this.limits = limits;
        this.tokenizer = tokenizer;
    }

    /** Gives the Factor graph modes the server's FG-DM, or (null) the reason there is none. */
    RequestFields withFactorGraph(FactorGraphModel model, String unavailable) {
        this.factorGraph = model;
        if (unavailable != null) this.noFactorGraph = unavailable;
        return this;
    }

    /** The server's FG-DM; 503 with the reason (e.g. no factors trained) when it has none. */
    public FactorGraphModel factorGraph() {
        if (factorGraph == null) throw new ApiError(503, noFactorGraph);
        return factorGraph;
    }

    /** Gives the edit mode the server's CLIP ranking (null: the studio was started without --clip). */
    RequestFields withClipRanker(EditScorer ranker) {
        this.clipRanker = ranker;
        return this;
    }

    /** The server's CLIP ranking; 503 saying how to turn it on when the studio has none. */
    public EditScorer clipRanker() {
        if (clipRanker == null) {
            throw new ApiError(503, "CLIP ranking is off: start the studio with --clip (a CLIP folder or Hugging Face id, e.g. "
                    + ClipEditScore.OFFICIAL + ")");
        }
        return clipRanker;
    }

    /** The loaded model's tokenizer, or null when the caller has none. */
    public CLIPTokenizer tokenizer() { return tokenizer; }

    /** The raw field, or null when absent or JSON null. */
    public JsonNode node(String name) {
        JsonNode n = body.get(name);
        return n == null || n.isNull() ? null : n;
    }

    public Integer optionalInt(String name) {
        JsonNode n = node(name);
        if (n == null) return null;
        if (!n.isIntegralNumber() || !n.canConvertToInt()) throw ApiError.badRequest(name + " must be an integer");
        return n.intValue();
    }

    public Boolean optionalBoolean(String name) {
        JsonNode n = node(name);
        if (n == null) return null;
        if (!n.isBoolean()) throw ApiError.badRequest(name + " must be true or false");
        return n.booleanValue();
    }

    public Limits limits() { return limits; }

    public ModelInfo model() { return model; }

    public int defaultSize() { return model.defaultSize(); }

    /**
     * The validated request.
     * @param strength img2img strength, or null for modes without one
     * @param initImage what the recorded request says about the start image, or null
     */
    public GenerationRequest toRequest(String mode, int defaultWidth, int defaultHeight, Double strength, String initImage) {
        String requestedModel = optionalText("model");
        if (requestedModel != null && !requestedModel.equals(model.name())) {
            throw new ApiError(409, "model '" + requestedModel + "' is not loaded (loaded: " + model.name() + ")");
        }
        String prompt = requiredText("prompt");
        String negative = optionalText("negativePrompt");
        checkLength("prompt", prompt);
        checkLength("negativePrompt", negative);
        int width = optionalInt("width", defaultWidth), height = optionalInt("height", defaultHeight);
        if (width > limits.maxSide() || height > limits.maxSide()) {
            throw badRange("size " + width + "x" + height + " exceeds the limit of " + limits.maxSide() + " pixels a side");
        }
        int steps = optionalInt("steps", model.defaultSteps());
        if (steps < 1 || steps > limits.maxSteps()) throw ApiError.badRequest("steps must be in 1.." + limits.maxSteps() + ", got " + steps);
        int count = optionalInt("count", 1);
        if (count < 1 || count > limits.maxCount()) throw ApiError.badRequest("count must be in 1.." + limits.maxCount() + ", got " + count);
        double cfg = optionalDouble("guidanceScale", model.defaultGuidanceScale());
        String scheduler = optionalText("scheduler");
        Schedulers kind;
        try {
            kind = scheduler == null ? Schedulers.fromAlias(model.defaultScheduler()) : Schedulers.fromAlias(scheduler);
        } catch (IllegalArgumentException e) {
            throw ApiError.badRequest("scheduler: " + e.getMessage());
        }
        double eta = optionalDouble("eta", 0.0);
        if (eta > 0 && kind != Schedulers.DDIM) throw ApiError.badRequest("eta applies to the ddim scheduler only, not " + kind.alias());
        long seed = body.has("seed") ? longValue("seed") : -1;
        if (seed < 0) seed = ThreadLocalRandom.current().nextLong(1L << 32);   // -1 or absent: a fresh 32-bit seed, as A1111
        int clipSkip = optionalInt("clipSkip", 0);
        try {
            return new GenerationRequest(mode, model.name(), prompt, negative, width, height, steps, cfg, scheduler, seed,
                    count, clipSkip, eta, strength, initImage).validate(model.vaeScaleFactor());
        } catch (IllegalArgumentException e) {
            throw ApiError.badRequest(e.getMessage());
        }
    }

    public String requiredText(String name) {
        String s = optionalText(name);
        if (s == null) throw ApiError.badRequest(name + " is missing");
        return s;
    }

    public String optionalText(String name) {
        JsonNode n = body.get(name);
        if (n == null || n.isNull()) return null;
        if (!n.isTextual()) throw ApiError.badRequest(name + " must be a string");
        return n.textValue();
    }

    public Double optionalDouble(String name) {
        JsonNode n = body.get(name);
        if (n == null || n.isNull()) return null;
        if (!n.isNumber() || !Double.isFinite(n.doubleValue())) throw ApiError.badRequest(name + " must be a number");
        return n.doubleValue();
    }

    private double optionalDouble(String name, double fallback) {
        Double d = optionalDouble(name);
        return d == null ? fallback : d;
    }

    private int optionalInt(String name, int fallback) {
        Integer i = optionalInt(name);
        return i == null ? fallback : i;
    }

    private long longValue(String name) {
        JsonNode n = body.get(name);
        if (n.isNull()) return -1;
        if (!n.isIntegralNumber() || !n.canConvertToLong()) throw ApiError.badRequest(name + " must be an integer");
        return n.longValue();
    }

    private void checkLength(String name, String value) {
        if (value != null && value.length() > limits.maxPromptChars()) {
            throw ApiError.badRequest(name + " is " + value.length() + " characters, the limit is " + limits.maxPromptChars());
        }
    }

    /** 413: the request is well formed but asks for a larger image than this server allows. */
    private static ApiError badRange(String message) {
        return new ApiError(413, message);
    }
}
