package org.ldm4j.methods.fgdm;

/**
 * Depth-map edits (paper Fig. 2: "the dog is placed behind the sandcastle" by editing the depth map): picking an
 * object on a depth map and swapping two objects' places in depth.
 */
public final class DepthEdits {
    private DepthEdits() {}

    /**
     * Swaps the depth of two regions: each is shifted by the difference of their mean depths, so the nearer one
     * becomes the farther one and each keeps its own relief (a sloping object stays sloped). Values are not clamped
     * ({@link DepthMap#toImage} clamps when drawing).
     */
    public static DepthMap swap(DepthMap depth, boolean[] a, boolean[] b) {
        int n = depth.values().length;
        if (a.length != n || b.length != n) throw new IllegalArgumentException("region masks must have the depth map's " + n + " pixels");
        for (int i = 0; i < n; i++) {
            if (a[i] && b[i]) throw new IllegalArgumentException("the two regions overlap (pixel " + (i % depth.width()) + ", " + (i / depth.width()) + ")");
        }
        double meanA = mean(depth, a), meanB = mean(depth, b);
        float[] out = depth.values().clone();
        for (int i = 0; i < n; i++) {
            if (a[i]) out[i] += (float) (meanB - meanA);
            else if (b[i]) out[i] += (float) (meanA - meanB);
        }
        return new DepthMap(depth.width(), depth.height(), out);
    }

    /** Mean depth over a mask. */
    public static double mean(DepthMap depth, boolean[] mask) {
        double sum = 0;
        int count = 0;
        for (int i = 0; i < mask.length; i++) {
            if (mask[i]) {
                sum += depth.values()[i];
                count++;
            }
        }
        if (count == 0) throw new IllegalArgumentException("empty region: no pixel to take a depth from");
        return sum / count;
    }

    /**
     * The object under (x, y) on a depth map alone: the 8-connected set reachable through neighbours whose depth
     * differs by at most {@code step} (a depth edge stops it, a gentle slope does not).
     */
    public static boolean[] regionAt(DepthMap depth, int x, int y, float step) {
        int w = depth.width(), h = depth.height();
        if (x < 0 || y < 0 || x >= w || y >= h) throw new IllegalArgumentException("point (" + x + ", " + y + ") is outside the " + w + "x" + h + " depth map");
        float[] v = depth.values();
        return Shapes.connected(w, h, x, y, (p, q) -> Math.abs(v[q] - v[p]) <= step);
    }
}
