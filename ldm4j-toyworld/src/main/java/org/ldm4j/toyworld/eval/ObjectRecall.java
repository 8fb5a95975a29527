package org.ldm4j.toyworld.eval;

import org.ldm4j.toyworld.ToyClass;
import org.ldm4j.toyworld.Vocabulary;

import java.util.EnumSet;
import java.util.Locale;
import java.util.Set;

/**
 * Object recall as FG-DM measures prompt compliance (Le et al., "FG-DM", sec. 4, Table 4): the fraction of the
 * objects a prompt names that a segmentation model finds in the image. FG-DM segments with Segformer-B4 and counts
 * ground-truth object classes; here the segmenter is the {@link ToyWorldSegmenter} and the named objects are read
 * from the prompt's words (the six ToyWorld object classes, singular or plural).
 *
 * <p>A class counts as present when it covers at least {@code minArea} of the image — a few pixels of a
 * misclassified boundary must not count as an object. The default, 0.002 (8 pixels at 64x64), sits below the
 * smallest visible ToyWorld object the captions name (a test checks that ground-truth maps give recall 1).
 */
public final class ObjectRecall {
    public static final double DEFAULT_MIN_AREA = 0.002;

    private final double minArea;

    public ObjectRecall(double minArea) {
        if (!(minArea >= 0 && minArea < 1)) throw new IllegalArgumentException("recall area threshold must be in [0, 1), got " + minArea);
        this.minArea = minArea;
    }

    public ObjectRecall() { this(DEFAULT_MIN_AREA); }

    public double minArea() { return minArea; }

    /** One image's result: what the prompt named, what was found, and recall = |named ∩ found| / |named| (NaN if nothing named). */
    public record Result(Set<ToyClass> named, Set<ToyClass> detected, Set<ToyClass> found, double recall) {}

    /** The object classes a prompt names ("two red houses and a tree" -> house, tree). */
    public static Set<ToyClass> namedObjects(String prompt) {
        Set<ToyClass> out = EnumSet.noneOf(ToyClass.class);
        for (String word : Vocabulary.words(prompt)) {
            ToyClass c = objectWord(word);
            if (c != null) out.add(c);
        }
        return out;
    }

    /** The object class a word names, singular or plural, or null. */
    static ToyClass objectWord(String word) {
        String w = word.toLowerCase(Locale.ROOT);
        for (ToyClass c : ToyClass.objects()) {
            String label = c.label();
            String singular = label.endsWith("s") ? label.substring(0, label.length() - 1) : label;
            if (w.equals(label) || w.equals(singular) || w.equals(singular + "s")) return c;
        }
        return null;
    }

    /** Classes covering at least {@code minArea} of the map (pixels where {@code region} is true, or all if null). */
    public Set<ToyClass> detected(int[] classMap, boolean[] region) {
        int[] counts = new int[ToyClass.count()];
        for (int i = 0; i < classMap.length; i++) {
            if (region == null || region[i]) counts[classMap[i]]++;
        }
        double need = minArea * classMap.length;
        Set<ToyClass> out = EnumSet.noneOf(ToyClass.class);
        for (int c = 0; c < counts.length; c++) if (counts[c] > 0 && counts[c] >= need) out.add(ToyClass.of(c));
        return out;
    }

    public Result recall(Set<ToyClass> named, int[] classMap, boolean[] region) {
        Set<ToyClass> detected = detected(classMap, region);
        Set<ToyClass> found = EnumSet.noneOf(ToyClass.class);
        found.addAll(named);
        found.retainAll(detected);
        double recall = named.isEmpty() ? Double.NaN : (double) found.size() / named.size();
        return new Result(named.isEmpty() ? EnumSet.noneOf(ToyClass.class) : EnumSet.copyOf(named), detected, found, recall);
    }

    /** Recall of the objects {@code prompt} names in a predicted class map. */
    public Result recall(String prompt, int[] classMap) { return recall(namedObjects(prompt), classMap, null); }

    /**
     * Recall per object class over a set of images: for each class, in how many images whose caption names it was it
     * found. Tells which objects a model (or its VAE) fails to draw, where the mean over captions only says how many.
     *
     * @return {class: {images naming it, images where it was found}} in class order
     */
    public java.util.Map<ToyClass, int[]> byClass(java.util.List<String> captions, int[][] classMaps) {
        if (captions.size() != classMaps.length) {
            throw new IllegalArgumentException(captions.size() + " captions for " + classMaps.length + " class maps");
        }
        java.util.Map<ToyClass, int[]> out = new java.util.EnumMap<>(ToyClass.class);
        for (int i = 0; i < classMaps.length; i++) {
            Result r = recall(captions.get(i), classMaps[i]);
            for (ToyClass c : r.named()) {
                int[] k = out.computeIfAbsent(c, x -> new int[2]);
                k[0]++;
                if (r.found().contains(c)) k[1]++;
            }
        }
        return out;
    }
}
