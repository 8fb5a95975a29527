package org.ldm4j.studio;

import org.ldm4j.methods.fgdm.FactorGraph;
import org.ldm4j.methods.fgdm.FgdmFolder;
import org.ldm4j.methods.fgdm.FgdmManifest;
import org.ldm4j.pipeline.StableDiffusion;
import org.ldm4j.toyworld.eval.ToyWorldSegmenter;

import java.io.IOException;
import java.nio.file.Path;

/**
 * EXTENSION POINT: where the Factor graph mode gets its FG-DM. {@link StudioServer#start(StudioConfig, FactorGraphSource)}
 * calls it once at start, with the loaded base model, so the factors can share its UNet, VAE and text encoder (the
 * FG-DM's frozen base); {@link #toyWorldFolder} serves a trained FG-DM folder ({@code ldm4j studio --fgdm DIR}), on
 * a base of its own when the folder was trained on another model.
 * Returning null, or no source at all, shows the mode disabled with {@link #NO_FACTORS}; a source that throws leaves
 * the mode disabled with its message (the other modes keep running).
 */
@FunctionalInterface
public interface FactorGraphSource {
    String NO_FACTORS = "no FG-DM factors: train them with `ldm4j train fgdm`";

    /** @return the FG-DM to serve, or null when there is none */
    FactorGraphModel load(StableDiffusion base) throws IOException;

    /**
     * The FG-DM folder {@code folder} ({@code fgdm.json} and the factors' weights, see {@link FgdmFolder}), its maps in
     * ToyWorld's colours; the first factor whose manifest {@code map} is segmentation is the map SBPC scores and the map
     * editor edits (none: SBPC and map edits are off). The factors run on the studio's model when that is the folder's
     * {@code base_model}, and on a base of their own, loaded from {@code base_model} on the same device and dtype,
     * when it is not: factors are trained on one base (its latent channels, its text encoder) and fit no other. A
     * folder that is missing, wrong or not fully trained yet (a factor without its parent) throws, which leaves the
     * mode off with the reason.
     *
     * @param studioModel the studio's model spec ({@code --model}): a folder, a file or a Hub id
     */
    static FactorGraphSource toyWorldFolder(Path folder, String studioModel) {
        return toyWorldFolder(folder, studioModel, null);
    }

    /**
     * {@link #toyWorldFolder(Path, String)} with SBPC's image check: its images are read by the ToyWorld segmenter in
     * {@code segmenter} (a {@code ToyWorldSegmenter} folder such as {@code models/toyworld-segmenter}; null = no image
     * check). A segmenter that does not load leaves the mode off with the reason, as a bad FG-DM folder does.
     */
    static FactorGraphSource toyWorldFolder(Path folder, String studioModel, Path segmenter) {
        return toyWorldFolder(folder, studioModel, segmenter, null);
    }

    /**
     * {@link #toyWorldFolder(Path, String, Path)} with segmentation guidance: the ToyWorld segmenter in {@code guide}
     * (e.g. {@code models/toyworld-segmenter-guide}; null = none) steers images toward their maps when a job asks
     * ({@code guide: true}).
     */
    static FactorGraphSource toyWorldFolder(Path folder, String studioModel, Path segmenter, Path guide) {
        return base -> {
            FgdmFolder fgdm = FgdmFolder.read(folder);
            FgdmManifest.Entry segmentation = fgdm.manifest.firstOf(FgdmManifest.MapKind.SEGMENTATION);
            FactorGraph graph = fgdm.isBaseModel(Path.of(studioModel))
                    ? fgdm.load(base, FactorGraphModel.toyWorldPalette())
                    : fgdm.load(base.device(), base.dtype(), FactorGraphModel.toyWorldPalette());
            FactorGraphModel model = FactorGraphModel.toyWorld(graph, segmentation == null ? null : segmentation.name());
            if (guide != null) {
                try {
                    model = model.withGuide(FactorGraphModel.toyWorldGuide(guide));
                } catch (IOException | RuntimeException e) {
                    throw new IOException("the guide segmenter " + guide + ": " + e.getMessage(), e);
                }
            }
            if (segmenter == null) return model;
            try {
                return model.withSegmenter(FactorGraphModel.toyWorldSegmenter(ToyWorldSegmenter.load(segmenter)));
            } catch (IOException | RuntimeException e) {
                throw new IOException("the image check's segmenter " + segmenter + ": " + e.getMessage(), e);
            }
        };
    }
}
