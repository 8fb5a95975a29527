package org.ldm4j.methods.gradop;

import java.awt.Color;

/**
 * One colour → phrase correspondence of GradOP's semantic control: pixels painted {@code colour} should show
 * {@code phrase} (words of the prompt), with bias weight {@code weight} (1 = default).
 */
public record Region(Color colour, String phrase, double weight) {
    public Region {
        if (colour == null) throw new IllegalArgumentException("region colour is missing");
        if (phrase == null || phrase.isBlank()) throw new IllegalArgumentException("region phrase for " + hex(colour) + " is empty");
        if (!Double.isFinite(weight)) throw new IllegalArgumentException("region weight for \"" + phrase + "\" must be finite, got " + weight);
    }

    /** Parses {@code "#RRGGBB=phrase"} or {@code "#RRGGBB=phrase:weight"} (a trailing {@code :number} is the weight). */
    public static Region parse(String spec) {
        int eq = spec.indexOf('=');
        if (eq < 0) throw new IllegalArgumentException("region '" + spec + "' must look like #RRGGBB=phrase[:weight]");
        Color c = StrokePainting.parseColour(spec.substring(0, eq));
        String rest = spec.substring(eq + 1).strip();
        double weight = 1.0;
        int colon = rest.lastIndexOf(':');
        if (colon >= 0) {
            String tail = rest.substring(colon + 1).strip();
            try {
                weight = Double.parseDouble(tail);
                rest = rest.substring(0, colon).strip();
            } catch (NumberFormatException e) {
                throw new IllegalArgumentException("region '" + spec + "': weight '" + tail + "' is not a number");
            }
        }
        return new Region(c, rest, weight);
    }

    public String hexColour() { return hex(colour); }

    static String hex(Color c) { return String.format("#%06X", c.getRGB() & 0xFFFFFF); }

    @Override public String toString() { return hexColour() + "=" + phrase + (weight == 1.0 ? "" : ":" + weight); }
}
