package org.ldm4j.methods.fgdm;

import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * The colours segmentation classes are drawn with (FG-DM converts every condition to a 3-channel image, brief
 * section 6). Class {@code i} is drawn {@code colours.get(i)} (packed 0xRRGGBB); pixels of no class ("unlabeled") are
 * drawn {@code unlabeledColour}, which must be far from every class colour so that it does not decode as one.
 *
 * <p>The methods module does not know ToyWorld: callers build ToyWorld's palette with
 * {@code Palette.of(ToyClass.colours(), ToyClass.objectLabels(), ToyClass.UNLABELED_COLOUR)}.
 *
 * @param names   lower-case class names, as prompts name them
 * @param objects which classes are countable objects (prompt-compliance recall counts those)
 */
public record Palette(List<String> names, List<Integer> colours, List<Boolean> objects, int unlabeledColour) {
    public Palette {
        names = List.copyOf(names);
        colours = List.copyOf(colours);
        objects = List.copyOf(objects);
        if (names.isEmpty()) throw new IllegalArgumentException("a palette needs at least one class");
        if (names.size() != colours.size() || names.size() != objects.size()) {
            throw new IllegalArgumentException("palette lists differ in length: " + names.size() + " names, " + colours.size()
                    + " colours, " + objects.size() + " object flags");
        }
        for (int i = 0; i < colours.size(); i++) {
            for (int j = 0; j < i; j++) {
                if (colours.get(i).equals(colours.get(j))) {
                    throw new IllegalArgumentException("palette classes '" + names.get(j) + "' and '" + names.get(i) + "' share colour "
                            + hex(colours.get(i)));
                }
            }
            if (colours.get(i) == unlabeledColour) {
                throw new IllegalArgumentException("palette class '" + names.get(i) + "' has the unlabeled colour " + hex(unlabeledColour));
            }
        }
    }

    /** Builder-style entry for {@link #of}. */
    public record Entry(String name, int colour, boolean object) {}

    public static Palette of(List<Entry> entries, int unlabeledColour) {
        List<String> n = new ArrayList<>();
        List<Integer> c = new ArrayList<>();
        List<Boolean> o = new ArrayList<>();
        for (Entry e : entries) {
            n.add(e.name().toLowerCase(Locale.ROOT));
            c.add(e.colour() & 0xFFFFFF);
            o.add(e.object());
        }
        return new Palette(n, c, o, unlabeledColour & 0xFFFFFF);
    }

    /**
     * A palette from class name -> colour (0xRRGGBB) in class-index order (e.g. a {@code LinkedHashMap}) and the
     * names of the classes that are countable objects.
     */
    public static Palette of(Map<String, Integer> colours, Collection<String> objectNames, int unlabeledColour) {
        List<Entry> entries = new ArrayList<>();
        colours.forEach((name, colour) -> entries.add(new Entry(name, colour, objectNames.contains(name))));
        for (String o : objectNames) {
            if (!colours.containsKey(o)) throw new IllegalArgumentException("object class '" + o + "' is not among the palette's classes " + colours.keySet());
        }
        return of(entries, unlabeledColour);
    }

    public int size() { return names.size(); }

    public int colour(int classId) {
        if (classId == ClassMap.UNLABELED) return unlabeledColour;
        return colours.get(check(classId));
    }

    public String name(int classId) {
        return classId == ClassMap.UNLABELED ? "unlabeled" : names.get(check(classId));
    }

    public boolean isObject(int classId) { return classId != ClassMap.UNLABELED && objects.get(check(classId)); }

    /** The class named {@code name} (case-insensitive), or an exception listing the names. */
    public int classOf(String name) {
        int i = names.indexOf(name.toLowerCase(Locale.ROOT).trim());
        if (i < 0) throw new IllegalArgumentException("unknown class '" + name + "'; classes: " + String.join(", ", names));
        return i;
    }

    /**
     * The class whose colour is nearest {@code rgb} in L-infinity distance (each of R, G, B within {@code tolerance}),
     * or {@link ClassMap#UNLABELED}. Ties go to the lower index. The official decoder lets later classes overwrite
     * earlier ones instead; both agree whenever {@code 2 * tolerance < minDistance()}, and nearest-wins also behaves
     * sensibly when they overlap.
     */
    public int decode(int rgb, int tolerance) {
        int best = ClassMap.UNLABELED, bestDistance = Integer.MAX_VALUE;
        for (int i = 0; i < colours.size(); i++) {
            int d = linf(rgb, colours.get(i));
            if (d < bestDistance) {
                bestDistance = d;
                best = i;
            }
        }
        return bestDistance <= tolerance ? best : ClassMap.UNLABELED;
    }

    /** Smallest L-infinity distance between two class colours (decoding is unambiguous for tolerances below half). */
    public int minDistance() {
        int min = 256;
        for (int i = 0; i < colours.size(); i++) for (int j = 0; j < i; j++) min = Math.min(min, linf(colours.get(i), colours.get(j)));
        return min;
    }

    public static int linf(int a, int b) {
        int dr = Math.abs(((a >> 16) & 255) - ((b >> 16) & 255));
        int dg = Math.abs(((a >> 8) & 255) - ((b >> 8) & 255));
        int db = Math.abs((a & 255) - (b & 255));
        return Math.max(dr, Math.max(dg, db));
    }

    private int check(int classId) {
        if (classId < 0 || classId >= names.size()) {
            throw new IllegalArgumentException("class index " + classId + " outside the palette's 0.." + (names.size() - 1));
        }
        return classId;
    }

    static String hex(int rgb) { return String.format("#%06x", rgb & 0xFFFFFF); }
}
