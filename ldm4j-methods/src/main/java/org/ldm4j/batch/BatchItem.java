package org.ldm4j.batch;

import com.fasterxml.jackson.core.JsonProcessingException;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.SortedMap;
import java.util.TreeMap;

/**
 * One sample of a batch: a prompt, a seed and the merged parameters (fixed + grid point), with a deterministic id.
 *
 * <p>The id is the index (so files list in job order) plus a hash of everything that determines the output: a
 * rerun with a changed spec gets new ids instead of skipping stale files that merely share an index.
 *
 * @param parameters sorted by key, so their JSON (and the hash) does not depend on the spec's key order
 */
public record BatchItem(int index, String id, String method, String model, String prompt, long seed,
                        SortedMap<String, Object> parameters) {

    static BatchItem of(int index, String method, String model, String prompt, long seed, Map<String, Object> parameters) {
        TreeMap<String, Object> sorted = new TreeMap<>(parameters);
        Map<String, Object> identity = new LinkedHashMap<>();
        identity.put("method", method);
        identity.put("model", model);
        identity.put("prompt", prompt);
        identity.put("seed", seed);
        identity.put("parameters", sorted);
        String hash = sha256(json(identity)).substring(0, 10);
        return new BatchItem(index, String.format("%06d-%s", index, hash), method, model, prompt, seed, sorted);
    }

    /** The parameters as a JSON object string (the index's {@code parameters} column). */
    public String parametersJson() { return json(parameters); }

    /** Relative path of the image. */
    public String imagePath() { return "images/" + id + ".png"; }

    /** Relative path of the JSON row (written after the image: its presence with status ok marks the item done). */
    public String rowPath() { return "rows/" + id + ".json"; }

    private static String json(Object o) {
        try {
            return BatchSpec.JSON.writeValueAsString(o);
        } catch (JsonProcessingException e) {
            throw new IllegalStateException(e);
        }
    }

    private static String sha256(String s) {
        try {
            return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(s.getBytes(StandardCharsets.UTF_8)));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }
}
