package org.ldm4j.studio;

/** A request the server refuses: answered with {@code status} and {@code {"error": message}}, never a stack trace. */
public final class ApiError extends RuntimeException {
    public final int status;

    public ApiError(int status, String message) {
        super(message, null, false, false);
        this.status = status;
    }

    public static ApiError badRequest(String message) { return new ApiError(400, message); }

    public static ApiError notFound(String message) { return new ApiError(404, message); }
}
