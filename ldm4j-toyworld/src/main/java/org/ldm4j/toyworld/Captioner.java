package org.ldm4j.toyworld;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;

/**
 * Writes the captions of a scene from what is actually visible: every object class in the segmentation is named
 * in every caption (identical objects are counted: "two pine trees"), with colour and size attributes, a coarse
 * relation between the two largest objects (left of, right of, beside, in front of, behind, on the lake, above),
 * the ground, the water, mountains and the sky. Three templates give three differently worded captions.
 * All words come from the tables below; {@link Vocabulary} lists them.
 */
final class Captioner {
    static final String[] NUMBERS = {"", "a", "two", "three", "four", "five", "six", "seven", "eight"};

    /** Facts about the stuff of a scene that captions may mention. */
    record Setting(TimeOfDay time, GroundType ground, WaterType water, boolean mountains, boolean sun, boolean moon,
                   boolean crescent, int clouds) {}

    private Captioner() {}

    static List<String> captions(long seed, Setting setting, List<SceneObject> objects) {
        SplittableRandom r = new SplittableRandom(seed ^ 0x5DEECE66DL);
        List<String> out = new ArrayList<>(3);
        out.add(listTemplate(r, setting, objects));
        out.add(relationTemplate(r, setting, objects));
        out.add(landscapeTemplate(r, setting, objects));
        return out;
    }

    // "a red house and two pine trees on the grass under a sunset sky"
    private static String listTemplate(SplittableRandom r, Setting s, List<SceneObject> objects) {
        StringBuilder b = new StringBuilder(join(groups(r, objects)));
        boolean boats = objects.stream().anyMatch(o -> o.toyClass() == ToyClass.BOAT);
        boolean onlyBoats = objects.stream().allMatch(o -> o.toyClass() == ToyClass.BOAT);
        if (onlyBoats) b.append(s.water() == WaterType.SEA ? " on the sea" : " on a lake");
        else if (!boats) b.append(' ').append(groundPhrase(r, s.ground()));
        if (s.water() != WaterType.NONE && !onlyBoats && (boats || r.nextBoolean())) b.append(' ').append(waterPhrase(r, s.water()));
        b.append(' ').append(skyPhrase(r, s));
        return b.toString();
    }

    // "a red house beside a tall pine tree, and a grey rock, by a lake at night"
    private static String relationTemplate(SplittableRandom r, Setting s, List<SceneObject> objects) {
        List<SceneObject> bySize = new ArrayList<>(objects);
        bySize.sort((a, b) -> Integer.compare(b.pixels(), a.pixels()));
        SceneObject a = bySize.get(0);
        StringBuilder b = new StringBuilder(single(r, a));
        List<SceneObject> rest = new ArrayList<>(bySize.subList(1, bySize.size()));
        if (a.toyClass() == ToyClass.BOAT) {
            b.append(" on the ").append(s.water() == WaterType.SEA ? "sea" : "lake");
        } else if (!rest.isEmpty()) {
            SceneObject other = rest.remove(0);
            b.append(' ').append(relation(a, other)).append(' ').append(single(r, other));
        }
        if (!rest.isEmpty()) b.append(", and ").append(join(groups(r, rest))).append(',');
        if (s.water() != WaterType.NONE && a.toyClass() != ToyClass.BOAT) b.append(' ').append(waterPhrase(r, s.water()));
        if (s.mountains() && r.nextBoolean()) b.append(" with mountains in the background");
        b.append(' ').append(skyPhrase(r, s));
        return b.toString();
    }

    // "a snowy scene at night with a small red car, a pine tree and mountains"
    private static String landscapeTemplate(SplittableRandom r, Setting s, List<SceneObject> objects) {
        String ground = switch (s.ground()) { case GRASS -> "green"; case SAND -> "sandy"; default -> "snowy"; };
        String kind = s.water() == WaterType.SEA ? "coastal" : ground;
        StringBuilder b = new StringBuilder("a ").append(kind).append(' ').append(r.nextBoolean() ? "landscape" : "scene");
        b.append(' ').append(switch (s.time()) { case DAY -> "by day"; case SUNSET -> "at sunset"; default -> "at night"; });
        b.append(" with ");
        List<String> parts = groups(r, objects);
        if (s.water() == WaterType.LAKE) parts.add("a lake");
        String light = s.sun() ? "the sun" : s.moon() ? (s.crescent() ? "a crescent moon" : "a full moon") : null;
        if (light != null && s.mountains()) {
            parts.add(light + " above the mountains");
        } else {
            if (s.mountains()) parts.add("mountains");
            if (light != null) parts.add(light);
        }
        b.append(join(parts));
        return b.toString();
    }

    private static String relation(SceneObject a, SceneObject b) {
        Box p = a.box(), q = b.box();
        double gap = Math.abs(p.centreX() - q.centreX());
        double halfWidths = (p.width() + q.width()) / 2.0;
        if (Math.abs(a.depth() - b.depth()) > 0.15f && gap < halfWidths * 0.7) return a.depth() > b.depth() ? "in front of" : "behind";
        if (gap < halfWidths * 1.3 && Math.abs(a.depth() - b.depth()) < 0.1f) return "beside";
        return p.centreX() < q.centreX() ? "to the left of" : "to the right of";
    }

    private static String groundPhrase(SplittableRandom r, GroundType g) {
        return switch (g) {
            case GRASS -> r.nextBoolean() ? "on the grass" : "on a green meadow";
            case SAND -> r.nextBoolean() ? "on the sand" : "on a sandy beach";
            default -> r.nextBoolean() ? "in the snow" : "on snowy ground";
        };
    }

    private static String waterPhrase(SplittableRandom r, WaterType w) {
        return w == WaterType.SEA ? (r.nextBoolean() ? "by the sea" : "near the ocean") : (r.nextBoolean() ? "by a lake" : "near a lake");
    }

    private static String skyPhrase(SplittableRandom r, Setting s) {
        return switch (s.time()) {
            case DAY -> s.clouds() >= 2 ? "under a cloudy sky" : s.sun() && r.nextBoolean() ? "on a sunny day" : "under a clear blue sky";
            case SUNSET -> r.nextBoolean() ? "under a sunset sky" : (s.sun() ? "at sunset with the sun low" : "under an orange evening sky");
            default -> s.moon() ? (s.crescent() ? "under a crescent moon" : "under a full moon") : "under a starry night sky";
        };
    }

    /** Noun phrases for all objects, identical descriptions counted together, far-to-near order kept. */
    private static List<String> groups(SplittableRandom r, List<SceneObject> objects) {
        boolean withSize = r.nextBoolean();
        Map<String, Integer> counts = new LinkedHashMap<>();
        Map<String, SceneObject> firsts = new LinkedHashMap<>();
        for (SceneObject o : objects) {
            String key = describe(o, withSize, false);
            counts.merge(key, 1, Integer::sum);
            firsts.putIfAbsent(key, o);
        }
        List<String> out = new ArrayList<>();
        for (Map.Entry<String, Integer> e : counts.entrySet()) {
            int n = e.getValue();
            SceneObject o = firsts.get(e.getKey());
            out.add(n == 1 ? article(describe(o, withSize, false)) : NUMBERS[n] + ' ' + describe(o, withSize, true));
        }
        return out;
    }

    private static String single(SplittableRandom r, SceneObject o) {
        String d = describe(o, r.nextBoolean(), false);
        if (o.toyClass() == ToyClass.HOUSE && r.nextBoolean()) d += " with a " + o.attribute("roof") + " roof";
        if (o.toyClass() == ToyClass.BOAT && o.attribute("sail") != null) d += " with a white sail";
        return article(d);
    }

    /** Attribute words then the noun, no article: "small red house", "orange oak trees", "patches of pink flowers". */
    static String describe(SceneObject o, boolean withSize, boolean plural) {
        StringBuilder b = new StringBuilder();
        String size = o.attribute("size");
        if (withSize && size != null) b.append(size).append(' ');
        String colour = o.attribute("colour");
        switch (o.toyClass()) {
            case TREE -> {
                if (!"green".equals(colour)) b.append(colour).append(' ');
                b.append(o.attribute("species")).append(plural ? " trees" : " tree");
            }
            case FLOWERS -> b.append(plural ? "patches of " : "patch of ").append(colour).append(" flowers");
            default -> b.append(colour).append(' ').append(o.toyClass().label()).append(plural ? "s" : "");
        }
        return b.toString();
    }

    private static String article(String phrase) {
        char c = phrase.charAt(0);
        return ("aeiou".indexOf(c) >= 0 ? "an " : "a ") + phrase;
    }

    private static String join(List<String> parts) {
        if (parts.size() == 1) return parts.get(0);
        return String.join(", ", parts.subList(0, parts.size() - 1)) + " and " + parts.get(parts.size() - 1);
    }
}
