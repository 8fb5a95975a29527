package org.ldm4j.toyworld;

/**
 * The frame buffers one scene is painted into, back to front: colour, class, instance, part and nearness.
 * Every write sets all of them for the pixel, which is what keeps the condition maps exact: the class, depth and
 * sketch of a pixel always belong to the surface whose colour it shows.
 *
 * <p>Instance ids: 1 sky, 2 sun or moon, 3.. clouds, 8.. mountain layers, 12 ground, 13 water, 16 + i object i.
 * Part ids split an instance into faces (wall, roof, door, window, wheel ...) whose borders become sketch lines.
 */
final class Canvas {
    static final int SKY = 1, SUN = 2, CLOUD = 3, MOUNTAIN = 8, GROUND = 12, WATER = 13, FIRST_OBJECT = 16;

    final int w, h;
    final int[] rgb;
    final byte[] cls;
    final int[] inst;
    final byte[] part;
    final float[] depth;
    /** Pixels written per object index, to detect objects hidden behind others. */
    final int[] written = new int[SceneOptions.MAX_OBJECTS];

    Canvas(int w, int h) {
        this.w = w;
        this.h = h;
        int n = w * h;
        rgb = new int[n];
        cls = new byte[n];
        inst = new int[n];
        part = new byte[n];
        depth = new float[n];
    }

    boolean inside(int x, int y) { return x >= 0 && y >= 0 && x < w && y < h; }

    void put(int x, int y, int colour, ToyClass c, int instance, int partId, float nearness) {
        if (x < 0 || y < 0 || x >= w || y >= h) return;
        int i = y * w + x;
        rgb[i] = colour;
        cls[i] = (byte) c.ordinal();
        inst[i] = instance;
        part[i] = (byte) partId;
        depth[i] = nearness;
        if (instance >= FIRST_OBJECT) written[instance - FIRST_OBJECT]++;
    }

    /** Recolours a pixel without changing what surface it is (shadows, reflections, glints). */
    void recolour(int x, int y, int colour) {
        if (x < 0 || y < 0 || x >= w || y >= h) return;
        rgb[y * w + x] = colour;
    }

    int colourAt(int x, int y) { return rgb[y * w + x]; }

    ToyClass classAt(int x, int y) { return ToyClass.of(cls[y * w + x]); }
}
