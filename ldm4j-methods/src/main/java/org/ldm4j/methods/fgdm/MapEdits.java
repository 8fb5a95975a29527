package org.ldm4j.methods.fgdm;

import java.util.ArrayList;
import java.util.List;

/**
 * The FG-DM editor's operations on a segmentation map (paper sec. 1, Figs. 1, 2, 6; official editor
 * {@code rohithreddy0087/segmented_image_editor}): move, resize, flip, remove, add. Every operation returns a new map
 * and leaves its input alone.
 *
 * <p>Where an object leaves a hole, the hole is filled from the classes around it ({@link #fill}), not with
 * "unlabeled" as the official tool does: the image factor was trained on maps without holes, and an unlabeled blob
 * makes it paint something arbitrary there.
 */
public final class MapEdits {
    public enum Axis { HORIZONTAL, VERTICAL }

    private MapEdits() {}

    /**
     * Fills the {@code holes} from their surroundings, one ring at a time from the outside in: each hole pixel on the
     * ring takes the most frequent class among its already known 8-neighbours (ties: the lowest class), labelled
     * classes preferred over unlabeled ones. So each pixel gets the class of its nearest surrounding region, and a
     * hole between sky and grass is split along the line where they would meet.
     */
    public static ClassMap fill(ClassMap map, boolean[] holes) {
        return fill(map, holes, l -> false);
    }

    /**
     * As {@link #fill(ClassMap, boolean[])}, except that a hole pixel with a {@code preferred} class among its known
     * neighbours takes the most frequent of those (e.g. objects first: an object's blurred outline joins the object).
     */
    public static ClassMap fill(ClassMap map, boolean[] holes, java.util.function.IntPredicate preferred) {
        int w = map.width(), h = map.height();
        if (holes.length != w * h) throw new IllegalArgumentException("hole mask has " + holes.length + " pixels, the map " + w * h);
        int[] out = map.labels().clone();
        boolean[] unknown = holes.clone();
        List<Integer> ring = new ArrayList<>();
        while (true) {
            ring.clear();
            for (int p = 0; p < out.length; p++) if (unknown[p] && hasKnownNeighbour(unknown, w, h, p)) ring.add(p);
            if (ring.isEmpty()) break;   // nothing known left around the remaining holes (the whole map was a hole)
            int[] chosen = new int[ring.size()];
            for (int k = 0; k < ring.size(); k++) chosen[k] = majority(out, unknown, w, h, ring.get(k), preferred);
            for (int k = 0; k < ring.size(); k++) {
                out[ring.get(k)] = chosen[k];
                unknown[ring.get(k)] = false;
            }
        }
        for (int p = 0; p < out.length; p++) if (unknown[p]) out[p] = ClassMap.UNLABELED;
        return new ClassMap(w, h, out);
    }

    /** Removes the region: its pixels are filled from the surrounding classes. */
    public static ClassMap remove(ClassMap map, Region region) {
        requireSameSize(map, region);
        return fill(map, region.mask());
    }

    /**
     * Moves the region by (dx, dy); pixels moved outside the map are dropped. {@code clearOld}: fill the old place
     * from its surroundings (false = the official editor's behaviour, the old copy stays).
     */
    public static ClassMap move(ClassMap map, Region region, int dx, int dy, boolean clearOld) {
        requireSameSize(map, region);
        return paste(clearOld ? fill(map, region.mask()) : map.copy(), region, dx, dy);
    }

    /** Draws {@code region}'s pixels, shifted by (dx, dy), in its class onto {@code target} (add an object from another map). */
    public static ClassMap paste(ClassMap target, Region region, int dx, int dy) {
        int[] out = target.labels().clone();
        for (int y = region.minY(); y <= region.maxY(); y++) {
            for (int x = region.minX(); x <= region.maxX(); x++) {
                if (!region.contains(x, y)) continue;
                int nx = x + dx, ny = y + dy;
                if (target.contains(nx, ny)) out[ny * target.width() + nx] = region.classId();
            }
        }
        return new ClassMap(target.width(), target.height(), out);
    }

    /**
     * Scales the region by {@code scale} about its centroid (nearest-neighbour on the mask); the old place is filled
     * first, so shrinking leaves background, not a ring of the old object.
     */
    public static ClassMap resize(ClassMap map, Region region, double scale) {
        requireSameSize(map, region);
        if (!(scale > 0 && scale <= 64)) throw new IllegalArgumentException("scale must be in (0, 64], got " + scale);
        ClassMap cleared = fill(map, region.mask());
        int[] out = cleared.labels();
        double cx = region.centroidX(), cy = region.centroidY();
        int x0 = (int) Math.floor(cx + (region.minX() - cx) * scale) - 1, x1 = (int) Math.ceil(cx + (region.maxX() + 1 - cx) * scale) + 1;
        int y0 = (int) Math.floor(cy + (region.minY() - cy) * scale) - 1, y1 = (int) Math.ceil(cy + (region.maxY() + 1 - cy) * scale) + 1;
        for (int y = Math.max(0, y0); y <= Math.min(map.height() - 1, y1); y++) {
            for (int x = Math.max(0, x0); x <= Math.min(map.width() - 1, x1); x++) {
                int sx = (int) Math.floor(cx + (x + 0.5 - cx) / scale), sy = (int) Math.floor(cy + (y + 0.5 - cy) / scale);
                if (region.contains(sx, sy)) out[y * map.width() + x] = region.classId();
            }
        }
        return cleared;
    }

    /** Mirrors the region about its centroid (the editor's flip); uncovered old pixels are filled from the surroundings. */
    public static ClassMap flip(ClassMap map, Region region, Axis axis) {
        requireSameSize(map, region);
        ClassMap cleared = fill(map, region.mask());
        int[] out = cleared.labels();
        double cx = region.centroidX(), cy = region.centroidY();
        for (int y = 0; y < map.height(); y++) {
            for (int x = 0; x < map.width(); x++) {
                int sx = axis == Axis.HORIZONTAL ? (int) Math.floor(2 * cx - (x + 0.5)) : x;
                int sy = axis == Axis.VERTICAL ? (int) Math.floor(2 * cy - (y + 0.5)) : y;
                if (region.contains(sx, sy)) out[y * map.width() + x] = region.classId();
            }
        }
        return cleared;
    }

    /**
     * Removes every region (8-connected component of one class) smaller than {@code minPixels}, filling it from the
     * classes around it; unlabeled pixels stay. A generated map carries specks (a few pixels of rock in the grass
     * where the VAE's colours wandered across the palette) that the image factor cannot draw at that size.
     */
    public static ClassMap removeSmallRegions(ClassMap map, int minPixels) {
        if (minPixels < 0) throw new IllegalArgumentException("minimum region size must be >= 0, got " + minPixels);
        return removeSmallRegions(map, c -> minPixels);
    }

    /** As {@link #removeSmallRegions(ClassMap, int)} with a minimum per class (e.g. one for objects, one for background). */
    public static ClassMap removeSmallRegions(ClassMap map, java.util.function.IntUnaryOperator minPixelsOfClass) {
        int w = map.width(), h = map.height();
        int[] labels = map.labels();
        boolean[] seen = new boolean[labels.length], small = new boolean[labels.length];
        int[] component = new int[labels.length];
        boolean any = false;
        for (int start = 0; start < labels.length; start++) {
            if (seen[start] || labels[start] == ClassMap.UNLABELED) continue;
            int cls = labels[start], area = 0;
            seen[start] = true;
            component[area++] = start;
            for (int k = 0; k < area; k++) {   // breadth-first over 8-neighbours; component[0..area) is the queue
                int p = component[k], px = p % w, py = p / w;
                for (int dy = -1; dy <= 1; dy++) {
                    for (int dx = -1; dx <= 1; dx++) {
                        int nx = px + dx, ny = py + dy, q = ny * w + nx;
                        if (nx < 0 || ny < 0 || nx >= w || ny >= h || seen[q] || labels[q] != cls) continue;
                        seen[q] = true;
                        component[area++] = q;
                    }
                }
            }
            if (area >= minPixelsOfClass.applyAsInt(cls)) continue;
            for (int k = 0; k < area; k++) small[component[k]] = true;
            any = true;
        }
        return any ? fill(map, small) : map.copy();
    }

    /**
     * The map without its blend rims, filled from their surroundings. A decoder draws the border of two regions in
     * colours between theirs; where a class's palette colour is the midpoint of two others (ToyWorld's moon, pale
     * yellow, lies halfway between the sun's yellow and the cloud's white; rock's grey between sky and sand), that
     * border decodes as a thin region of the third class. A blend rim is a region (8-connected, one class) whose
     * colour is within 2 per channel of the midpoint of two classes that both touch it, and at least
     * {@code thinFraction} of whose pixels touch another class: a rim, not a body (a drawn moon has an inside).
     */
    public static ClassMap removeBlendRims(ClassMap map, Palette palette, double thinFraction) {
        if (!(thinFraction > 0 && thinFraction <= 1)) throw new IllegalArgumentException("thin fraction must be in (0, 1], got " + thinFraction);
        int w = map.width(), h = map.height();
        int[] labels = map.labels();
        boolean[] seen = new boolean[labels.length], rim = new boolean[labels.length];
        int[] component = new int[labels.length];
        boolean any = false;
        for (int start = 0; start < labels.length; start++) {
            if (seen[start] || labels[start] == ClassMap.UNLABELED) continue;
            int cls = labels[start], area = 0, border = 0;
            java.util.Set<Integer> touching = new java.util.HashSet<>();
            seen[start] = true;
            component[area++] = start;
            for (int k = 0; k < area; k++) {   // breadth-first over 8-neighbours, noting the classes around
                int p = component[k], px = p % w, py = p / w;
                boolean atBorder = false;
                for (int dy = -1; dy <= 1; dy++) {
                    for (int dx = -1; dx <= 1; dx++) {
                        int nx = px + dx, ny = py + dy, q = ny * w + nx;
                        if (nx < 0 || ny < 0 || nx >= w || ny >= h || q == p) continue;
                        if (labels[q] != cls) {
                            atBorder = true;
                            if (labels[q] != ClassMap.UNLABELED) touching.add(labels[q]);
                        } else if (!seen[q]) {
                            seen[q] = true;
                            component[area++] = q;
                        }
                    }
                }
                if (atBorder) border++;
            }
            if (border < thinFraction * area || !isBlendOf(palette, cls, touching)) continue;
            for (int k = 0; k < area; k++) rim[component[k]] = true;
            any = true;
        }
        return any ? fill(map, rim) : map.copy();
    }

    /** True when {@code cls}'s colour is (within 2 per channel) the midpoint of two of the {@code touching} classes' colours. */
    static boolean isBlendOf(Palette palette, int cls, java.util.Set<Integer> touching) {
        int c = palette.colour(cls);
        Integer[] around = touching.toArray(new Integer[0]);
        for (int i = 0; i < around.length; i++) {
            for (int j = i + 1; j < around.length; j++) {
                int a = palette.colour(around[i]), b = palette.colour(around[j]);
                boolean mid = true;
                for (int shift = 0; shift <= 16 && mid; shift += 8) {
                    double m = (((a >> shift) & 255) + ((b >> shift) & 255)) / 2.0;
                    mid = Math.abs(((c >> shift) & 255) - m) <= 2;
                }
                if (mid) return true;
            }
        }
        return false;
    }

    /** Paints the mask's pixels in {@code classId} (an added object or a freehand stroke). */
    public static ClassMap add(ClassMap map, boolean[] mask, int classId) {
        return paste(map, Region.ofMask(classId, map.width(), map.height(), mask), 0, 0);
    }

    private static boolean hasKnownNeighbour(boolean[] unknown, int w, int h, int p) {
        int px = p % w, py = p / w;
        for (int dy = -1; dy <= 1; dy++) {
            for (int dx = -1; dx <= 1; dx++) {
                int nx = px + dx, ny = py + dy;
                if ((dx != 0 || dy != 0) && nx >= 0 && ny >= 0 && nx < w && ny < h && !unknown[ny * w + nx]) return true;
            }
        }
        return false;
    }

    private static int majority(int[] labels, boolean[] unknown, int w, int h, int p, java.util.function.IntPredicate preferred) {
        int px = p % w, py = p / w;
        java.util.Map<Integer, Integer> counts = new java.util.TreeMap<>();
        for (int dy = -1; dy <= 1; dy++) {
            for (int dx = -1; dx <= 1; dx++) {
                int nx = px + dx, ny = py + dy;
                if ((dx == 0 && dy == 0) || nx < 0 || ny < 0 || nx >= w || ny >= h || unknown[ny * w + nx]) continue;
                int l = labels[ny * w + nx];
                if (l != ClassMap.UNLABELED) counts.merge(l, 1, Integer::sum);
            }
        }
        if (counts.isEmpty()) return ClassMap.UNLABELED;
        if (counts.keySet().stream().anyMatch(preferred::test)) counts.keySet().removeIf(l -> !preferred.test(l));
        int best = ClassMap.UNLABELED, bestVotes = 0;
        for (var e : counts.entrySet()) {
            if (e.getValue() > bestVotes) {
                best = e.getKey();
                bestVotes = e.getValue();
            }
        }
        return best;
    }

    private static void requireSameSize(ClassMap map, Region region) {
        if (region.width() != map.width() || region.height() != map.height()) {
            throw new IllegalArgumentException("region was picked on a " + region.width() + "x" + region.height() + " map, this map is "
                    + map.width() + "x" + map.height());
        }
    }
}
