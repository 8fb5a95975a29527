package org.ldm4j.toyworld;

/** Packed 0xRRGGBB colour arithmetic in float channels 0..1. */
final class Rgb {
    private Rgb() {}

    static int pack(float r, float g, float b) {
        return (clamp(r) << 16) | (clamp(g) << 8) | clamp(b);
    }

    private static int clamp(float v) {
        int i = (int) (v * 255f + 0.5f);
        return i < 0 ? 0 : (i > 255 ? 255 : i);
    }

    static float r(int c) { return ((c >> 16) & 255) / 255f; }
    static float g(int c) { return ((c >> 8) & 255) / 255f; }
    static float b(int c) { return (c & 255) / 255f; }

    static int of(int r, int g, int b) { return (r << 16) | (g << 8) | b; }

    /** Linear mix: t = 0 gives a, t = 1 gives b. */
    static int mix(int a, int b, float t) {
        return pack(r(a) + (r(b) - r(a)) * t, g(a) + (g(b) - g(a)) * t, b(a) + (b(b) - b(a)) * t);
    }

    /** Multiplies each channel by k. */
    static int scale(int c, float k) {
        return pack(r(c) * k, g(c) * k, b(c) * k);
    }

    /** Multiplies channel-wise by a tint colour. */
    static int tint(int c, int tint) {
        return pack(r(c) * r(tint), g(c) * g(tint), b(c) * b(tint));
    }
}
