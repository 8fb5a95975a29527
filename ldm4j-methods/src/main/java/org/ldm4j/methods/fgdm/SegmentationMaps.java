package org.ldm4j.methods.fgdm;

import org.bytedeco.pytorch.Tensor;
import org.ldm4j.image.Images;
import org.ldm4j.pipeline.ControlImages;

import java.awt.image.BufferedImage;

/**
 * Segmentation maps between colour images and {@link ClassMap}s (brief section 6; official decoder: a pixel is class
 * l when each of R, G, B is within +-28 of palette[l], else unlabeled).
 *
 * <p>Order matters: decode a generated map to classes at the resolution it was generated, then resize the classes
 * (nearest), then draw colours for the image factor's hint. The released hand-off resizes the colour map bilinearly
 * (256 -> 512), which mixes colours at borders into colours of no class.
 */
public final class SegmentationMaps {
    /** The official per-channel tolerance (its COCO palette has min distance 32). */
    public static final int OFFICIAL_TOLERANCE = 28;

    private SegmentationMaps() {}

    /** Decodes an 8-bit RGB image; pixels farther than {@code tolerance} (per channel) from every colour are unlabeled. */
    public static ClassMap decode(BufferedImage image, Palette palette, int tolerance) {
        if (tolerance < 0 || tolerance > 255) throw new IllegalArgumentException("palette tolerance must be in 0..255, got " + tolerance);
        int w = image.getWidth(), h = image.getHeight();
        int[] rgb = image.getRGB(0, 0, w, h, null, 0, w);
        int[] labels = new int[rgb.length];
        for (int i = 0; i < rgb.length; i++) labels[i] = palette.decode(rgb[i] & 0xFFFFFF, tolerance);
        return new ClassMap(w, h, labels);
    }

    /**
     * Decodes a generated map, (1, 3, H, W) in [-1, 1] as the VAE returns it: quantised to uint8 as the released code
     * does ((x+1)/2, clamp, x255), then {@link #decode(BufferedImage, Palette, int)}.
     */
    public static ClassMap decode(Tensor image, Palette palette, int tolerance) {
        return decode(Images.toImage(image), palette, tolerance);
    }

    /**
     * The image factor's hint for a class map: resized nearest to {@code width}x{@code height}, drawn in the palette's
     * colours, (1, 3, H, W) in [0, 1] as ControlNet hints are.
     */
    public static Tensor hint(ClassMap map, Palette palette, int width, int height) {
        return ControlImages.toTensor(map.resizeNearest(width, height).toImage(palette), 3);
    }

    /** The map drawn in colours as (1, 3, H, W) in [-1, 1] (the VAE's input range, to encode an edited map). */
    public static Tensor toImageTensor(ClassMap map, Palette palette) {
        return Images.toTensor(map.toImage(palette));
    }
}
