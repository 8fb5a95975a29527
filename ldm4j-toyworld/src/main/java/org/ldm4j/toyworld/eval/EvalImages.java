package org.ldm4j.toyworld.eval;

import org.bytedeco.pytorch.Tensor;
import org.ldm4j.nn.Tensors;
import org.ldm4j.toyworld.Scene;

import java.awt.image.BufferedImage;
import java.util.List;

/** Packed 0xRRGGBB pixels to and from the (B, 3, H, W) [-1, 1] tensors the segmenter reads, and class-map tensors. */
public final class EvalImages {
    private EvalImages() {}

    /** Images of equal size as a (B, 3, H, W) float tensor in [-1, 1] (diffusers' normalisation). */
    public static Tensor tensor(List<int[]> rgb, int width, int height) {
        int plane = width * height;
        float[] data = new float[rgb.size() * 3 * plane];
        for (int b = 0; b < rgb.size(); b++) {
            int[] px = rgb.get(b);
            if (px.length != plane) throw new IllegalArgumentException("image " + b + " has " + px.length + " pixels, expected " + width + "x" + height);
            int base = b * 3 * plane;
            for (int p = 0; p < plane; p++) {
                int c = px[p];
                data[base + p] = ((c >> 16) & 255) / 127.5f - 1f;
                data[base + plane + p] = ((c >> 8) & 255) / 127.5f - 1f;
                data[base + 2 * plane + p] = (c & 255) / 127.5f - 1f;
            }
        }
        return Tensors.ofFloats(data, rgb.size(), 3, height, width);
    }

    public static Tensor scenes(List<Scene> scenes) {
        Scene first = scenes.get(0);
        return tensor(scenes.stream().map(Scene::rgb).toList(), first.width(), first.height());
    }

    /** Ground-truth class maps as a (B, H, W) int64 tensor (cross-entropy targets). */
    public static Tensor segTargets(List<Scene> scenes) {
        Scene first = scenes.get(0);
        int plane = first.width() * first.height();
        long[] data = new long[scenes.size() * plane];
        for (int b = 0; b < scenes.size(); b++) {
            int[] seg = scenes.get(b).seg();
            for (int p = 0; p < plane; p++) data[b * plane + p] = seg[p];
        }
        return Tensors.ofLongs(data, scenes.size(), first.height(), first.width());
    }

    /** Packed pixels of an image (alpha dropped). */
    public static int[] rgb(BufferedImage image) {
        int[] out = image.getRGB(0, 0, image.getWidth(), image.getHeight(), null, 0, image.getWidth());
        for (int i = 0; i < out.length; i++) out[i] &= 0xFFFFFF;
        return out;
    }

    /** A (B, H, W) integer class-map tensor as one int[] per image. */
    public static int[][] classMaps(Tensor maps) {
        long b = maps.size(0), plane = maps.size(1) * maps.size(2);
        float[] all = Tensors.toFloats(maps);
        int[][] out = new int[(int) b][(int) plane];
        for (int i = 0; i < b; i++) for (int p = 0; p < plane; p++) out[i][p] = (int) all[(int) (i * plane + p)];
        return out;
    }
}
