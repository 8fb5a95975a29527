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

    /** File extensions of PyTorch pickle checkpoints. */
    static final java.util.List<String> PICKLE_EXTENSIONS = java.util.List.of(".bin", ".ckpt", ".pt", ".pth");

    static boolean isPickleName(String fileName) {
        String n = fileName.toLowerCase(java.util.Locale.ROOT);
        return PICKLE_EXTENSIONS.stream().anyMatch(n::endsWith);
    }

    /**
     * The refusal for a pickle checkpoint: why (unpickling runs code chosen by the file's author) and how to convert
     * it once, with PyTorch's weights-only loader and safetensors' {@code save_file}.
     */
    public static WeightFormatException pickleRefused(java.nio.file.Path file) {
        String name = file.getFileName().toString();
        String out = name.replaceFirst("\\.[^.]+$", "") + ".safetensors";
        return new WeightFormatException(file + " is a PyTorch pickle checkpoint, which ldm4j does not load: unpickling"
                + " can execute arbitrary code embedded in the file. Convert it once to safetensors, e.g.\n"
                + "  python -c \"import torch, safetensors.torch as st; sd = torch.load('" + name
                + "', map_location='cpu', weights_only=True); sd = sd.get('state_dict', sd);"
                + " st.save_file({k: v.contiguous() for k, v in sd.items() if isinstance(v, torch.Tensor)}, '"
                + out + "')\"\n"
                + "(a weights-only pickle reader that never executes the file is planned).");
    }
}
