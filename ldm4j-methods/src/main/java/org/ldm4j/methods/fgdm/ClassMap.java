package org.ldm4j.methods.fgdm;

import java.awt.image.BufferedImage;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * A segmentation map as class indices, row-major ({@code labels[y * width + x]}), {@link #UNLABELED} where no class
 * is. Editing and recall work on these, never on colours: colours are decoded once, before any resize (a bilinear
 * resize of a colour map invents colours of no class, brief section 6).
 */
public record ClassMap(int width, int height, int[] labels) {
    public static final int UNLABELED = -1;

    public ClassMap {
        if (width <= 0 || height <= 0) throw new IllegalArgumentException("class map size must be positive, got " + width + "x" + height);
        if (labels.length != width * height) {
            throw new IllegalArgumentException("class map " + width + "x" + height + " needs " + width * height + " labels, got " + labels.length);
        }
    }

    /** A map filled with one class. */
    public static ClassMap filled(int width, int height, int classId) {
        int[] l = new int[width * height];
        Arrays.fill(l, classId);
        return new ClassMap(width, height, l);
    }

    public int get(int x, int y) { return labels[y * width + x]; }

    public boolean contains(int x, int y) { return x >= 0 && y >= 0 && x < width && y < height; }

    public ClassMap copy() { return new ClassMap(width, height, labels.clone()); }

    /** Pixels per class present (UNLABELED included when present), in class order. */
    public Map<Integer, Integer> areas() {
        Map<Integer, Integer> counts = new java.util.TreeMap<>();
        for (int l : labels) counts.merge(l, 1, Integer::sum);
        return new LinkedHashMap<>(counts);
    }

    public int area(int classId) {
        int n = 0;
        for (int l : labels) if (l == classId) n++;
        return n;
    }

    /** Which pixels are {@code classId} (e.g. the holes {@link MapEdits#fill} is given). */
    public boolean[] mask(int classId) {
        boolean[] m = new boolean[labels.length];
        for (int p = 0; p < m.length; p++) m[p] = labels[p] == classId;
        return m;
    }

    /** Nearest-neighbour resize (pixel centres), the only resize that keeps a class map's classes. */
    public ClassMap resizeNearest(int newWidth, int newHeight) {
        if (newWidth == width && newHeight == height) return copy();
        int[] out = new int[newWidth * newHeight];
        for (int y = 0; y < newHeight; y++) {
            int sy = Math.min(height - 1, (int) Math.floor((y + 0.5) * height / newHeight));
            for (int x = 0; x < newWidth; x++) {
                int sx = Math.min(width - 1, (int) Math.floor((x + 0.5) * width / newWidth));
                out[y * newWidth + x] = labels[sy * width + sx];
            }
        }
        return new ClassMap(newWidth, newHeight, out);
    }

    /** The map drawn in the palette's colours. */
    public BufferedImage toImage(Palette palette) {
        BufferedImage img = new BufferedImage(width, height, BufferedImage.TYPE_INT_RGB);
        int[] rgb = new int[labels.length];
        for (int i = 0; i < labels.length; i++) rgb[i] = palette.colour(labels[i]);
        img.setRGB(0, 0, width, height, rgb, 0, width);
        return img;
    }

    /** The class indices as an 8-bit grey image (UNLABELED = 255), the dataset's label-PNG convention. */
    public BufferedImage toLabelImage() {
        BufferedImage img = new BufferedImage(width, height, BufferedImage.TYPE_BYTE_GRAY);
        var raster = img.getRaster();
        for (int y = 0; y < height; y++) {
            for (int x = 0; x < width; x++) {
                int l = get(x, y);
                if (l > 254) throw new IllegalArgumentException("class " + l + " does not fit an 8-bit label image");
                raster.setSample(x, y, 0, l == UNLABELED ? 255 : l);
            }
        }
        return img;
    }

    @Override public boolean equals(Object o) {
        return o instanceof ClassMap m && m.width == width && m.height == height && Arrays.equals(m.labels, labels);
    }

    @Override public int hashCode() { return 31 * (31 * width + height) + Arrays.hashCode(labels); }

    @Override public String toString() { return "ClassMap[" + width + "x" + height + ", " + areas() + "]"; }
}
