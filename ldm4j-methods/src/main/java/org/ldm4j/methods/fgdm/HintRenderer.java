package org.ldm4j.methods.fgdm;

import org.bytedeco.pytorch.Scalar;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch;

/**
 * Turns a parent factor's decoded map (1, 3, h, w) in [-1, 1] into a ControlNet hint (1, 3, H, W) in [0, 1] at the
 * image factor's size (the released hand-off: (x+1)/2, clamp, uint8, resize, /255).
 */
@FunctionalInterface
public interface HintRenderer {
    Tensor render(Tensor decodedMap, int width, int height);

    /**
     * Segmentation parents: decode to classes at the generated resolution, resize the classes nearest, draw the
     * palette colours. Unlike the released bilinear resize of colours, no border pixel gets a colour of no class.
     */
    static HintRenderer segmentation(Palette palette, int tolerance) {
        return segmentation(palette, tolerance, false);
    }

    /**
     * As {@link #segmentation(Palette, int)}; with {@code fillUnlabeled}, pixels that decode to no class first take the
     * class around them, an object's before a background's ({@link MapEdits#fill(ClassMap, boolean[],
     * java.util.function.IntPredicate)}). A generated map's objects come back from the VAE with a rim of in-between
     * colours, which decode to no class; the image factor learned from maps without such rims and paints them as
     * something arbitrary. Objects first, because the rim is the object's blurred edge, and filling it with background
     * erases thin objects (a palm tree's trunk).
     */
    static HintRenderer segmentation(Palette palette, int tolerance, boolean fillUnlabeled) {
        return (map, w, h) -> {
            ClassMap decoded = SegmentationMaps.decode(map, palette, tolerance);
            if (fillUnlabeled) decoded = MapEdits.fill(decoded, decoded.mask(ClassMap.UNLABELED), palette::isObject);
            return SegmentationMaps.hint(decoded, palette, w, h);
        };
    }

    /** Continuous maps (depth, normal, sketch): quantised to 8 bits as the released code does, resized bilinearly. */
    static HintRenderer continuous() {
        return (map, w, h) -> {
            Tensor unit = map.to(torch.ScalarType.Float).add(new Scalar(1)).div(new Scalar(2)).clamp(new org.bytedeco.pytorch.ScalarOptional(new Scalar(0)),
                    new org.bytedeco.pytorch.ScalarOptional(new Scalar(1)));
            Tensor u8 = unit.mul(new Scalar(255)).round().div(new Scalar(255));
            if (u8.size(2) == h && u8.size(3) == w) return u8;
            return torch.upsample_bilinear2d(u8, new long[]{h, w}, false);
        };
    }
}
