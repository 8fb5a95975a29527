package org.ldm4j.weights;

/**
 * A weight file or model folder whose content is malformed, unsupported or unsafe to load.
 *
 * <p>Unchecked on purpose: it reports bad <em>data</em>, not a failing device, and {@link WeightSource} methods are
 * called from model-building code where a checked exception would only be rethrown. Genuine I/O failures stay
 * {@link java.io.IOException} (or {@link java.io.UncheckedIOException} inside {@link WeightSource#read}). The message
 * always names the file, the tensor or key when there is one, and the problem.
 */
public class WeightFormatException extends RuntimeException {
    public WeightFormatException(String message) { super(message); }

    public WeightFormatException(String message, Throwable cause) { super(message, cause); }

    /** File extensions of PyTorch checkpoints, read by {@link TorchCheckpoint} (weights only, no code). */
    public static final java.util.List<String> PICKLE_EXTENSIONS = java.util.List.of(".bin", ".ckpt", ".pt", ".pth");

    public static boolean isPickleName(String fileName) {
        String n = fileName.toLowerCase(java.util.Locale.ROOT);
        return PICKLE_EXTENSIONS.stream().anyMatch(n::endsWith);
    }
}
