package org.ldm4j.methods.fgdm;

import java.util.ArrayDeque;

/**
 * Masks for adding objects to a map: a filled ellipse or rectangle, or a freehand brush stroke (the editor's "draw");
 * and the connected region under a point, for picking one ({@link Region#at}, {@link DepthEdits#regionAt}).
 */
public final class Shapes {
    private Shapes() {}

    /** Pixels whose centres lie inside the ellipse centred at (cx, cy) with radii rx, ry. */
    public static boolean[] ellipse(int width, int height, double cx, double cy, double rx, double ry) {
        if (!(rx > 0 && ry > 0)) throw new IllegalArgumentException("ellipse radii must be positive, got " + rx + ", " + ry);
        boolean[] m = new boolean[width * height];
        for (int y = 0; y < height; y++) {
            for (int x = 0; x < width; x++) {
                double u = (x + 0.5 - cx) / rx, v = (y + 0.5 - cy) / ry;
                m[y * width + x] = u * u + v * v <= 1;
            }
        }
        return m;
    }

    /** Pixels x0..x1, y0..y1 (inclusive, clipped to the map). */
    public static boolean[] rectangle(int width, int height, int x0, int y0, int x1, int y1) {
        if (x1 < x0 || y1 < y0) throw new IllegalArgumentException("rectangle corners (" + x0 + ", " + y0 + ") .. (" + x1 + ", " + y1 + ") are reversed");
        boolean[] m = new boolean[width * height];
        for (int y = Math.max(0, y0); y <= Math.min(height - 1, y1); y++) {
            for (int x = Math.max(0, x0); x <= Math.min(width - 1, x1); x++) m[y * width + x] = true;
        }
        return m;
    }

    /**
     * A brush stroke through {@code points} ({x, y} pairs): every pixel whose centre is within {@code radius} of the
     * polyline (a single point paints a disc).
     */
    public static boolean[] stroke(int width, int height, int[][] points, double radius) {
        if (points.length == 0) throw new IllegalArgumentException("a stroke needs at least one point");
        if (!(radius > 0)) throw new IllegalArgumentException("brush radius must be positive, got " + radius);
        boolean[] m = new boolean[width * height];
        for (int y = 0; y < height; y++) {
            for (int x = 0; x < width; x++) {
                double px = x + 0.5, py = y + 0.5;
                for (int i = 0; i < points.length && !m[y * width + x]; i++) {
                    int[] a = points[i], b = points[Math.min(i + 1, points.length - 1)];
                    m[y * width + x] = distanceToSegment(px, py, a[0] + 0.5, a[1] + 0.5, b[0] + 0.5, b[1] + 0.5) <= radius;
                }
            }
        }
        return m;
    }

    /** Whether two 8-neighbouring pixels (row-major indices) belong to the same region. */
    @FunctionalInterface
    interface Joins {
        boolean test(int pixel, int neighbour);
    }

    /**
     * The 8-connected set of pixels reachable from (x, y), which must be inside the map, through neighbours that
     * {@code joins} links to the pixel they are reached from (breadth-first flood fill).
     */
    static boolean[] connected(int width, int height, int x, int y, Joins joins) {
        boolean[] mask = new boolean[width * height];
        ArrayDeque<Integer> queue = new ArrayDeque<>();
        mask[y * width + x] = true;
        queue.add(y * width + x);
        while (!queue.isEmpty()) {
            int p = queue.poll(), px = p % width, py = p / width;
            for (int dy = -1; dy <= 1; dy++) {
                for (int dx = -1; dx <= 1; dx++) {
                    int nx = px + dx, ny = py + dy;
                    if (nx < 0 || ny < 0 || nx >= width || ny >= height) continue;
                    int q = ny * width + nx;
                    if (!mask[q] && joins.test(p, q)) {
                        mask[q] = true;
                        queue.add(q);
                    }
                }
            }
        }
        return mask;
    }

    static double distanceToSegment(double px, double py, double ax, double ay, double bx, double by) {
        double vx = bx - ax, vy = by - ay, len2 = vx * vx + vy * vy;
        double t = len2 == 0 ? 0 : Math.max(0, Math.min(1, ((px - ax) * vx + (py - ay) * vy) / len2));
        double dx = px - (ax + t * vx), dy = py - (ay + t * vy);
        return Math.sqrt(dx * dx + dy * dy);
    }
}
