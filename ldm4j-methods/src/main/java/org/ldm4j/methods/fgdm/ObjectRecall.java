package org.ldm4j.methods.fgdm;

import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;

/**
 * Object recall of a segmentation map (paper sec. 4, Tables 3-4): |objects(prompt) ∩ present(map)| / |objects(prompt)|,
 * where a class is present when it covers at least {@code minAreaFraction} of the map (a few stray pixels of a colour
 * at a border are not an object). A prompt naming nothing has recall 1 (nothing is missing).
 */
public record ObjectRecall(Set<Integer> wanted, double minAreaFraction) implements MapScorer {
    public ObjectRecall {
        wanted = Set.copyOf(wanted);
        if (!(minAreaFraction >= 0 && minAreaFraction < 1)) throw new IllegalArgumentException("area threshold must be in [0, 1), got " + minAreaFraction);
        for (int c : wanted) if (c < 0) throw new IllegalArgumentException("wanted class index must be >= 0, got " + c);
    }

    @Override
    public double score(ClassMap map) {
        if (wanted.isEmpty()) return 1.0;
        Set<Integer> present = present(map, minAreaFraction);
        int hit = 0;
        for (int c : wanted) if (present.contains(c)) hit++;
        return (double) hit / wanted.size();
    }

    /**
     * This recall, with maps of equal recall ordered by the area of their smallest wanted object (present ones; a map
     * with none present ties at 0): of two maps that name the same objects, SBPC keeps the one whose objects are all
     * larger, which the image factor is likelier to draw.
     */
    public MapScorer preferringLargerObjects() {
        ObjectRecall recall = this;
        return new MapScorer() {
            @Override public double score(ClassMap map) { return recall.score(map); }

            @Override public double tieBreak(ClassMap map) {
                Map<Integer, Integer> areas = map.areas();   // one count of the map serves presence and size
                Set<Integer> present = present(areas, map.labels().length, minAreaFraction);
                int smallest = Integer.MAX_VALUE;
                for (int c : wanted) if (present.contains(c)) smallest = Math.min(smallest, areas.get(c));
                return smallest == Integer.MAX_VALUE ? 0 : (double) smallest / map.labels().length;
            }
        };
    }

    /** Classes covering at least {@code minAreaFraction} of the map (unlabeled never counts). */
    public static Set<Integer> present(ClassMap map, double minAreaFraction) {
        return present(map.areas(), map.labels().length, minAreaFraction);
    }

    /** {@link #present(ClassMap, double)} from a map's {@link ClassMap#areas()} and its pixel count. */
    private static Set<Integer> present(Map<Integer, Integer> areas, int pixels, double minAreaFraction) {
        double need = Math.max(1, minAreaFraction * pixels);
        Set<Integer> out = new TreeSet<>();
        areas.forEach((cls, area) -> {
            if (cls != ClassMap.UNLABELED && area >= need) out.add(cls);
        });
        return out;
    }

    /**
     * The classes a prompt names: words equal to a class name, or to its plural/singular ("trees", "flowers" ->
     * "flower"s). {@code objectsOnly}: count only object classes, as the paper's recall does for things.
     * (The paper extracts objects with an LLM for open vocabularies; a closed palette needs only word matching.)
     */
    public static Set<Integer> namedIn(String prompt, Palette palette, boolean objectsOnly) {
        Set<Integer> out = new LinkedHashSet<>();
        List<String> words = List.of(prompt.toLowerCase(Locale.ROOT).split("[^a-z]+"));
        for (int c = 0; c < palette.size(); c++) {
            if (objectsOnly && !palette.isObject(c)) continue;
            String name = palette.name(c);
            String singular = name.endsWith("s") ? name.substring(0, name.length() - 1) : name;
            for (String w : words) {
                if (!w.isEmpty() && (w.equals(name) || w.equals(singular) || w.equals(singular + "s") || w.equals(singular + "es"))) {
                    out.add(c);
                    break;
                }
            }
        }
        return out;
    }
}
