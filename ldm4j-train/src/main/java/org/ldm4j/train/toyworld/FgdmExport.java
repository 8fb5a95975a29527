package org.ldm4j.train.toyworld;

import org.bytedeco.pytorch.NoGradGuard;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch;
import org.ldm4j.image.AtomicFiles;
import org.ldm4j.methods.fgdm.FgdmFolder;
import org.ldm4j.methods.fgdm.FgdmManifest;
import org.ldm4j.models.controlnet.ControlNetModel;
import org.ldm4j.nn.Block;
import org.ldm4j.nn.Param;
import org.ldm4j.weights.SafetensorsWriter;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * Writes a trained factor's weights into an FG-DM folder ({@code models/toyworld-fgdm/}, the lead's FG-DM folder
 * spec) and adds it to the folder's {@code fgdm.json} through the methods module's reader/writer
 * ({@link FgdmFolder#manifestWith}, {@link FgdmFolder#write}): {@code seg/adapter.safetensors} and {@code depth/adapter.safetensors} hold the
 * adapter tensors alone under the names {@code AdapterLoader.loadFgdm} reads ({@code conv_in.weight}, {@code body.N...});
 * {@code image/} is a diffusers ControlNetModel folder for {@code ControlNetLoader.load}; a root factor with a UNet of
 * its own goes to {@code seg/unet/}, a diffusers UNet folder, as does an image factor's unlocked UNet ({@code image/unet/},
 * fgdm.json key "unet"). All weights fp16, all files
 * written atomically. Factors are trained one at a time, so a folder may for a while hold a child without its parent.
 */
public final class FgdmExport {
    private FgdmExport() {}

    /**
     * Exports a trained branch (its current weights; copy the EMA in first) and adds or replaces its fgdm.json entry.
     *
     * @param baseModel the frozen base model's folder (written relative to {@code folder}); a folder whose factors
     *                  were trained on another base model is refused
     * @return the manifest written
     */
    public static FgdmManifest export(Path folder, FgdmTrainingSettings settings, Block branch, Path baseModel, Map<String, String> metadata)
            throws IOException {
        FgdmFactorKind kind = settings.kind();
        FgdmManifest manifest = FgdmFolder.manifestWith(folder, baseModel, entry(settings));   // refused before any file is touched
        Map<String, String> meta = new LinkedHashMap<>(metadata);
        meta.put("format", "pt");
        meta.put("fgdm_factor", kind.id());
        Block weights = branch;
        if (branch instanceof ControlNetWithUnetCopy unlocked) {
            // the whole UNet copy (its frozen parts too), then the ControlNet as below
            writeUnetFolder(folder.resolve(settings.unetWeights()), baseModel, half(unlocked.unet), meta);
            weights = unlocked.controlNet;
        }
        Map<String, Tensor> half = half(weights);
        if (kind == FgdmFactorKind.IMAGE) {
            Path dir = folder.resolve(settings.weights());
            Files.createDirectories(dir);
            AtomicFiles.write(dir.resolve("config.json"), ((ControlNetModel) weights).config.toJson().getBytes(StandardCharsets.UTF_8));
            SafetensorsWriter.write(dir.resolve("diffusion_pytorch_model.safetensors"), half, meta);
        } else if (settings.ownUnet()) {
            writeUnetFolder(folder.resolve(settings.weights()), baseModel, half, meta);
        } else {
            Path file = folder.resolve(settings.weights());
            Files.createDirectories(file.getParent());
            SafetensorsWriter.write(file, half, meta);
        }
        FgdmFolder.write(folder, manifest);
        return manifest;
    }

    /** A diffusers UNet folder of a copy of the base UNet: its architecture is the base's, so the base's config describes it. */
    private static void writeUnetFolder(Path dir, Path baseModel, Map<String, Tensor> half, Map<String, String> meta) throws IOException {
        Files.createDirectories(dir);
        AtomicFiles.write(dir.resolve("config.json"), Files.readAllBytes(baseModel.resolve("unet").resolve("config.json")));
        SafetensorsWriter.write(dir.resolve("diffusion_pytorch_model.safetensors"), half, meta);
    }

    /** Every parameter of {@code block} as fp16, by name. */
    private static Map<String, Tensor> half(Block block) {
        Map<String, Tensor> half = new LinkedHashMap<>();
        try (NoGradGuard g = new NoGradGuard()) {
            for (Map.Entry<String, Param> e : block.namedParameters().entrySet()) {
                half.put(e.getKey(), e.getValue().t().detach().to(torch.ScalarType.Half).contiguous());
            }
        }
        return half;
    }

    /**
     * The fgdm.json entry of a trained factor: its training size, and its sample settings (scale, steps, guidance, map
     * guidance, the hint's unlabeled pixels, the small regions a segmentation map loses) as defaults.
     */
    public static FgdmManifest.Entry entry(FgdmTrainingSettings s) {
        FgdmFactorKind kind = s.kind();
        return new FgdmManifest.Entry(kind.id(), kind.role(), kind.map(), kind.parents(), s.conditioning(), s.weights(), s.sampleScale(),
                s.factorSize(), s.factorSize(), s.sampleSteps(), s.sampleGuidance(), s.sampleMapGuidance(), s.sampleHintUnlabeled(),
                s.sampleSmallRegions(), s.unetWeights());
    }
}
