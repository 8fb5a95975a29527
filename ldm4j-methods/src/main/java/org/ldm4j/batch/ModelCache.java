package org.ldm4j.batch;

import org.bytedeco.pytorch.global.torch;
import org.ldm4j.nn.Dtypes;
import org.ldm4j.pipeline.ModelLoader;
import org.ldm4j.pipeline.StableDiffusion;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * The models loaded in this JVM, one per (model, device, dtype), loaded lazily on first use and kept for the JVM's
 * life. On Spark this is what makes the cost of loading a model once per executor instead of once per task:
 * the tasks of an executor share its JVM, and so this map. Concurrent first uses of a key wait for one load.
 */
public final class ModelCache {
    private static final Map<Key, Loaded> MODELS = new ConcurrentHashMap<>();
    private static final AtomicInteger LOADS = new AtomicInteger();

    private ModelCache() {}

    /** @param device a resolved device (cpu, cuda, cuda:N), see {@link #resolveDevice} */
    public record Key(String model, String device, String dtype) {}

    /** A loaded model and what loading it cost (wall time). */
    public record Loaded(StableDiffusion sd, long loadMillis) {}

    /** The model for {@code key}, loading it if this JVM has not yet; IOExceptions come wrapped unchecked. */
    public static Loaded get(Key key) {
        return MODELS.computeIfAbsent(key, k -> {
            long t0 = System.nanoTime();
            try {
                StableDiffusion sd = ModelLoader.load(k.model(), Dtypes.device(k.device()), Dtypes.parse(k.dtype()));
                LOADS.incrementAndGet();
                return new Loaded(sd, (System.nanoTime() - t0) / 1_000_000);
            } catch (IOException e) {
                throw new UncheckedIOException("cannot load model '" + k.model() + "': " + e.getMessage(), e);
            }
        });
    }

    /** The key a spec asks for, with "auto"/null resolved by {@link #resolveDevice}. */
    public static Key key(BatchSpec spec, String gpuAddress) {
        return new Key(spec.model(), resolveDevice(spec.device(), gpuAddress), spec.dtype() == null ? "fp32" : spec.dtype());
    }

    /**
     * cpu when nothing is asked; "auto" is the GPU a scheduler assigned ({@code gpuAddress}, e.g. Spark's task
     * resource "gpu"), else the first CUDA device when there is one, else cpu.
     */
    public static String resolveDevice(String device, String gpuAddress) {
        if (device == null || device.isBlank()) return "cpu";
        if (!device.equalsIgnoreCase("auto")) return device;
        if (gpuAddress != null) return "cuda:" + gpuAddress;
        return torch.cuda_is_available() ? "cuda" : "cpu";
    }

    /** How many models this JVM has loaded (tests check the once-per-JVM promise with it). */
    public static int loads() { return LOADS.get(); }

    /** Forgets every model (tests). */
    public static void clear() { MODELS.clear(); }
}
