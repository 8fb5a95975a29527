package org.ldm4j.methods.fgdm;

/**
 * One object of a segmentation map as the FG-DM editor picks it: an 8-connected component of one class, as a mask
 * over the map ({@code mask[y * width + x]}). Centroid and bounding box are in pixel coordinates (the centroid is
 * the mean of the pixel centres, so a region's own mirror image about it is itself).
 */
public record Region(int classId, int width, int height, boolean[] mask, int area,
                     int minX, int minY, int maxX, int maxY, double centroidX, double centroidY) {

    /** A region from a mask (e.g. a shape to add); the mask must have at least one pixel. */
    public static Region ofMask(int classId, int width, int height, boolean[] mask) {
        if (mask.length != width * height) throw new IllegalArgumentException("mask has " + mask.length + " pixels, the map " + width * height);
        int area = 0, minX = width, minY = height, maxX = -1, maxY = -1;
        double sx = 0, sy = 0;
        for (int y = 0; y < height; y++) {
            for (int x = 0; x < width; x++) {
                if (!mask[y * width + x]) continue;
                area++;
                sx += x + 0.5;
                sy += y + 0.5;
                minX = Math.min(minX, x);
                minY = Math.min(minY, y);
                maxX = Math.max(maxX, x);
                maxY = Math.max(maxY, y);
            }
        }
        if (area == 0) throw new IllegalArgumentException("the region is empty (no pixel inside the " + width + "x" + height + " map)");
        return new Region(classId, width, height, mask, area, minX, minY, maxX, maxY, sx / area, sy / area);
    }

    /**
     * The 8-connected component of the class under pixel (x, y). Throws when the point is outside the map or on an
     * unlabeled pixel ("nothing" to pick).
     */
    public static Region at(ClassMap map, int x, int y) {
        if (!map.contains(x, y)) {
            throw new IllegalArgumentException("region point (" + x + ", " + y + ") is outside the " + map.width() + "x" + map.height() + " map");
        }
        int cls = map.get(x, y);
        if (cls == ClassMap.UNLABELED) throw new IllegalArgumentException("region point (" + x + ", " + y + ") is on no region (an unlabeled pixel)");
        int w = map.width(), h = map.height();
        int[] labels = map.labels();
        boolean[] mask = Shapes.connected(w, h, x, y, (p, q) -> labels[q] == cls);
        return ofMask(cls, w, h, mask);
    }

    public boolean contains(int x, int y) { return x >= 0 && y >= 0 && x < width && y < height && mask[y * width + x]; }

    public int boxWidth() { return maxX - minX + 1; }

    public int boxHeight() { return maxY - minY + 1; }
}
