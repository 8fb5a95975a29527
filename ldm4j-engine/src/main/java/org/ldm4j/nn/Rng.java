package org.ldm4j.nn;

import org.bytedeco.pytorch.Device;
import org.bytedeco.pytorch.Generator;
import org.bytedeco.pytorch.GeneratorOptional;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.TensorOptions;
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
    private final Generator generator;
    private final long seed;

    public Rng(long seed) {
        this.seed = seed;
        this.generator = torch.createCPUGenerator(seed);
    }

    public long seed() { return seed; }

    /** Standard normal noise of this shape, float32 on the CPU. */
    public Tensor randn(long... shape) {
        return torch.randn(shape, new GeneratorOptional(generator), new TensorOptions().dtype(Dtypes.optional(ScalarType.Float)));
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
        return torch.rand(shape, new GeneratorOptional(generator), new TensorOptions().dtype(Dtypes.optional(ScalarType.Float)));
    }

    public Generator generator() { return generator; }
}
