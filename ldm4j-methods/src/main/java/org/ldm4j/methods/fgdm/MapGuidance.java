package org.ldm4j.methods.fgdm;

import org.bytedeco.pytorch.Tensor;
import org.ldm4j.methods.guidance.GuidanceSettings;
import org.ldm4j.methods.guidance.SegmentationGuidance;
import org.ldm4j.methods.guidance.SegmentationLoss;
import org.ldm4j.methods.guidance.Segmenter;
import org.ldm4j.pipeline.StableDiffusion;
import org.ldm4j.pipeline.StepHook;
import org.ldm4j.schedulers.Scheduler;

import java.util.List;
import java.util.function.Function;

/**
 * Steers the image factor toward its segmentation parent: the finished map, decoded to classes (palette colours within
 * the tolerance; unlabeled pixels are not steered) and resized to the image, is the wanted class map of a
 * {@link SegmentationGuidance} on the image factor's chain. An ldm4j addition to FG-DM, not in the paper: the
 * ControlNet alone draws what the map says only as far as it was trained to.
 */
public final class MapGuidance implements FactorHooks {
    private final StableDiffusion sd;
    private final String mapFactor;
    private final Segmenter guide;
    private final Palette palette;
    private final int tolerance;
    private final GuidanceSettings settings;

    /**
     * @param mapFactor the segmentation factor whose map the image factors are steered toward
     * @param guide     a segmenter over the palette's classes (class i = palette entry i)
     */
    public MapGuidance(FactorGraph graph, String mapFactor, Segmenter guide, Palette palette, int tolerance, GuidanceSettings settings) {
        graph.indexOf(mapFactor);
        this.sd = graph.sd;
        this.mapFactor = mapFactor;
        this.guide = guide;
        this.palette = palette;
        this.tolerance = tolerance;
        this.settings = settings;
    }

    @Override
    public List<StepHook> create(Factor factor, Scheduler scheduler, Function<String, Tensor> parentMap) {
        if (factor.role() != Factor.Role.IMAGE || !factor.parents().contains(mapFactor)) return List.of();
        int width = factor.settings().width(), height = factor.settings().height();
        ClassMap map = SegmentationMaps.decode(parentMap.apply(mapFactor), palette, tolerance);
        if (map.width() != width || map.height() != height) map = map.resizeNearest(width, height);
        if (map.areas().keySet().stream().allMatch(c -> c == ClassMap.UNLABELED)) return List.of();   // nothing to steer toward
        return List.of(new SegmentationGuidance(scheduler, new SegmentationLoss(sd, guide, map.labels(), width, height, settings.balance()), settings));
    }
}
