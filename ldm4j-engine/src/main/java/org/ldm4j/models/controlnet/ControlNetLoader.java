package org.ldm4j.models.controlnet;

import org.bytedeco.pytorch.Device;
import org.bytedeco.pytorch.global.torch.ScalarType;
import org.ldm4j.nn.Block;
import org.ldm4j.weights.DiffusersFolder;
import org.ldm4j.weights.SafetensorsFile;
import org.ldm4j.weights.WeightFormatException;
import org.ldm4j.weights.WeightLoader;
import org.ldm4j.weights.WeightSource;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.Locale;

/**
 * Loads a {@link ControlNetModel} from a diffusers ControlNet folder ({@code config.json} +
 * {@code diffusion_pytorch_model[.variant].safetensors}, as {@code ControlNetModel.save_pretrained} writes), or from a
 * single {@code .safetensors} file in diffusers or original cldm layout (config from a {@code config.json} beside it,
 * else inferred from the shapes). Anything that goes through {@link WeightSource} loads the same way
 * ({@link #load(WeightSource, ControlNetConfig, Device, ScalarType)}), and lllyasviel's {@code .pth} files load through the weights-only reader.
 * A checkpoint of another kind is refused with what it is.
 */
public final class ControlNetLoader {
    private ControlNetLoader() {}

    public static ControlNetModel load(Path path, Device device, ScalarType dtype) throws IOException {
        return load(path, null, device, dtype);
    }

    /** @param variant weight file variant ("fp16") for folders, or null */
    public static ControlNetModel load(Path path, String variant, Device device, ScalarType dtype) throws IOException {
        if (Files.isDirectory(path)) {
            Path config = path.resolve("config.json");
            if (!Files.isRegularFile(config)) {
                if (Files.isRegularFile(path.resolve("model_index.json"))) {
                    throw new WeightFormatException(path + " is a diffusers pipeline folder (model_index.json), not a ControlNet;"
                            + " give the ControlNet's own folder (config.json + diffusion_pytorch_model.safetensors)");
                }
                throw new WeightFormatException(path + ": no config.json, so not a diffusers ControlNet folder");
            }
            ControlNetConfig cfg = ControlNetConfig.read(config);
            try (WeightSource weights = DiffusersFolder.findWeights(path, variant)) {
                return load(weights, cfg, device, dtype);
            }
        }
        if (!Files.isRegularFile(path)) throw new NoSuchFileException(path.toString(), null, "no ControlNet folder or file");
        Path beside = path.toAbsolutePath().resolveSibling("config.json");
        ControlNetConfig cfg = null;
        if (Files.isRegularFile(beside)) {
            try {
                cfg = ControlNetConfig.read(beside);
            } catch (IllegalArgumentException notOurs) {
                cfg = null;   // a config of another model (e.g. a UNet's) sitting there: infer instead
            }
        }
        // .safetensors, or a PyTorch checkpoint (.pth/.ckpt) read weights-only (TorchCheckpoint: no code runs)
        try (WeightSource weights = WeightSource.open(path)) {
            return load(weights, cfg, device, dtype);
        }
    }

    /**
     * Loads from any weight source in diffusers or cldm layout.
     *
     * @param config the diffusers config, or null to infer it (cldm layout only)
     */
    public static ControlNetModel load(WeightSource weights, ControlNetConfig config, Device device, ScalarType dtype) {
        CheckpointKind kind = CheckpointKind.detect(weights.names());
        WeightSource diffusers;
        switch (kind) {
            case CONTROLNET_DIFFUSERS -> diffusers = weights;
            case CONTROLNET_ORIGINAL -> {
                if (config == null) config = CldmToDiffusers.inferConfig(weights);
                org.ldm4j.weights.Renamed renamed = CldmToDiffusers.convert(weights);
                String prefix = CldmToDiffusers.prefix(weights.names());
                java.util.List<String> unknown = renamed.dropped().stream().filter(n -> n.startsWith(prefix)).toList();
                if (!unknown.isEmpty()) {
                    throw new WeightFormatException(weights + ": " + unknown.size() + " cldm ControlNet tensors have no diffusers"
                            + " name: " + String.join(", ", unknown.subList(0, Math.min(12, unknown.size()))));
                }
                diffusers = renamed;
            }
            default -> throw new WeightFormatException(weights + " is " + kind.description + ", not a ControlNet");
        }
        if (config == null) {
            throw new WeightFormatException(weights + ": diffusers-layout ControlNet weights need their config.json");
        }
        ControlNetConfig cfg = config;
        ControlNetModel net = Block.withoutInit(() -> new ControlNetModel(cfg));
        net.to(device, dtype);
        WeightLoader.load(net, diffusers, "controlnet");
        return net;
    }
}
