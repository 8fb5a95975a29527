package org.ldm4j.toyworld;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The ToyWorld label set: nine "stuff" classes (amorphous background) and six "thing" classes (countable objects
 * that captions name). The class index is the value in {@link Scene#seg()} and in the grey segmentation PNG.
 *
 * <p>Palette colours use only the channel levels 0, 128 and 255, so any two differ by at least 127 in some channel
 * (L-infinity distance >= 127): a segmentation colour PNG decodes back to indices with a tolerance of +-63, which
 * survives JPEG, resizing seams and the colour drift of a generated map.
 */
public enum ToyClass {
    SKY("sky", false, 0, 128, 255),
    CLOUD("cloud", false, 255, 255, 255),
    SUN("sun", false, 255, 255, 0),
    MOON("moon", false, 255, 255, 128),
    MOUNTAIN("mountain", false, 128, 0, 128),
    GRASS("grass", false, 0, 255, 0),
    SAND("sand", false, 255, 128, 0),
    SNOW("snow", false, 128, 255, 255),
    WATER("water", false, 0, 0, 255),
    HOUSE("house", true, 255, 0, 0),
    TREE("tree", true, 0, 128, 0),
    BOAT("boat", true, 255, 0, 255),
    FLOWERS("flowers", true, 255, 128, 255),
    CAR("car", true, 0, 255, 255),
    ROCK("rock", true, 128, 128, 128);

    private final String label;
    private final boolean object;
    private final int colour;

    ToyClass(String label, boolean object, int r, int g, int b) {
        this.label = label;
        this.object = object;
        this.colour = (r << 16) | (g << 8) | b;
    }

    private static final ToyClass[] VALUES = values();

    /** The colour of pixels of no class in colour maps: black, which no class uses (>= 128 from every class colour). */
    public static final int UNLABELED_COLOUR = 0x000000;

    /** Lower-case name used in files and captions. */
    public String label() { return label; }

    /** True for countable objects (house, tree, boat, flowers, car, rock), false for stuff. */
    public boolean isObject() { return object; }

    /** Fixed palette colour, packed 0xRRGGBB. */
    public int colour() { return colour; }

    /** The class with this index (ordinal), or IllegalArgumentException. */
    public static ToyClass of(int index) {
        if (index < 0 || index >= VALUES.length) {
            throw new IllegalArgumentException("ToyWorld class index " + index + " out of range 0.." + (VALUES.length - 1));
        }
        return VALUES[index];
    }

    public static int count() { return VALUES.length; }

    /** Every class's label -> palette colour (0xRRGGBB), in index order: what colour maps are drawn with. */
    public static Map<String, Integer> colours() {
        Map<String, Integer> out = new LinkedHashMap<>();
        for (ToyClass c : VALUES) out.put(c.label, c.colour);
        return out;
    }

    /** The labels of the six object classes, in index order. */
    public static List<String> objectLabels() { return objects().stream().map(ToyClass::label).toList(); }

    /** The six object classes, in index order. */
    public static List<ToyClass> objects() {
        return java.util.Arrays.stream(VALUES).filter(ToyClass::isObject).toList();
    }

    /**
     * Decodes a segmentation colour to its class: the palette entry nearest in L-infinity distance, or -1 when that
     * distance exceeds {@code tolerance} (use <= 63 to keep decoding unambiguous).
     */
    public static int decode(int rgb, int tolerance) {
        int best = -1;
        int bestDistance = Integer.MAX_VALUE;
        for (ToyClass c : VALUES) {
            int d = linf(rgb, c.colour);
            if (d < bestDistance) { bestDistance = d; best = c.ordinal(); }
        }
        return bestDistance <= tolerance ? best : -1;
    }

    /** L-infinity distance between two packed RGB colours. */
    public static int linf(int a, int b) {
        int dr = Math.abs(((a >> 16) & 255) - ((b >> 16) & 255));
        int dg = Math.abs(((a >> 8) & 255) - ((b >> 8) & 255));
        int db = Math.abs((a & 255) - (b & 255));
        return Math.max(dr, Math.max(dg, db));
    }
}
