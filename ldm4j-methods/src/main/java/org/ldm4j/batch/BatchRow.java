package org.ldm4j.batch;

import com.fasterxml.jackson.annotation.JsonInclude;

import java.io.IOException;
import java.nio.charset.StandardCharsets;

/**
 * One sample's line in the index (JSON row beside the image, JSON Lines in process, Parquet on Spark).
 *
 * @param parameters      the item's merged parameters as a JSON object string
 * @param image           the image's location, null when the item failed
 * @param rowFile         this row's JSON file beside the images
 * @param status          {@link #OK} or {@link #FAILED}
 * @param error           why it failed (exception class and message), else null
 * @param reused          true when a rerun found the item done and skipped it (the row is the earlier run's)
 * @param generateMillis  wall time of the generation itself
 * @param writeMillis     PNG encoding and atomic write
 * @param modelLoadMillis what loading the model cost the worker's JVM (once per JVM and model)
 * @param worker          host/executor and thread that made it
 */
@JsonInclude(JsonInclude.Include.ALWAYS)
public record BatchRow(String id, int index, long seed, String method, String prompt, String parameters, String image,
                       String rowFile, String status, String error, boolean reused, long generateMillis, long writeMillis,
                       long modelLoadMillis, String worker) {
    public static final String OK = "ok";
    public static final String FAILED = "failed";

    public boolean ok() { return OK.equals(status); }

    public BatchRow asReused() {
        return new BatchRow(id, index, seed, method, prompt, parameters, image, rowFile, status, error, true, generateMillis,
                writeMillis, modelLoadMillis, worker);
    }

    public byte[] toJson() {
        try {
            return BatchSpec.JSON.writeValueAsBytes(this);
        } catch (IOException e) {
            throw new IllegalStateException(e);
        }
    }

    public static BatchRow fromJson(byte[] json, String source) throws IOException {
        try {
            return BatchSpec.JSON.readValue(new String(json, StandardCharsets.UTF_8), BatchRow.class);
        } catch (IOException e) {
            throw new IOException(source + ": not a batch row: " + e.getMessage(), e);
        }
    }
}
