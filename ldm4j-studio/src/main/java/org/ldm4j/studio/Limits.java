package org.ldm4j.studio;

/**
 * What one request may ask of the server. Requests beyond a limit get a 4xx with a message naming it, so a
 * mistyped "steps": 100000 or a 20000x20000 PNG cannot tie up the single worker or exhaust memory.
 *
 * @param maxSide largest image width/height in pixels (init images and requested sizes)
 * @param maxSteps largest number of denoising steps
 * @param maxCount largest number of images per job
 * @param maxPromptChars longest prompt and negative prompt, in characters
 * @param maxBodyBytes largest request body (JSON with a data-URL image, or a PNG upload)
 * @param queueCapacity jobs a model may hold, queued or running; one more is answered 429
 * @param previewEvery a predicted-x0 preview is decoded every this many steps (and at the last one)
 */
public record Limits(int maxSide, int maxSteps, int maxCount, int maxPromptChars, long maxBodyBytes,
                     int queueCapacity, int previewEvery) {

    public static Limits defaults() {
        return new Limits(1024, 150, 8, 2000, 16L << 20, 8, 2);
    }

    public Limits {
        if (maxSide < 1 || maxSteps < 1 || maxCount < 1 || maxPromptChars < 1 || maxBodyBytes < 1
                || queueCapacity < 1 || previewEvery < 1) {
            throw new IllegalArgumentException("every limit must be >= 1");
        }
    }

    public Limits withQueueCapacity(int n) {
        return new Limits(maxSide, maxSteps, maxCount, maxPromptChars, maxBodyBytes, n, previewEvery);
    }

    public Limits withMaxBodyBytes(long n) {
        return new Limits(maxSide, maxSteps, maxCount, maxPromptChars, n, queueCapacity, previewEvery);
    }

    public Limits withMaxSide(int n) {
        return new Limits(n, maxSteps, maxCount, maxPromptChars, maxBodyBytes, queueCapacity, previewEvery);
    }
}
