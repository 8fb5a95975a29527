package org.ldm4j.train.toyworld;

import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.TensorVector;
import org.bytedeco.pytorch.global.torch;
import org.ldm4j.image.Images;
import org.ldm4j.methods.fgdm.ClassMap;
import org.ldm4j.methods.fgdm.DepthMap;
import org.ldm4j.methods.fgdm.Palette;
import org.ldm4j.methods.fgdm.SegmentationMaps;
import org.ldm4j.toyworld.Scene;
import org.ldm4j.toyworld.ToyClass;

import java.util.List;

/**
 * ToyWorld's exact condition maps as FG-DM training tensors (shared/design/fgdm.md sections 1 and 6; the FG-DM folder
 * spec): every map is a 3-channel image in [-1, 1] at the factor's size, the form the base VAE encodes, and the image
 * factor's segmentation hint is drawn in [0, 1] exactly as {@code HintRenderer.segmentation} draws it for a generated
 * map: classes at the condition factor's size, resized nearest to the image size, painted in palette colours.
 */
public final class ToyWorldMaps {
    private ToyWorldMaps() {}

    /** ToyWorld's classes as the FG-DM palette the factors are trained with (and {@code ldm4j fgdm} samples with). */
    public static Palette palette() { return Palette.of(ToyClass.colours(), ToyClass.objectLabels(), ToyClass.UNLABELED_COLOUR); }

    /** The scene's class map resized nearest to {@code size} x {@code size} (the only resize that keeps classes). */
    public static ClassMap classes(Scene scene, int size) {
        return new ClassMap(scene.width(), scene.height(), scene.seg()).resizeNearest(size, size);
    }

    /** Segmentation colour maps (B, 3, size, size) in [-1, 1]. */
    public static Tensor segmentation(List<Scene> scenes, int size) {
        Palette palette = palette();
        TensorVector parts = new TensorVector();
        for (Scene s : scenes) parts.push_back(SegmentationMaps.toImageTensor(classes(s, size), palette));
        return torch.cat(parts, 0);
    }

    /**
     * Depth maps (B, 3, size, size) in [-1, 1]: ToyWorld's nearness (near = bright, as {@link DepthMap}) averaged over
     * each output pixel's footprint, quantised to 8-bit grey as a depth PNG is, replicated to three channels.
     */
    public static Tensor depth(List<Scene> scenes, int size) {
        TensorVector parts = new TensorVector();
        for (Scene s : scenes) parts.push_back(Images.toTensor(new DepthMap(size, size, areaResize(s.depth(), s.width(), s.height(), size)).toImage()));
        return torch.cat(parts, 0);
    }

    /**
     * Sketch maps (B, 3, size, size) in [-1, 1]: white lines on black; a pixel is a line where any source pixel of its
     * footprint is (a 1-pixel outline at 64x64 stays a full line at 32x32, not a grey one).
     */
    public static Tensor sketch(List<Scene> scenes, int size) {
        TensorVector parts = new TensorVector();
        for (Scene s : scenes) {
            float[] lines = new float[s.sketch().length];
            for (int i = 0; i < lines.length; i++) lines[i] = s.sketch()[i] ? 1 : 0;
            float[] small = maxResize(lines, s.width(), s.height(), size);
            boolean[] on = new boolean[small.length];
            for (int i = 0; i < on.length; i++) on[i] = small[i] > 0;
            parts.push_back(Images.toTensor(org.ldm4j.toyworld.SceneImages.sketch(size, size, on)));
        }
        return torch.cat(parts, 0);
    }

    /**
     * Surface-normal maps (B, 3, size, size) in [-1, 1]: each component averaged over the footprint and renormalised,
     * drawn as ToyWorld draws them (x, y, z in [-1, 1] to RGB) and quantised to 8 bits as a normal PNG is.
     */
    public static Tensor normals(List<Scene> scenes, int size) {
        TensorVector parts = new TensorVector();
        for (Scene s : scenes) {
            int n = s.width() * s.height();
            float[][] c = new float[3][n];
            for (int i = 0; i < n; i++) for (int k = 0; k < 3; k++) c[k][i] = s.normals()[3 * i + k];
            float[][] small = new float[3][];
            for (int k = 0; k < 3; k++) small[k] = areaResize(c[k], s.width(), s.height(), size);
            float[] out = new float[3 * size * size];
            for (int i = 0; i < size * size; i++) {
                double len = Math.sqrt(small[0][i] * small[0][i] + small[1][i] * small[1][i] + small[2][i] * small[2][i]);
                for (int k = 0; k < 3; k++) out[3 * i + k] = len == 0 ? (k == 2 ? 1 : 0) : (float) (small[k][i] / len);
            }
            parts.push_back(Images.toTensor(org.ldm4j.toyworld.SceneImages.normals(size, size, out)));
        }
        return torch.cat(parts, 0);
    }

    /** The condition map of {@code kind} (segmentation, depth, sketch, normals) at {@code size}, in [-1, 1]. */
    public static Tensor map(org.ldm4j.methods.fgdm.FgdmManifest.MapKind kind, List<Scene> scenes, int size) {
        return switch (kind) {
            case SEGMENTATION -> segmentation(scenes, size);
            case DEPTH -> depth(scenes, size);
            case SKETCH -> sketch(scenes, size);
            case NORMAL -> normals(scenes, size);
        };
    }

    /**
     * The image factor's hints (B, 3, hintSize, hintSize) in [0, 1]: the class map at {@code mapSize} (the size the
     * segmentation factor generates), resized nearest to {@code hintSize} and painted, as the sampler's hand-off does.
     */
    public static Tensor segmentationHint(List<Scene> scenes, int mapSize, int hintSize) {
        Palette palette = palette();
        TensorVector parts = new TensorVector();
        for (Scene s : scenes) parts.push_back(SegmentationMaps.hint(classes(s, mapSize), palette, hintSize, hintSize));
        return torch.cat(parts, 0);
    }

    /** Max-filter resize of a row-major float map to size x size (each output pixel the maximum of its source footprint). */
    static float[] maxResize(float[] values, int width, int height, int size) { return resize(values, width, height, size, true); }

    /** Box-filter resize of a row-major float map to size x size (each output pixel averages its source footprint). */
    static float[] areaResize(float[] values, int width, int height, int size) { return resize(values, width, height, size, false); }

    private static float[] resize(float[] values, int width, int height, int size, boolean max) {
        if (width == size && height == size) return values.clone();
        float[] out = new float[size * size];
        for (int y = 0; y < size; y++) {
            int y0 = y * height / size, y1 = Math.max(y0 + 1, (y + 1) * height / size);
            for (int x = 0; x < size; x++) {
                int x0 = x * width / size, x1 = Math.max(x0 + 1, (x + 1) * width / size);
                double sum = 0, m = Double.NEGATIVE_INFINITY;
                for (int yy = y0; yy < y1; yy++) {
                    for (int xx = x0; xx < x1; xx++) {
                        sum += values[yy * width + xx];
                        m = Math.max(m, values[yy * width + xx]);
                    }
                }
                out[y * size + x] = (float) (max ? m : sum / ((y1 - y0) * (x1 - x0)));
            }
        }
        return out;
    }
}
