package org.ldm4j.cli;

import org.bytedeco.pytorch.InferenceMode;
import org.bytedeco.pytorch.global.torch.ScalarType;
import org.ldm4j.bench.EngineBenchmark;
import org.ldm4j.nn.Dtypes;
import org.ldm4j.nn.Engine;
import org.ldm4j.pipeline.GenerationRequest;
import org.ldm4j.pipeline.ModelLoader;
import org.ldm4j.pipeline.StableDiffusion;
import org.ldm4j.pipeline.Txt2Img;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;

@Command(name = "bench", mixinStandardHelpOptions = true,
        description = "Print speed and memory figures: SD 1.5-size UNet/VAE/text encoder (random weights) against the "
                + "GEMM peak measured in the same run, and txt2img on the embedded ToyWorld model.",
        footer = {"", "Examples:", "  ldm4j bench --threads 2", "  ldm4j bench --toyworld-only", "  ldm4j bench --gradop-only --gradop-steps 0"})
final class BenchCommand implements Callable<Integer> {
    @Option(names = "--threads", defaultValue = "2", description = "libtorch threads (default 2: all cores here).") int threads;
    @Option(names = "--latent", defaultValue = "64", description = "SD latent side (64 = 512x512 images).") int latent;
    @Option(names = "--no-vae", description = "Skip the (slow) 512x512 VAE decode.") boolean noVae;
    @Option(names = "--toyworld-only", description = "Only the ToyWorld model figures.") boolean toyworldOnly;
    @Option(names = "--sd-steps", defaultValue = "3", description = "DDIM steps of the SD-size text2img run (0 = skip it).") int sdSteps;
    @Option(names = "--gradop", description = "Also time GradOP+ against SDEdit(0.8) at SD 1.5 size (random weights): end to end "
            + "with --gradop-steps DDIM steps, and by component for the official settings.") boolean gradop;
    @Option(names = "--gradop-steps", defaultValue = "10", description = "DDIM steps of the SD-size GradOP+/SDEdit end-to-end runs; 0 = only the per-component cost model (default: ${DEFAULT-VALUE}).") int gradopSteps;
    @Option(names = "--gradop-grad-steps", defaultValue = "2", description = "Adam steps of the SD-size GradOP+ run (default: ${DEFAULT-VALUE}).") int gradopGradSteps;
    @Option(names = "--gradop-only", description = "Only the GradOP+ vs SDEdit figures (implies --gradop).") boolean gradopOnly;
    @Option(names = "--model", description = "Model for the txt2img figure (default: the embedded ToyWorld model).") String model;

    @Override
    public Integer call() throws Exception {
        Engine.threads(threads);
        System.out.printf(Locale.ROOT, "ldm4j bench: %d threads, %d cores%n", threads, Runtime.getRuntime().availableProcessors());
        if (!toyworldOnly && !gradopOnly) new EngineBenchmark(System.out).run(latent, !noVae, sdSteps);
        if ((gradop || gradopOnly) && !toyworldOnly) {
            if ((gradopSteps != 0 && gradopSteps < 2) || gradopGradSteps < 1) throw new Ldm4j.UsageError("--gradop-steps must be 0 or >= 2 and --gradop-grad-steps >= 1");
            new GradOpCostBenchmark(System.out).run(EngineBenchmark.randomSd15(0), latent * 8, gradopSteps, gradopGradSteps);
        }
        String spec = model != null ? model : ModelLoader.defaultModel();
        if (!Files.exists(Path.of(spec))) {
            System.out.println("txt2img: no model at " + spec + " (skipped)");
            return 0;
        }
        StableDiffusion sd = ModelLoader.load(spec, Dtypes.device("cpu"), ScalarType.Float);
        int size = sd.defaultSize();
        if (gradop || gradopOnly) {
            // the same cost figures on the small model, where the decoder is large next to the UNet
            new GradOpCostBenchmark(System.out).run(sd, size, gradopSteps, gradopGradSteps);
            if (gradopOnly) return 0;
        }
        GenerationRequest r = new GenerationRequest("txt2img", sd.name, "a red house beside a tall tree under a blue sky", "",
                size, size, 25, 5.0, "ddim", 0, 1, 0, 0, null, null);
        try (InferenceMode im = new InferenceMode()) {
            Txt2Img.run(sd, r, List.of(), null);   // warm-up
            int n = 4;
            long t0 = System.nanoTime();
            for (int i = 0; i < n; i++) Txt2Img.run(sd, r.withSeed(i), List.of(), null);
            double per = (System.nanoTime() - t0) / 1e9 / n;
            System.out.printf(Locale.ROOT, "txt2img %s %dx%d, 25 DDIM steps, CFG 5: %.3f s/image = %.2f images/s (%.1f ms/step)%n",
                    sd.name, size, size, per, 1 / per, per / 25 * 1000);
        }
        System.out.printf(Locale.ROOT, "peak resident memory: %.2f GB%n", EngineBenchmark.peakRssBytes() / 1e9);
        return 0;
    }
}
