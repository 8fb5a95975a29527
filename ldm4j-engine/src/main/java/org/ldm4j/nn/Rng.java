package org.ldm4j.nn;

import org.bytedeco.pytorch.Device;
import org.bytedeco.pytorch.Generator;
import org.bytedeco.pytorch.GeneratorOptional;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.TensorOptions;
import org.bytedeco.pytorch.TensorVector;
import org.bytedeco.pytorch.global.torch;
import org.bytedeco.pytorch.global.torch.ScalarType;

/**
 * The random stream of one run: a libtorch CPU generator, seeded like {@code torch.Generator().manual_seed(seed)}.
 *
 * <p>Noise is always drawn in float32 on the CPU and then moved to the target device and dtype, which is how
 * diffusers' {@code randn_tensor} makes one seed give the same latents on every device. libtorch's CPU generator
 * is PyTorch's, so a seed gives PyTorch's exact numbers.
 */
public final class Rng {
    private final Generator[] generators;
    private final long seed;

    public Rng(long seed) {
        this.seed = seed;
        this.generators = new Generator[]{torch.createCPUGenerator(seed)};
    }

    private Rng(long[] seeds) {
        this.seed = seeds[0];
        this.generators = new Generator[seeds.length];
        for (int k = 0; k < seeds.length; k++) generators[k] = torch.createCPUGenerator(seeds[k]);
    }

    /**
     * One generator per batch element: a draw shaped (N, ...) is N draws of (1, ...), element k from seed k. A batch
     * of N runs therefore sees exactly the noise of N separate batch-1 runs with those seeds (initial latents and
     * any per-step noise a stochastic scheduler draws), whatever the scheduler.
     */
    public static Rng perSample(long... seeds) {
        if (seeds.length == 0) throw new IllegalArgumentException("a per-sample generator needs at least one seed");
        return seeds.length == 1 ? new Rng(seeds[0]) : new Rng(seeds.clone());
    }

    /** The first (or only) seed. */
    public long seed() { return seed; }

    /** How many batch elements this stream serves (1 for a plain generator, which serves any shape). */
    public int batch() { return generators.length; }

    /** Standard normal noise of this shape, float32 on the CPU. */
    public Tensor randn(long... shape) {
        return draw(shape, false);
    }

    /** Standard normal noise of this shape, drawn on the CPU then moved to the device and dtype given. */
    public Tensor randn(Device device, ScalarType dtype, long... shape) {
        Tensor cpu = randn(shape);
        return Dtypes.to(cpu, device, dtype);
    }

    /** Noise shaped like {@code like}, on its device and dtype. */
    public Tensor randnLike(Tensor like) {
        return randn(like.device(), like.scalar_type(), like.sizes().vec().get());
    }

    /** Uniform [0, 1) float32 numbers on the CPU. */
    public Tensor rand(long... shape) {
        return draw(shape, true);
    }

    /** The generator of a plain (batch-1) stream; a per-sample stream has several and must be drawn through. */
    public Generator generator() {
        if (generators.length != 1) throw new IllegalStateException("a per-sample Rng has " + generators.length + " generators: draw through randn/rand");
        return generators[0];
    }

    private Tensor draw(long[] shape, boolean uniform) {
        TensorOptions f32 = new TensorOptions().dtype(Dtypes.optional(ScalarType.Float));
        if (generators.length == 1) return one(shape, generators[0], uniform, f32);
        if (shape.length == 0 || shape[0] != generators.length) {
            throw new IllegalArgumentException("a per-sample Rng of " + generators.length + " seeds draws (" + generators.length
                    + ", ...) shapes, got " + java.util.Arrays.toString(shape));
        }
        long[] one = shape.clone();
        one[0] = 1;
        TensorVector parts = new TensorVector();
        for (Generator g : generators) parts.push_back(one(one, g, uniform, f32));
        return torch.cat(parts, 0);
    }

    private static Tensor one(long[] shape, Generator g, boolean uniform, TensorOptions f32) {
        return uniform ? torch.rand(shape, new GeneratorOptional(g), f32) : torch.randn(shape, new GeneratorOptional(g), f32);
    }
}
