package org.ldm4j.image;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;

import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The generation-parameters text of AUTOMATIC1111's webui ("infotext"), stored in a PNG {@code parameters} chunk
 * and read by most SD tools (A1111, Forge, ComfyUI importers, civitai, sd-webui-prompt readers):
 * <pre>
 * a red car
 * Negative prompt: blurry
 * Steps: 20, Sampler: Euler a, CFG scale: 7.5, Seed: 42, Size: 512x512, Model: v1-5-pruned
 * </pre>
 * Format and parser follow {@code create_infotext} (modules/processing.py) and {@code parse_generation_parameters} /
 * {@code quote} (modules/infotext_utils.py): the negative line only when non-empty; values containing {@code ,},
 * {@code :} or a newline are JSON-quoted; the last line counts as settings when it has at least three
 * {@code key: value} pairs. Settings keep insertion order (A1111's: Steps, Sampler, CFG scale, Seed, Size, Model).
 */
public record Infotext(String prompt, String negativePrompt, Map<String, String> settings) {
    private static final ObjectMapper JSON = new ObjectMapper();
    /** {@code re_param_code} of infotext_utils.py. */
    private static final Pattern PARAM = Pattern.compile("\\s*(\\w[\\w \\-/]+):\\s*(\"(?:\\\\.|[^\\\\\"])+\"|[^,]*)(?:,|$)",
            Pattern.UNICODE_CHARACTER_CLASS);

    public Infotext {
        prompt = prompt == null ? "" : prompt;
        negativePrompt = negativePrompt == null ? "" : negativePrompt;
        settings = Collections.unmodifiableMap(new LinkedHashMap<>(settings));
    }

    /** The core A1111 fields, in A1111's order. {@code sampler} is the A1111 label, e.g. "Euler a", "DPM++ 2M". */
    public static Infotext of(String prompt, String negativePrompt, int steps, String sampler, double cfgScale, long seed,
                              int width, int height, String model) {
        Map<String, String> s = new LinkedHashMap<>();
        s.put("Steps", Integer.toString(steps));
        s.put("Sampler", sampler);
        s.put("CFG scale", pythonFloat(cfgScale));
        s.put("Seed", Long.toString(seed));
        s.put("Size", width + "x" + height);
        if (model != null) s.put("Model", model);
        return new Infotext(prompt, negativePrompt, s);
    }

    /** A copy with one more setting appended (or replaced in place); floating-point values print as Python would. */
    public Infotext with(String key, Object value) {
        if (key == null || !key.matches("\\w[\\w \\-/]+")) throw new IllegalArgumentException("bad infotext key \"" + key + "\"");
        Map<String, String> s = new LinkedHashMap<>(settings);
        s.put(key, value instanceof Double || value instanceof Float ? pythonFloat(((Number) value).doubleValue()) : String.valueOf(value));
        return new Infotext(prompt, negativePrompt, s);
    }

    /** Prompt, negative prompt and settings in one map with A1111's keys "Prompt" and "Negative prompt". */
    public Map<String, String> fields() {
        Map<String, String> f = new LinkedHashMap<>();
        f.put("Prompt", prompt);
        f.put("Negative prompt", negativePrompt);
        f.putAll(settings);
        return f;
    }

    public String format() {
        StringBuilder params = new StringBuilder();
        settings.forEach((k, v) -> {
            if (params.length() > 0) params.append(", ");
            params.append(k).append(": ").append(quote(v));
        });
        String negative = negativePrompt.isEmpty() ? "" : "\nNegative prompt: " + negativePrompt;
        return (prompt + negative + "\n" + params).strip();
    }

    public static Infotext parse(String text) {
        String[] lines = text.strip().split("\n", -1);
        int promptLines = lines.length;
        Map<String, String> settings = new LinkedHashMap<>();
        String last = lines[lines.length - 1];
        if (countParams(last) >= 3) {
            promptLines--;
            Matcher m = PARAM.matcher(last);
            while (m.find()) settings.put(m.group(1), unquote(m.group(2)));
        }
        StringBuilder prompt = new StringBuilder(), negative = new StringBuilder();
        boolean inNegative = false;
        for (int i = 0; i < promptLines; i++) {
            String line = lines[i].strip();
            if (line.startsWith("Negative prompt:")) {
                inNegative = true;
                line = line.substring(16).strip();
            }
            StringBuilder target = inNegative ? negative : prompt;
            if (target.length() > 0) target.append('\n');
            target.append(line);
        }
        return new Infotext(prompt.toString(), negative.toString(), settings);
    }

    private static int countParams(String line) {
        int n = 0;
        for (Matcher m = PARAM.matcher(line); m.find(); ) n++;
        return n;
    }

    /** {@code quote}: JSON-encode values that would break the comma/colon syntax. */
    static String quote(String v) {
        if (v.indexOf(',') < 0 && v.indexOf('\n') < 0 && v.indexOf(':') < 0) return v;
        try {
            return JSON.writeValueAsString(v);
        } catch (JsonProcessingException e) {
            throw new IllegalStateException(e);
        }
    }

    static String unquote(String v) {
        if (v.length() < 2 || v.charAt(0) != '"' || v.charAt(v.length() - 1) != '"') return v;
        try {
            return JSON.readValue(v, String.class);
        } catch (JsonProcessingException e) {
            return v;   // A1111 also keeps the raw text when it is not valid JSON
        }
    }

    /** Python's {@code str(float)} for the values infotexts hold: 7.0, 7.5, 0.75. */
    static String pythonFloat(double d) {
        if (d == Math.rint(d) && Math.abs(d) < 1e16) return String.format(java.util.Locale.ROOT, "%.1f", d);
        return Double.toString(d);
    }
}
