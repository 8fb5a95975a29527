package org.ldm4j.image;

import java.io.IOException;

/** A PNG file whose chunk structure is broken; the message names the file, the byte offset and the problem. */
public class MalformedPngException extends IOException {
    public MalformedPngException(String source, long offset, String problem) {
        super(source + ": malformed PNG at byte " + offset + ": " + problem);
    }

    public MalformedPngException(String source, long offset, String problem, Throwable cause) {
        super(source + ": malformed PNG at byte " + offset + ": " + problem, cause);
    }
}
