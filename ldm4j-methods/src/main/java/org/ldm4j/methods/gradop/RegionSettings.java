package org.ldm4j.methods.gradop;

import java.util.HashSet;
import java.util.List;
import java.util.Set;

/**
 * GradOP's semantic control of painted regions (the paper's abstract; no official code, reconstruction of
 * shared/design/gradop.md §4.2 after eDiff-I's paint-with-words).
 *
 * @param regions   colour → phrase correspondences; colours not listed behave as plain GradOP+
 * @param strength  w' of ω_t = w'·log(1 + σ_t)·max(scores) (0.4, paint-with-words' default)
 * @param tolerance a pixel belongs to the nearest listed colour if its RGB distance (0..255 units) is at most this
 *                  (64): anti-aliased edges and resampling create in-between colours
 */
public record RegionSettings(List<Region> regions, double strength, double tolerance) {
    public RegionSettings {
        regions = regions == null ? List.of() : List.copyOf(regions);
    }

    public static RegionSettings of(List<Region> regions) { return new RegionSettings(regions, 0.4, 64); }

    public boolean isEmpty() { return regions.isEmpty(); }

    /** Each problem is an IllegalArgumentException naming it. */
    public RegionSettings validate() {
        if (regions.isEmpty()) throw new IllegalArgumentException("region list is empty: map at least one colour to a phrase");
        if (!(Double.isFinite(strength) && strength >= 0)) throw new IllegalArgumentException("region strength must be >= 0, got " + strength);
        if (!(tolerance >= 0 && tolerance <= 442)) throw new IllegalArgumentException("region tolerance must be in [0, 442], got " + tolerance);
        Set<Integer> seen = new HashSet<>();
        for (Region r : regions) {
            if (!seen.add(r.colour().getRGB())) throw new IllegalArgumentException("colour " + r.hexColour() + " is mapped twice");
        }
        return this;
    }
}
