package org.ldm4j.toyworld;

/**
 * Hash-based value noise: stateless, so any pixel's texture depends only on (x, y, seed) and rendering order
 * cannot change an image. Cheaper than Perlin noise and plenty for 64-pixel textures.
 */
final class Noise {
    private Noise() {}

    static int hash(int x, int y, int seed) {
        int h = seed * 0x27d4eb2d ^ x * 0x165667b1 ^ y * 0x1b873593;
        h ^= h >>> 15;
        h *= 0x2c1b3c6d;
        h ^= h >>> 12;
        h *= 0x297a2d39;
        h ^= h >>> 15;
        return h;
    }

    /** Uniform in [0, 1) for an integer lattice point. */
    static float rand(int x, int y, int seed) {
        return (hash(x, y, seed) & 0xFFFFFF) / 16777216f;
    }

    /** Smooth value noise in [0, 1), one lattice cell per unit. */
    static float value(float x, float y, int seed) {
        int xi = (int) Math.floor(x);
        int yi = (int) Math.floor(y);
        float fx = x - xi;
        float fy = y - yi;
        fx = fx * fx * (3 - 2 * fx);
        fy = fy * fy * (3 - 2 * fy);
        float a = rand(xi, yi, seed);
        float b = rand(xi + 1, yi, seed);
        float c = rand(xi, yi + 1, seed);
        float d = rand(xi + 1, yi + 1, seed);
        float top = a + (b - a) * fx;
        float bottom = c + (d - c) * fx;
        return top + (bottom - top) * fy;
    }

    /** Fractal sum of octaves, normalised to [0, 1). */
    static float fbm(float x, float y, int seed, int octaves) {
        float sum = 0;
        float amplitude = 1;
        float total = 0;
        for (int o = 0; o < octaves; o++) {
            sum += amplitude * value(x, y, seed + o * 1013);
            total += amplitude;
            x *= 2.03f;
            y *= 2.03f;
            amplitude *= 0.5f;
        }
        return sum / total;
    }
}
