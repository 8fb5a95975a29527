package org.ldm4j.models.unet;

import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.InferenceMode;
import org.bytedeco.pytorch.Scalar;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch;
import org.bytedeco.pytorch.global.torch.ScalarType;
import org.ldm4j.nn.Engine;
import org.ldm4j.nn.Rng;
import org.ldm4j.nn.Scopes;

import java.util.Locale;

/**
 * One classifier-free-guidance step of SD 1.5's UNet on this machine: batch 2, 64x64 latent (512 px), 77 context
 * tokens, random weights, fp32 and then bf16 weights. Prints seconds, analytic FLOPs ({@link UNetFlops}), achieved
 * GFLOP/s, and a 4096² {@code torch.mm} measured in the same run as the reference peak. Not a test (tens of seconds):
 * {@code java -Dldm4j.threads=2 -cp ... org.ldm4j.models.unet.UNetBenchmark}. Each dtype runs a cold call (oneDNN
 * primitive creation, first-touch page faults) and a warm one.
 */
public final class UNetBenchmark {
    public static void main(String[] args) {
        int threads = Integer.getInteger("ldm4j.threads", 2);
        Engine.threads(threads);
        int side = Integer.getInteger("bench.latent", 64);
        int batch = 2, tokens = 77;
        UNet2DConditionConfig config = UNet2DConditionConfig.sd15();
        UNetFlops flops = UNetFlops.of(config, side, side, tokens);
        double stepFlops = batch * flops.totalFlops();
        System.out.printf(Locale.ROOT, "threads %d, latent %dx%d, batch %d, context %d tokens%n", threads, side, side, batch, tokens);
        System.out.printf(Locale.ROOT, "analytic GMAC per image: conv %.1f + linear %.1f + attention %.1f = %.1f; one CFG step %.3f TFLOP%n",
                flops.convMacs() / 1e9, flops.linearMacs() / 1e9, flops.attentionMacs() / 1e9, flops.totalMacs() / 1e9, stepFlops / 1e12);

        System.out.printf(Locale.ROOT, "torch.mm 4096x4096 fp32: %.1f GFLOP/s%n", mmGflops(ScalarType.Float));
        System.out.printf(Locale.ROOT, "torch.mm 4096x4096 bf16: %.1f GFLOP/s%n", mmGflops(ScalarType.BFloat16));

        torch.manual_seed(0);
        long t0 = System.nanoTime();
        UNet2DConditionModel unet = new UNet2DConditionModel(config);
        System.out.printf(Locale.ROOT, "built SD 1.5 UNet with random weights: %d tensors, %.2f M parameters, %.1f s%n",
                unet.namedParameters().size(), unet.parameterCount() / 1e6, (System.nanoTime() - t0) / 1e9);
        Rng rng = new Rng(0);
        Tensor sample = rng.randn(batch, 4, side, side);
        Tensor context = rng.randn(batch, tokens, 768);
        Tensor t = torch.full(new long[]{}, new Scalar(981L));

        Tensor ref = run(unet, sample, t, context, "fp32", stepFlops);
        unet.to(sample.device(), ScalarType.BFloat16);
        System.gc();                                                                 // let the fp32 weights go
        Tensor bf = run(unet, sample, t, context, "bf16", stepFlops);
        double rel = bf.sub(ref).norm().item_double() / ref.norm().item_double();
        System.out.printf(Locale.ROOT, "bf16 vs fp32 output rel L2: %.2e%n", rel);
    }

    private static Tensor run(UNet2DConditionModel unet, Tensor sample, Tensor t, Tensor context, String label, double stepFlops) {
        Tensor out = null;
        for (String pass : new String[]{"cold", "warm"}) {
            try (InferenceMode mode = new InferenceMode(); PointerScope scope = new PointerScope()) {
                long t0 = System.nanoTime();
                Tensor o = unet.forward(sample, t, context, null);
                double s = (System.nanoTime() - t0) / 1e9;
                System.out.printf(Locale.ROOT, "UNet %s %s: %.2f s, %.1f GFLOP/s%n", label, pass, s, stepFlops / s / 1e9);
                if (out == null) out = Scopes.keep(o.clone());           // survives the scope
            }
        }
        return out;
    }

    private static double mmGflops(ScalarType dtype) {
        try (PointerScope scope = new PointerScope()) {
            Rng rng = new Rng(1);
            Tensor a = rng.randn(4096, 4096).to(dtype), b = rng.randn(4096, 4096).to(dtype);
            torch.mm(a, b);                                                          // warm-up
            int reps = 3;
            long t0 = System.nanoTime();
            for (int i = 0; i < reps; i++) torch.mm(a, b);
            double s = (System.nanoTime() - t0) / 1e9;
            return reps * 2.0 * 4096L * 4096L * 4096L / s / 1e9;
        }
    }
}
