package org.ldm4j.schedulers;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.json.JsonReadFeature;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.PropertyNamingStrategies;
import com.fasterxml.jackson.databind.json.JsonMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.stream.Collectors;

/**
 * The schedulers ldm4j implements: diffusers class name, CLI alias and AUTOMATIC1111 label in one place.
 *
 * <p>Configs are read from {@code scheduler_config.json} as diffusers' {@code from_config} does: the target
 * class takes the keys it knows, ignores the rest ({@code _class_name}, other schedulers' keys) and uses its own
 * defaults for missing keys. So SD's folder, which ships a PNDM config, can run with any scheduler here.
 */
public enum Schedulers {
    DDIM("DDIMScheduler", "ddim", "DDIM", DDIMScheduler.Config.class),
    PNDM("PNDMScheduler", "pndm", "PLMS", PNDMScheduler.Config.class),
    EULER("EulerDiscreteScheduler", "euler", "Euler", EulerDiscreteScheduler.Config.class),
    EULER_ANCESTRAL("EulerAncestralDiscreteScheduler", "euler-a", "Euler a", EulerAncestralDiscreteScheduler.Config.class),
    DPM_SOLVER_MULTISTEP("DPMSolverMultistepScheduler", "dpm++2m", "DPM++ 2M", DPMSolverMultistepScheduler.Config.class),
    DDPM("DDPMScheduler", "ddpm", "DDPM", DDPMScheduler.Config.class),
    LMS("LMSDiscreteScheduler", "lms", "LMS", LMSDiscreteScheduler.Config.class);

    /** snake_case keys, unknown keys ignored, Python's {@code Infinity}/{@code NaN} accepted (diffusers writes them). */
    static final ObjectMapper MAPPER = JsonMapper.builder()
            .propertyNamingStrategy(PropertyNamingStrategies.SNAKE_CASE)
            .disable(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES)
            .enable(JsonReadFeature.ALLOW_NON_NUMERIC_NUMBERS)
            .build();

    private final String className;
    private final String alias;
    private final String a1111Label;
    private final Class<? extends SchedulerConfig> configClass;

    Schedulers(String className, String alias, String a1111Label, Class<? extends SchedulerConfig> configClass) {
        this.className = className;
        this.alias = alias;
        this.a1111Label = a1111Label;
        this.configClass = configClass;
    }

    /** The diffusers class name ({@code _class_name}). */
    public String className() { return className; }

    /** The CLI name ({@code --scheduler euler-a}). */
    public String alias() { return alias; }

    /** The sampler name AUTOMATIC1111 writes into PNG parameters ({@code Sampler: Euler a}). */
    public String a1111Label() { return a1111Label; }

    public Class<? extends SchedulerConfig> configClass() { return configClass; }

    /** The config with every key at this scheduler's diffusers default. */
    public SchedulerConfig defaults() { return read("{}"); }

    /** Looks a scheduler up by CLI alias, diffusers class name or A1111 label (case-insensitive). */
    public static Schedulers fromAlias(String name) {
        for (Schedulers s : values()) {
            if (s.alias.equalsIgnoreCase(name) || s.className.equalsIgnoreCase(name) || s.a1111Label.equalsIgnoreCase(name)) {
                return s;
            }
        }
        throw new IllegalArgumentException("unknown scheduler '" + name + "' (expected one of "
                + Arrays.stream(values()).map(s -> s.alias).collect(Collectors.joining(", ")) + ")");
    }

    /** The scheduler of a diffusers {@code _class_name}. */
    public static Schedulers fromClassName(String className) {
        for (Schedulers s : values()) if (s.className.equals(className)) return s;
        throw new IllegalArgumentException("scheduler config " + notImplemented(className));
    }

    /** As {@link #fromClassName(String)}, the error naming {@code source} (the config's file). */
    public static Schedulers fromClassName(String className, String source) {
        for (Schedulers s : values()) if (s.className.equals(className)) return s;
        throw new IllegalArgumentException(source + ": " + notImplemented(className));
    }

    private static String notImplemented(String className) {
        return "key '_class_name': '" + className + "' is not implemented (expected one of "
                + Arrays.stream(values()).map(s -> s.className).collect(Collectors.joining(", ")) + ")";
    }

    /** Reads a {@code scheduler_config.json} text as this scheduler's config (diffusers {@code from_config}). */
    public SchedulerConfig read(String json) { return read(json, "scheduler config"); }

    /** As {@link #read(String)}; {@code source} (the file) names the config in the one-line error. */
    public SchedulerConfig read(String json, String source) {
        try {
            return MAPPER.readValue(json, configClass);
        } catch (JsonProcessingException | IllegalArgumentException e) {
            throw explain(e, source, json);
        }
    }

    /**
     * Checks a model's scheduler config when it loads, before any work: with a {@code _class_name} implemented here,
     * its keys are read and its beta schedule built, each problem an IllegalArgumentException naming {@code source}
     * (the file) and the key. A class not implemented here is left to the sampler that runs it (a model shipping one
     * can still run with {@code --scheduler}).
     */
    public static void check(JsonNode config, String source) {
        Schedulers kind;
        try {
            kind = fromClassName(config.path("_class_name").asText());
        } catch (IllegalArgumentException notImplemented) {
            return;
        }
        SchedulerConfig c = kind.read(config.toString(), source);
        try {
            c.noiseSchedule();
        } catch (IllegalArgumentException e) {
            throw explain(e, source, null);
        }
    }

    /** Builds this scheduler from another scheduler's config, keeping every shared key (betas, offsets, ...). */
    public SchedulerConfig fromConfig(SchedulerConfig other) {
        return MAPPER.convertValue(MAPPER.valueToTree(unwrap(other)), configClass);
    }

    /** Reads {@code scheduler_config.json}; {@code _class_name} picks the scheduler. */
    public static SchedulerConfig load(Path file) {
        JsonNode node = readTree(file);
        JsonNode name = node.get("_class_name");
        if (name == null || !name.isTextual()) {
            throw new IllegalArgumentException(file + ": scheduler config key '_class_name' is missing");
        }
        return fromClassName(name.asText()).parse(node, file);
    }

    /** Reads {@code scheduler_config.json} but runs {@code override} with it (the user picked another sampler). */
    public static SchedulerConfig load(Path file, Schedulers override) {
        return override.parse(readTree(file), file);
    }

    private SchedulerConfig parse(JsonNode node, Path file) {
        try {
            return MAPPER.treeToValue(node, configClass);
        } catch (JsonProcessingException | IllegalArgumentException e) {
            throw explain(e, file.toString(), node);
        }
    }

    private static JsonNode readTree(Path file) {
        try {
            JsonNode node = MAPPER.readTree(Files.readString(file));
            if (!(node instanceof ObjectNode)) throw new IllegalArgumentException(file + ": not a JSON object");
            return node;
        } catch (IOException e) {
            throw new IllegalArgumentException(file + ": cannot read scheduler config: " + e.getMessage(), e);
        }
    }

    /**
     * One line naming {@code source}: our own "scheduler config key ..." check surfaced from inside Jackson's wrapping
     * (as "key ...", the source saying which config), else Jackson's problem described on one line.
     */
    private static IllegalArgumentException explain(Exception e, String source, Object json) {
        String msg = null;
        for (Throwable t = e; t != null && msg == null; t = t.getCause()) {
            if (t instanceof IllegalArgumentException && t.getMessage() != null && t.getMessage().startsWith(KEY_PREFIX)) msg = t.getMessage();
        }
        if (msg == null) {
            msg = e instanceof IOException io
                    ? (json instanceof JsonNode tree ? org.ldm4j.models.DiffusersConfigJson.describe(io, tree)
                       : org.ldm4j.models.DiffusersConfigJson.describe(io, (String) json))
                    : String.valueOf(e.getMessage()).lines().findFirst().orElse("");
        }
        if (msg.startsWith(KEY_PREFIX)) msg = msg.substring("scheduler config ".length());
        return new IllegalArgumentException(source + ": " + msg, e);
    }

    private static final String KEY_PREFIX = "scheduler config key";

    private static Object unwrap(SchedulerConfig config) {
        return config instanceof DDIMScheduler.WithEta w ? w.config() : config;
    }

    /**
     * The first step index of an img2img (SDEdit) run, as diffusers' img2img {@code get_timesteps}:
     * {@code init = min(int(steps * strength), steps)}, {@code tStart = max(steps - init, 0)}, index {@code tStart * order}.
     * Noise the encoded image with {@code addNoise(x0, noise, index)} and step from that index on.
     */
    public static int img2imgStartIndex(int steps, double strength, int order) {
        if (!(strength >= 0 && strength <= 1)) {
            throw new IllegalArgumentException("img2img strength must be in [0, 1], got " + strength);
        }
        int initTimestep = Math.min((int) (steps * strength), steps);
        int tStart = Math.max(steps - initTimestep, 0);
        return tStart * order;
    }

    @Override public String toString() { return alias; }

}
