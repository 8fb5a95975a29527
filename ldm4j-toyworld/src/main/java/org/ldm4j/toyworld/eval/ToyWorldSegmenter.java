package org.ldm4j.toyworld.eval;

import com.fasterxml.jackson.databind.ObjectMapper;
import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.LongOptional;
import org.bytedeco.pytorch.NoGradGuard;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch;
import org.ldm4j.image.AtomicFiles;
import org.ldm4j.nn.Block;
import org.ldm4j.nn.Conv2d;
import org.ldm4j.nn.GroupNorm;
import org.ldm4j.nn.Seq;
import org.ldm4j.nn.Tensors;
import org.ldm4j.weights.SafetensorsFile;
import org.ldm4j.weights.SafetensorsWriter;
import org.ldm4j.weights.WeightLoader;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The ToyWorld evaluator's segmentation network: a small UNet-style encoder-decoder (GroupNorm + SiLU residual
 * blocks, strided-conv downsampling, nearest upsampling with additive skips) mapping an RGB image in [-1, 1] to
 * per-pixel logits over the ToyWorld classes.
 *
 * <p>It plays the two roles an ImageNet network plays for COCO-scale evaluation: its class maps give object recall
 * (as FG-DM measures recall with Segformer, Le et al. 2024, sec. 4) and segmentation mIoU, and the global average
 * of its bottleneck features is the embedding of the "ToyWorld-FID" (Heusel et al. 2017 use Inception's pool3 in
 * the same way). The bottleneck rather than the last decoder layer is used because it is the most global and
 * semantic layer; the decoder features are dominated by boundary detail.
 *
 * <p>Fully convolutional: any input size works; sides that are not a multiple of {@link SegmenterConfig#sizeMultiple()}
 * are edge-padded and the logits cropped back.
 */
public final class ToyWorldSegmenter extends Block {
    public static final String WEIGHTS_FILE = "model.safetensors";
    public static final String CONFIG_FILE = "config.json";
    private static final int BATCH = 32;

    /** GroupNorm, SiLU, conv3x3, GroupNorm, SiLU, conv3x3, plus the input (diffusers' ResnetBlock2D without time). */
    static final class ResBlock extends Block {
        final GroupNorm norm1, norm2;
        final Conv2d conv1, conv2;

        ResBlock(int channels, int groups) {
            norm1 = child("norm1", new GroupNorm(groups, channels, 1e-5));
            conv1 = child("conv1", new Conv2d(channels, channels, 3, 1, 1));
            norm2 = child("norm2", new GroupNorm(groups, channels, 1e-5));
            conv2 = child("conv2", new Conv2d(channels, channels, 3, 1, 1));
        }

        Tensor forward(Tensor x) {
            Tensor h = conv1.forward(torch.silu(norm1.forward(x)));
            h = conv2.forward(torch.silu(norm2.forward(h)));
            return x.add(h);
        }
    }

    /** One resolution level: an optional resampling conv, then a residual block. */
    static final class Level extends Block {
        final Conv2d conv;
        final ResBlock res;

        Level(Conv2d conv, int channels, int groups) {
            this.conv = conv == null ? null : child("conv", conv);
            this.res = child("res", new ResBlock(channels, groups));
        }
    }

    /** Logits (B, classes, H, W) and the embedding (B, D) of one forward pass. */
    public record Output(Tensor logits, Tensor embedding) {}

    private final SegmenterConfig config;
    private final Conv2d stem;
    private final Seq<Level> down = new Seq<>();
    private final Seq<Level> up = new Seq<>();
    private final GroupNorm headNorm;
    private final Conv2d head;

    public ToyWorldSegmenter(SegmenterConfig config) {
        this.config = config;
        int[] c = config.channels();
        int g = config.normGroups();
        stem = child("stem", new Conv2d(3, c[0], 3, 1, 1));
        child("down", down);
        for (int i = 0; i < c.length; i++) {
            down.add(new Level(i == 0 ? null : new Conv2d(c[i - 1], c[i], 3, 2, 1), c[i], g));
        }
        child("up", up);
        // up.0 produces level L-2, up.1 level L-3, ..., the last one full resolution
        for (int i = c.length - 2; i >= 0; i--) up.add(new Level(new Conv2d(c[i + 1], c[i], 3, 1, 1), c[i], g));
        headNorm = child("head_norm", new GroupNorm(g, c[0], 1e-5));
        head = child("head", new Conv2d(c[0], config.numClasses(), 1, 1, 0));
    }

    public SegmenterConfig config() { return config; }

    /** Logits and embedding of images (B, 3, H, W) in [-1, 1]. */
    public Output forward(Tensor images) {
        if (images.dim() != 4 || images.size(1) != 3) {
            throw new IllegalArgumentException("segmenter input must be (B, 3, H, W), got " + java.util.Arrays.toString(images.sizes().vec().get()));
        }
        long h = images.size(2), w = images.size(3);
        int m = config.sizeMultiple();
        long padH = (m - h % m) % m, padW = (m - w % m) % m;
        Tensor x = padH + padW > 0 ? torch.replication_pad2d(images, 0, padW, 0, padH) : images;
        Tensor[] skips = encode(x);
        x = skips[skips.length - 1];
        Tensor embedding = pool(x);
        for (int j = 0; j < up.size(); j++) {
            int target = down.size() - 2 - j;
            Level level = up.get(j);
            x = torch.upsample_nearest2d(x, skips[target].size(2), skips[target].size(3));
            x = level.conv.forward(x).add(skips[target]);
            x = level.res.forward(x);
        }
        Tensor logits = head.forward(torch.silu(headNorm.forward(x)));
        if (padH + padW > 0) logits = logits.narrow(2, 0, h).narrow(3, 0, w);
        return new Output(logits, embedding);
    }

    /** Predicted class per pixel, (B, H, W) int64, without gradients. */
    public Tensor predict(Tensor images) {
        try (NoGradGuard g = new NoGradGuard()) {
            return torch.argmax(forward(images).logits(), new LongOptional(1), false);
        }
    }

    /** The FID embedding (B, D), without gradients; runs the encoder only. */
    public Tensor embed(Tensor images) {
        try (NoGradGuard g = new NoGradGuard()) {
            int m = config.sizeMultiple();
            long padH = (m - images.size(2) % m) % m, padW = (m - images.size(3) % m) % m;
            Tensor x = padH + padW > 0 ? torch.replication_pad2d(images, 0, padW, 0, padH) : images;
            Tensor[] levels = encode(x);
            return pool(levels[levels.length - 1]);
        }
    }

    /** The encoder's output at every level, full resolution first. */
    private Tensor[] encode(Tensor x) {
        x = stem.forward(x);
        Tensor[] levels = new Tensor[down.size()];
        for (int i = 0; i < down.size(); i++) {
            Level level = down.get(i);
            if (level.conv != null) x = level.conv.forward(x);
            x = level.res.forward(x);
            levels[i] = x;
        }
        return levels;
    }

    private static Tensor pool(Tensor x) {
        return x.mean(new long[]{2, 3}, false, new org.bytedeco.pytorch.ScalarTypeOptional());
    }

    /** Class maps of packed-RGB images of one size, in batches of {@value #BATCH}, one int[H·W] per image. */
    public int[][] classMaps(List<int[]> rgb, int width, int height) {
        int[][] out = new int[rgb.size()][];
        for (int start = 0; start < rgb.size(); start += BATCH) {
            try (PointerScope scope = new PointerScope()) {
                List<int[]> batch = rgb.subList(start, Math.min(rgb.size(), start + BATCH));
                int[][] maps = EvalImages.classMaps(predict(EvalImages.tensor(batch, width, height)));
                System.arraycopy(maps, 0, out, start, maps.length);
            }
        }
        return out;
    }

    /** Embeddings of packed-RGB images of one size, in batches of {@value #BATCH}: double[N][D]. */
    public double[][] embeddings(List<int[]> rgb, int width, int height) {
        double[][] out = new double[rgb.size()][];
        for (int start = 0; start < rgb.size(); start += BATCH) {
            try (PointerScope scope = new PointerScope()) {
                List<int[]> batch = rgb.subList(start, Math.min(rgb.size(), start + BATCH));
                float[] e = Tensors.toFloats(embed(EvalImages.tensor(batch, width, height)));
                int d = e.length / batch.size();
                for (int i = 0; i < batch.size(); i++) {
                    double[] row = new double[d];
                    for (int k = 0; k < d; k++) row[k] = e[i * d + k];
                    out[start + i] = row;
                }
            }
        }
        return out;
    }

    /** Writes {@code config.json} and fp16 {@code model.safetensors} into {@code dir} (atomically, each). */
    public void save(Path dir, Map<String, String> metadata) throws IOException {
        Files.createDirectories(dir);
        AtomicFiles.write(dir.resolve(CONFIG_FILE), config.toJson().getBytes(StandardCharsets.UTF_8));
        Map<String, Tensor> half = new LinkedHashMap<>();
        namedParameters().forEach((k, p) -> half.put(k, p.t().detach().to(torch.ScalarType.Half)));
        Map<String, String> meta = new LinkedHashMap<>(metadata);
        meta.put("format", "pt");
        SafetensorsWriter.write(dir.resolve(WEIGHTS_FILE), half, meta);
    }

    /** Loads a folder written by {@link #save} as a float32 CPU model. */
    public static ToyWorldSegmenter load(Path dir) throws IOException {
        Path configFile = dir.resolve(CONFIG_FILE);
        Path weights = dir.resolve(WEIGHTS_FILE);
        if (!Files.isRegularFile(configFile) || !Files.isRegularFile(weights)) {
            throw new IllegalArgumentException("not a segmenter folder: " + dir + " (needs " + CONFIG_FILE + " and " + WEIGHTS_FILE
                    + "; train one with 'ldm4j train segmenter')");
        }
        SegmenterConfig config = SegmenterConfig.parse(new ObjectMapper().readTree(Files.readString(configFile)), configFile.toString());
        ToyWorldSegmenter model = Block.withoutInit(() -> new ToyWorldSegmenter(config));
        try (SafetensorsFile f = SafetensorsFile.open(weights)) {
            WeightLoader.load(model, f, "segmenter");
        }
        return model;
    }
}
