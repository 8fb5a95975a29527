package org.ldm4j.models.adapter;

import org.bytedeco.pytorch.Device;
import org.bytedeco.pytorch.global.torch.ScalarType;
import org.ldm4j.models.controlnet.CheckpointKind;
import org.ldm4j.models.unet.UNet2DConditionModel;
import org.ldm4j.nn.Block;
import org.ldm4j.weights.DiffusersFolder;
import org.ldm4j.weights.Renamed;
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
 * Loads adapters: diffusers {@code T2IAdapter} folders / files, original-layout T2I-Adapter files (converted by
 * {@link OriginalT2IAdapter}), and FG-DM adapters from any {@link WeightSource} (an FG-DM checkpoint's
 * {@code model.diffusion_model.adapter.*}, or a standalone adapter). A checkpoint of another kind is refused with what
 * it is.
 */
public final class AdapterLoader {
    public static final String FGDM_PREFIX = "model.diffusion_model.adapter.";

    private AdapterLoader() {}

    /**
     * A T2I-Adapter from a folder ({@code config.json} + weights) or a {@code .safetensors} file.
     *
     * @param levels          UNet down blocks (used only to infer an original-layout config)
     * @param downscaleFactor PixelUnshuffle factor for an original-layout file (the VAE factor, 8 for SD)
     */
    public static T2IAdapter loadT2I(Path path, int levels, int downscaleFactor, Device device, ScalarType dtype) throws IOException {
        if (Files.isDirectory(path)) {
            Path config = path.resolve("config.json");
            if (!Files.isRegularFile(config)) {
                throw new WeightFormatException(path + ": no config.json, so not a diffusers T2IAdapter folder");
            }
            T2IAdapterConfig cfg = T2IAdapterConfig.read(config);
            try (WeightSource w = DiffusersFolder.findWeights(path, null)) {
                return loadT2I(w, cfg, levels, downscaleFactor, device, dtype);
            }
        }
        if (!Files.isRegularFile(path)) throw new NoSuchFileException(path.toString(), null, "no T2I-Adapter folder or file");
        Path beside = path.toAbsolutePath().resolveSibling("config.json");
        T2IAdapterConfig cfg = null;
        if (Files.isRegularFile(beside)) {
            try {
                cfg = T2IAdapterConfig.read(beside);
            } catch (IllegalArgumentException notOurs) {
                cfg = null;
            }
        }
        try (WeightSource w = WeightSource.open(path)) {   // safetensors or a weights-only PyTorch checkpoint
            return loadT2I(w, cfg, levels, downscaleFactor, device, dtype);
        }
    }

    /** @param config the diffusers config, or null to infer it (original layout only) */
    public static T2IAdapter loadT2I(WeightSource weights, T2IAdapterConfig config, int levels, int downscaleFactor,
                                     Device device, ScalarType dtype) {
        CheckpointKind kind = CheckpointKind.detect(weights.names());
        WeightSource diffusers;
        switch (kind) {
            case T2I_ADAPTER_DIFFUSERS -> {
                if (config == null) throw new WeightFormatException(weights + ": diffusers-layout T2IAdapter weights need their config.json");
                diffusers = weights;
            }
            case T2I_ADAPTER_ORIGINAL, T2I_LIGHT_ADAPTER_ORIGINAL -> {
                if (config == null) config = OriginalT2IAdapter.inferConfig(weights, levels, downscaleFactor);
                diffusers = OriginalT2IAdapter.convert(weights, config);
            }
            default -> throw new WeightFormatException(weights + " is " + kind.description + ", not a T2I-Adapter");
        }
        T2IAdapterConfig cfg = config;
        T2IAdapter adapter = Block.withoutInit(() -> new T2IAdapter(cfg));
        adapter.to(device, dtype);
        WeightLoader.load(adapter, diffusers, "t2i_adapter");
        return adapter;
    }

    /**
     * FG-DM's adapter of a condition factor: a {@link TimeAdapter} or the plain latent {@code Adapter}, whichever the
     * tensors are, with the UNet's widths, time-embedding width and levels. {@code checkpoint} may be a whole FG-DM
     * checkpoint (the adapter is {@code model.diffusion_model.adapter.*}) or the adapter alone.
     */
    public static FeatureAdapter loadFgdm(WeightSource checkpoint, UNet2DConditionModel unet, int groups) {
        String prefix = checkpoint.contains(FGDM_PREFIX + "conv_in.weight") ? FGDM_PREFIX
                : checkpoint.contains("adapter.conv_in.weight") && !checkpoint.contains("adapter.body.0.resnets.0.block1.weight") ? "adapter." : "";
        Renamed adapterOnly = Renamed.stripPrefix(checkpoint, prefix);
        if (!adapterOnly.contains("conv_in.weight")) {
            throw new WeightFormatException(checkpoint + " is " + CheckpointKind.detect(checkpoint.names()).description
                    + ", not an FG-DM adapter (no " + prefix + "conv_in.weight)");
        }
        int levels = unet.config.blockCount();
        int cin = (int) adapterOnly.info("conv_in.weight").shape()[1];
        int blocks = 0;
        while (adapterOnly.contains("body." + blocks + ".in_layers.0.weight") || adapterOnly.contains("body." + blocks + ".block1.weight")) blocks++;
        if (blocks == 0 || blocks % levels != 0) {
            throw new WeightFormatException(checkpoint + ": " + blocks + " FG-DM adapter blocks do not split into the UNet's " + levels + " levels");
        }
        int perLevel = blocks / levels;
        Block adapter;
        WeightSource names;
        if (adapterOnly.contains("body.0.in_layers.0.weight")) {
            adapter = Block.withoutInit(() -> new TimeAdapter(cin, unet.config.blockOutChannels(), perLevel, unet.config.timeEmbedDim(), groups));
            names = adapterOnly;
        } else {
            T2IAdapter plain = Block.withoutInit(() -> T2IAdapter.fgdmLatentAdapter(cin, unet.config.blockOutChannels(), perLevel));
            adapter = plain;
            names = OriginalT2IAdapter.convert(adapterOnly, plain.config);
        }
        adapter.to(unet.device(), unet.dtype());
        WeightLoader.load(adapter, names, "fgdm_adapter");
        return (FeatureAdapter) adapter;
    }
}
