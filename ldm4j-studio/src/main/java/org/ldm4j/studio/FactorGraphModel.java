package org.ldm4j.studio;

import org.bytedeco.pytorch.InferenceMode;
import org.ldm4j.image.Images;
import org.ldm4j.methods.fgdm.ClassMap;
import org.ldm4j.methods.fgdm.Factor;
import org.ldm4j.methods.fgdm.FactorGraph;
import org.ldm4j.methods.fgdm.FactorHooks;
import org.ldm4j.methods.fgdm.ImageSegmenter;
import org.ldm4j.methods.fgdm.MapGuidance;
import org.ldm4j.methods.fgdm.Palette;
import org.ldm4j.methods.guidance.GuidanceSettings;
import org.ldm4j.methods.guidance.Segmenter;
import org.ldm4j.toyworld.ToyClass;
import org.ldm4j.toyworld.eval.EvalImages;
import org.ldm4j.toyworld.eval.ToyWorldSegmenter;

import java.io.IOException;
import java.nio.file.Path;
import java.util.List;

/**
 * The FG-DM the Factor graph mode runs (FG-DM, Sridhar et al., NeurIPS 2024; {@code org.ldm4j.methods.fgdm}): the
 * factor graph, which of its condition factors draws the segmentation map (SBPC scores it, map edits apply to it;
 * null = none, then SBPC N must be 1 and maps cannot be edited), the palette that map is drawn in, the segmenter
 * SBPC's image check reads the images with (null = no image check) and the guide segmenter that steers an image toward
 * its map (segmentation guidance, {@link MapGuidance}; null = none).
 */
public record FactorGraphModel(FactorGraph graph, String segmentationFactor, Palette palette, ImageSegmenter segmenter, Segmenter guide) {
    /** Per-channel tolerance when reading a segmentation map (ToyWorld colours differ by >= 127; as {@code ldm4j fgdm edit}). */
    public static final int TOLERANCE = 63;
    /** A prompt's object counts when it covers this fraction of the map (as {@code ldm4j fgdm sample --min-area}). */
    public static final double MIN_AREA = 0.005;

    public FactorGraphModel {
        if (graph == null) throw new IllegalArgumentException("the FG-DM graph is missing");
        if (palette == null) throw new IllegalArgumentException("the FG-DM palette is missing");
        if (segmentationFactor != null && graph.factor(segmentationFactor).role() != Factor.Role.CONDITION) {
            throw new IllegalArgumentException("factor '" + segmentationFactor + "' is the image factor, not a segmentation map");
        }
        if (graph.imageFactors().isEmpty()) throw new IllegalArgumentException("the FG-DM has no image factor: the studio shows its image");
    }

    /** Without an image check or a guide. */
    public FactorGraphModel(FactorGraph graph, String segmentationFactor, Palette palette) {
        this(graph, segmentationFactor, palette, null, null);
    }

    /** The same FG-DM, its SBPC images checked with {@code imageSegmenter} (null: no image check). */
    public FactorGraphModel withSegmenter(ImageSegmenter imageSegmenter) {
        return new FactorGraphModel(graph, segmentationFactor, palette, imageSegmenter, guide);
    }

    /** The same FG-DM, its images steerable toward their maps by {@code guideSegmenter} (null: no guidance). */
    public FactorGraphModel withGuide(Segmenter guideSegmenter) {
        return new FactorGraphModel(graph, segmentationFactor, palette, segmenter, guideSegmenter);
    }

    /**
     * Hooks that steer {@code tuned}'s image factors toward the segmentation map at the recommended setting
     * ({@link GuidanceSettings#RECOMMENDED}); {@link FactorHooks#NONE} when not {@code on}.
     */
    public FactorHooks guidance(FactorGraph tuned, boolean on) {
        if (!on) return FactorHooks.NONE;
        if (guide == null || segmentationFactor == null) throw new IllegalStateException("no guide or no segmentation map to guide toward");
        return new MapGuidance(tuned, segmentationFactor, guide, palette, TOLERANCE, GuidanceSettings.RECOMMENDED);
    }

    /** ToyWorld's evaluator ({@code models/toyworld-segmenter}) as an image segmenter: an image in, its class map out, at the image's size. */
    public static ImageSegmenter toyWorldSegmenter(ToyWorldSegmenter segmenter) {
        return image -> {
            int w = (int) image.size(3), h = (int) image.size(2);
            return new ClassMap(w, h, segmenter.classMaps(List.of(EvalImages.rgb(Images.toImage(image))), w, h)[0]);
        };
    }

    /**
     * A ToyWorld segmenter folder (e.g. {@code models/toyworld-segmenter-guide}) as a guide: differentiable logits, its
     * weights frozen so gradients reach the latent only. Loaded as normal tensors even inside a caller's inference
     * mode: the guide's backward pass must be able to save them.
     */
    public static Segmenter toyWorldGuide(Path folder) throws IOException {
        ToyWorldSegmenter model;
        try (InferenceMode normal = new InferenceMode(false)) {
            model = ToyWorldSegmenter.load(folder);
        }
        model.requiresGrad(false);
        return images -> model.forward(images).logits();
    }

    /** A ToyWorld FG-DM: its maps are drawn in ToyWorld's class colours. */
    public static FactorGraphModel toyWorld(FactorGraph graph, String segmentationFactor) {
        return new FactorGraphModel(graph, segmentationFactor, toyWorldPalette());
    }

    /** ToyWorld's classes as an FG-DM palette (unlabeled drawn black, which no ToyWorld class uses). */
    public static Palette toyWorldPalette() { return Palette.of(ToyClass.colours(), ToyClass.objectLabels(), ToyClass.UNLABELED_COLOUR); }

    /** The image factor whose output the studio shows (the first one declared). */
    public String imageFactor() { return graph.imageFactors().get(0); }
}
