package org.ldm4j.cli;

import org.bytedeco.pytorch.Scalar;
import org.bytedeco.pytorch.Tensor;
import org.ldm4j.image.Images;
import org.ldm4j.methods.fgdm.ClassMap;
import org.ldm4j.methods.fgdm.DepthMap;
import org.ldm4j.methods.fgdm.Factor;
import org.ldm4j.methods.fgdm.FactorGraph;
import org.ldm4j.methods.fgdm.FactorListener;
import org.ldm4j.methods.fgdm.FgdmFolder;
import org.ldm4j.methods.fgdm.FgdmManifest;
import org.ldm4j.methods.fgdm.HintRenderer;
import org.ldm4j.methods.fgdm.Palette;
import org.ldm4j.methods.fgdm.SegmentationMaps;
import org.ldm4j.nn.Dtypes;
import org.ldm4j.nn.Engine;
import org.ldm4j.pipeline.ModelLoader;
import org.ldm4j.pipeline.ProgressHook;
import org.ldm4j.pipeline.Step;

import java.awt.image.BufferedImage;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.Map;

/** What {@code fgdm sample} and {@code fgdm dataset} share: reading and loading the FG-DM folder, drawing its maps. */
final class FgdmSupport {
    private FgdmSupport() {}

    /** models/toyworld-fgdm beside the default base model (under {@code ldm4j.home}, see ModelLoader.defaultModel()). */
    static Path defaultFolder() { return Path.of(ModelLoader.defaultModel()).resolveSibling("toyworld-fgdm"); }

    /** The folder's manifest, checked; a missing folder or a bad manifest is a one-line usage error. */
    static FgdmFolder read(Path model) {
        Path weights = model != null ? model : defaultFolder();
        if (!Files.isDirectory(weights)) {
            // a path the user gave is simply not there; only the default folder can be missing for want of training
            throw new Ldm4j.UsageError(model != null ? "FG-DM folder not found: " + weights
                    : "no FG-DM weights at " + weights + ": the ToyWorld FG-DM factors are not trained yet"
                    + " (use 'ldm4j fgdm edit' on ToyWorld maps meanwhile)");
        }
        try {
            return FgdmFolder.read(weights);
        } catch (IOException | IllegalArgumentException e) {
            throw new Ldm4j.UsageError("cannot read FG-DM folder " + weights + ": " + message(e));
        }
    }

    /** Loads the base model and the factors; wrong or missing weights are one-line usage errors. */
    static FactorGraph load(FgdmFolder folder, Palette palette, String device, String dtype, Integer threads) {
        Engine.threads(threads != null ? threads : 1);
        try {
            return folder.load(Dtypes.device(device), Dtypes.parse(dtype), palette);
        } catch (IOException | RuntimeException e) {
            throw new Ldm4j.UsageError("cannot load FG-DM " + folder.folder + ": " + message(e));
        }
    }

    static String message(Exception e) {
        if (e instanceof NoSuchFileException n) return "no such file or folder: " + n.getFile();
        return e.getMessage();
    }

    /**
     * A factor's decoded output (1, 3, h, w) in [-1, 1] drawn as its map kind at {@code width}x{@code height}:
     * segmentation decoded to classes at the generated size, resized nearest and drawn in clean palette colours;
     * depth and sketch as grey; normals as RGB (bilinear, as the image factor's hints).
     */
    static BufferedImage draw(FgdmManifest.MapKind kind, Tensor decoded, Palette palette, int width, int height) {
        if (kind == FgdmManifest.MapKind.SEGMENTATION) {
            return SegmentationMaps.decode(decoded, palette, FgdmFolder.tolerance(palette)).resizeNearest(width, height).toImage(palette);
        }
        Tensor unit = HintRenderer.continuous().render(decoded, width, height);
        BufferedImage rgb = Images.toImage(unit.mul(new Scalar(2)).sub(new Scalar(1)));
        return kind == FgdmManifest.MapKind.NORMAL ? rgb : DepthMap.fromImage(rgb).toImage();
    }

    /** The decoded segmentation of a factor at its generated size. */
    static ClassMap classes(Tensor decoded, Palette palette) {
        return SegmentationMaps.decode(decoded, palette, FgdmFolder.tolerance(palette));
    }

    /** One terminal progress bar per factor run (a new bar each time a factor starts again, e.g. per SBPC candidate). */
    static FactorListener progress() {
        Map<String, ProgressHook> bars = new HashMap<>();
        return new FactorListener() {
            @Override
            public void stepped(Factor factor, Step step, Tensor latents, Tensor predictedX0) {
                ProgressHook bar = bars.computeIfAbsent(factor.name(), n -> new ProgressHook("fgdm " + n));
                bar.afterStep(latents, null, step);
                if (step.index() == step.count() - 1) bars.remove(factor.name());
            }
        };
    }
}
