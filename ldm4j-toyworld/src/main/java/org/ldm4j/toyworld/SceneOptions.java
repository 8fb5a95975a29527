package org.ldm4j.toyworld;

/**
 * What {@link ToyWorld#sample} may generate. A null time, ground or water means "drawn from the seed".
 *
 * @param width      image width, a multiple of 16 in 16..256
 * @param height     image height, a multiple of 16 in 16..256
 * @param time       fixed time of day, or null
 * @param ground     fixed ground type, or null
 * @param water      fixed water type, or null
 * @param minObjects at least this many objects are attempted (1..8)
 * @param maxObjects at most this many objects (minObjects..8)
 */
public record SceneOptions(int width, int height, TimeOfDay time, GroundType ground, WaterType water,
                           int minObjects, int maxObjects) {
    public static final int MAX_OBJECTS = 8;

    public SceneOptions {
        checkSize("width", width);
        checkSize("height", height);
        if (minObjects < 1 || minObjects > MAX_OBJECTS) {
            throw new IllegalArgumentException("minObjects must be in 1.." + MAX_OBJECTS + ", got " + minObjects);
        }
        if (maxObjects < minObjects || maxObjects > MAX_OBJECTS) {
            throw new IllegalArgumentException("maxObjects must be in minObjects(" + minObjects + ").." + MAX_OBJECTS + ", got " + maxObjects);
        }
    }

    private static void checkSize(String name, int value) {
        if (value < 16 || value > 256 || value % 16 != 0) {
            throw new IllegalArgumentException("ToyWorld image " + name + " must be a multiple of 16 in 16..256, got " + value);
        }
    }

    /** 64x64, everything drawn from the seed, 2..6 objects attempted (at least one is always visible). */
    public static SceneOptions defaults() { return square(64); }

    /** size x size, everything drawn from the seed, 2..6 objects attempted. */
    public static SceneOptions square(int size) { return new SceneOptions(size, size, null, null, null, 2, 6); }

    public SceneOptions withSize(int w, int h) { return new SceneOptions(w, h, time, ground, water, minObjects, maxObjects); }
    public SceneOptions withTime(TimeOfDay t) { return new SceneOptions(width, height, t, ground, water, minObjects, maxObjects); }
    public SceneOptions withGround(GroundType g) { return new SceneOptions(width, height, time, g, water, minObjects, maxObjects); }
    public SceneOptions withWater(WaterType w) { return new SceneOptions(width, height, time, ground, w, minObjects, maxObjects); }
    public SceneOptions withObjects(int min, int max) { return new SceneOptions(width, height, time, ground, water, min, max); }
}
