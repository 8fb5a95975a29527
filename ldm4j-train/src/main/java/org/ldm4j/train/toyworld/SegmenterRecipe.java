package org.ldm4j.train.toyworld;

import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.NoGradGuard;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch;
import org.ldm4j.nn.Param;
import org.ldm4j.nn.Rng;
import org.ldm4j.nn.Tensors;
import org.ldm4j.toyworld.Scene;
import org.ldm4j.toyworld.SceneOptions;
import org.ldm4j.toyworld.ToyClass;
import org.ldm4j.toyworld.ToyWorld;
import org.ldm4j.toyworld.eval.EvalImages;
import org.ldm4j.toyworld.eval.SegmentationMetrics;
import org.ldm4j.toyworld.eval.ToyWorldSegmenter;
import org.ldm4j.train.Trainer;

import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * Trains the evaluator's {@link ToyWorldSegmenter}: per-pixel cross-entropy against ToyWorld's exact class maps on
 * training scenes (seeds below 1 000 000, drawn by step so resume is exact).
 *
 * <p>Half of each batch gets additive Gaussian pixel noise (σ up to {@code noiseStd} in [-1, 1] units), so the
 * segmenter also reads the slightly noisy, slightly off-palette images a generator produces, not only clean renders.
 */
public final class SegmenterRecipe implements Trainer.Objective {
    /** First seed of ToyWorld's validation split (the export reports mIoU there; the test split starts at 2 000 000). */
    public static final long VALIDATION_SEEDS = 1_000_000L;

    /** One step's images (B, 3, H, W) in [-1, 1] and class targets (B, H, W), int64, -100 where unlabeled. */
    public record Batch(Tensor images, Tensor targets) {}

    /** Pixels the loss ignores (cross-entropy's default ignore index): unlabeled pixels of a generated map. */
    public static final int IGNORED = -100;

    private final ToyWorldSegmenter model;
    private final java.util.function.LongFunction<Batch> data;
    private final double noiseStd;

    /** On ToyWorld's training scenes, drawn by step. */
    public SegmenterRecipe(ToyWorldSegmenter model, SceneBatches batches, double noiseStd) {
        this(model, step -> {
            List<Scene> scenes = batches.scenes(step);
            return new Batch(EvalImages.scenes(scenes), EvalImages.segTargets(scenes));
        }, noiseStd);
    }

    /**
     * Training scenes with the first {@code fraction} of each batch replaced by their reconstructions through {@code vae}
     * (posterior mode, clamped to [-1, 1]), labelled with the scenes' exact class maps: every image a latent model shows
     * the evaluator is such a decode, blurred where the VAE cannot keep detail (a flower bed's dots).
     */
    public static java.util.function.LongFunction<Batch> withReconstructions(SceneBatches batches, org.ldm4j.models.vae.AutoencoderKL vae, double fraction) {
        if (!(fraction > 0 && fraction <= 1)) throw new IllegalArgumentException("reconstruction_fraction must be in (0, 1], got " + fraction);
        return step -> {
            List<Scene> scenes = batches.scenes(step);
            Tensor x = EvalImages.scenes(scenes);
            long k = Math.max(1, Math.round(fraction * scenes.size()));
            try (org.bytedeco.pytorch.NoGradGuard g = new org.bytedeco.pytorch.NoGradGuard()) {
                Tensor head = x.narrow(0, 0, k);
                Tensor recon = vae.reconstruct(head.to(vae.device(), vae.dtype())).to(x.device(), x.scalar_type())
                        .clamp(new org.bytedeco.pytorch.ScalarOptional(new org.bytedeco.pytorch.Scalar(-1.0)), new org.bytedeco.pytorch.ScalarOptional(new org.bytedeco.pytorch.Scalar(1.0)));
                x = k == scenes.size() ? recon : torch.cat(new org.bytedeco.pytorch.TensorVector(recon, x.narrow(0, k, scenes.size() - k)), 0);
            }
            return new Batch(x, EvalImages.segTargets(scenes));
        };
    }

    /** On any labelled data, e.g. a fixed pool of real and generated examples ({@link LabelledPool}). */
    public SegmenterRecipe(ToyWorldSegmenter model, java.util.function.LongFunction<Batch> data, double noiseStd) {
        this.model = model;
        this.data = data;
        this.noiseStd = noiseStd;
    }

    @Override
    public Tensor loss(long step, Rng rng) {
        Batch batch = data.apply(step);
        Tensor x = batch.images();
        Tensor target = batch.targets();
        if (noiseStd > 0) {
            int b = (int) x.size(0);
            float[] u = Tensors.toFloats(rng.rand(b));
            float[] sigma = new float[b];
            for (int i = 0; i < b; i++) sigma[i] = i % 2 == 1 ? (float) (u[i] * noiseStd) : 0f;
            Tensor noise = rng.randn(x.sizes().vec().get()).mul(Tensors.ofFloats(sigma, b, 1, 1, 1));
            x = x.add(noise);
        }
        return torch.cross_entropy_loss(model.forward(x).logits(), target);
    }

    /** mIoU of the model on {@code count} scenes from {@code firstSeed}, in batches of 16. */
    public static SegmentationMetrics evaluate(ToyWorldSegmenter model, long firstSeed, int count, int size) {
        SegmentationMetrics metrics = new SegmentationMetrics(ToyClass.count());
        SceneOptions options = SceneOptions.square(size);
        for (int start = 0; start < count; start += 16) {
            try (PointerScope scope = new PointerScope()) {
                List<Scene> scenes = new ArrayList<>();
                for (int i = start; i < Math.min(count, start + 16); i++) scenes.add(ToyWorld.sample(firstSeed + i, options));
                int[][] predicted = EvalImages.classMaps(model.predict(EvalImages.scenes(scenes)));
                for (int i = 0; i < scenes.size(); i++) metrics.add(scenes.get(i).seg(), predicted[i]);
            }
        }
        return metrics;
    }

    /** Copies the trainer's EMA weights (when it keeps them) into the model. */
    public static void useEma(ToyWorldSegmenter model, Trainer trainer) {
        Map<String, Param> params = model.namedParameters();
        try (NoGradGuard g = new NoGradGuard()) {
            if (trainer.ema() != null) trainer.ema().weights().forEach((k, t) -> params.get(k).t().copy_(t));
        }
    }

    /** Copies the EMA weights (when the trainer keeps them) into the model and writes the model folder. */
    public static SegmentationMetrics export(ToyWorldSegmenter model, Trainer trainer, Path out, int size) throws IOException {
        useEma(model, trainer);
        model.requiresGrad(false);
        SegmentationMetrics validation = evaluate(model, VALIDATION_SEEDS, 128, size);
        model.save(out, Map.of("step", Long.toString(trainer.step()),
                "validation_miou", String.format(java.util.Locale.ROOT, "%.4f", validation.meanIou())));
        return validation;
    }

}
