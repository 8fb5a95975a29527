package org.ldm4j.methods.fgdm;

import org.bytedeco.pytorch.Tensor;
import org.ldm4j.nn.Dtypes;

/**
 * How a condition factor's decoded map (1, 3, h, w) in [-1, 1] becomes the map the graph hands on: to its children,
 * to the image factor's hint and to the caller ({@link FactorGraph#decode}). {@link #RAW} hands on what the decoder
 * returned (the paper's setting).
 */
@FunctionalInterface
public interface MapReadout {
    Tensor read(Tensor decodedMap);

    MapReadout RAW = map -> map;

    /**
     * A segmentation map decoded to classes ({@code palette}, {@code tolerance}), without its blend rims when
     * {@code blendRims} ({@link MapEdits#removeBlendRims}, thin fraction {@link #BLEND_RIM_THIN}: the decoder's border
     * of two classes read as a third whose colour is their midpoint), then without the regions smaller than
     * {@code smallRegions} says ({@link MapEdits#removeSmallRegions}), drawn again in the palette's colours (unlabeled
     * pixels in the unlabeled colour, so they decode as before). A generated map carries specks of a few pixels that
     * the image factor cannot draw at that size; each one counts against the agreement of map and image.
     * {@link #RAW} when there is nothing to remove.
     */
    static MapReadout cleaned(Palette palette, int tolerance, FgdmManifest.SmallRegions smallRegions, boolean blendRims) {
        if (smallRegions.keepsAll() && !blendRims) return RAW;
        return maps -> {
            org.bytedeco.pytorch.TensorVector cleaned = new org.bytedeco.pytorch.TensorVector();
            for (long i = 0; i < maps.size(0); i++) {   // a batch of runs (FactorGraphSampler.runBatch) is read map by map
                ClassMap classes = SegmentationMaps.decode(maps.narrow(0, i, 1), palette, tolerance);
                if (blendRims) classes = MapEdits.removeBlendRims(classes, palette, BLEND_RIM_THIN);
                if (!smallRegions.keepsAll()) {
                    classes = MapEdits.removeSmallRegions(classes,
                            c -> palette.isObject(c) ? smallRegions.objectPixels() : smallRegions.backgroundPixels());
                }
                cleaned.push_back(SegmentationMaps.toImageTensor(classes, palette));
            }
            return Dtypes.to(org.bytedeco.pytorch.global.torch.cat(cleaned, 0), maps.device(), maps.scalar_type());
        };
    }

    /** A blend rim's share of pixels that touch another class: a rim at most two pixels thick has them all, 0.85 allows a kink. */
    double BLEND_RIM_THIN = 0.85;

    /** {@link #cleaned} without the blend-rim step (the manifest's "min_region_pixels" / "min_object_pixels"). */
    static MapReadout withoutSmallRegions(Palette palette, int tolerance, FgdmManifest.SmallRegions smallRegions) {
        return cleaned(palette, tolerance, smallRegions, false);
    }
}
