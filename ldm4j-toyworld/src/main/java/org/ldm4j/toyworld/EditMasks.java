package org.ldm4j.toyworld;

/**
 * Editing masks for inpainting/blending experiments: the exact pixels of an object, a user-style blob around it
 * (dilated with a wobbly edge, always containing the object), and thin stroke masks a few pixels wide along a
 * curved path across the ground (a road or river to paint in).
 */
public final class EditMasks {
    private EditMasks() {}

    /** Exactly the object's visible pixels. */
    public static Mask object(Scene scene, SceneObject object) {
        int id = object.instanceId();
        boolean[] bits = new boolean[scene.width() * scene.height()];
        for (int i = 0; i < bits.length; i++) bits[i] = scene.instances()[i] == id;
        return new Mask(scene.width(), scene.height(), bits);
    }

    /**
     * The object dilated by about {@code radius} pixels (at 64x64, scaled with size) with a blobby, noisy edge, as
     * a user would roughly brush over it. Contains the whole object.
     */
    public static Mask blob(Scene scene, SceneObject object, long seed, double radius) {
        if (radius < 0) throw new IllegalArgumentException("blob mask radius must be >= 0, got " + radius);
        int w = scene.width(), h = scene.height();
        float[] dist = distanceTo(object(scene, object).bits(), w, h);
        float r = (float) radius * w / 64f;
        float blob = Math.max(2f, 4f * w / 64f);
        int noiseSeed = (int) (seed ^ (seed >>> 32));
        boolean[] bits = new boolean[w * h];
        for (int y = 0; y < h; y++) {
            for (int x = 0; x < w; x++) {
                float reach = r * (0.5f + Noise.fbm(x / blob, y / blob, noiseSeed, 2));
                bits[y * w + x] = dist[y * w + x] <= reach;
            }
        }
        return new Mask(w, h, bits);
    }

    /**
     * A thin mask: a stroke {@code strokeWidth} pixels wide (at 64x64, scaled) along a random smooth curve from the
     * bottom edge towards the horizon, narrowing with distance like a road or river would.
     */
    public static Mask thin(Scene scene, long seed, double strokeWidth) {
        if (strokeWidth <= 0) throw new IllegalArgumentException("thin mask width must be > 0, got " + strokeWidth);
        int w = scene.width(), h = scene.height();
        int horizon = h - 1;
        for (int i = 0; i < scene.seg().length; i++) {
            ToyClass c = ToyClass.of(scene.seg()[i]);
            if (c == ToyClass.GRASS || c == ToyClass.SAND || c == ToyClass.SNOW || c == ToyClass.WATER) { horizon = i / w; break; }
        }
        java.util.SplittableRandom r = new java.util.SplittableRandom(seed);
        float ax = w * (0.2f + 0.6f * r.nextFloat()), ay = h + 1;
        float bx = w * (0.1f + 0.8f * r.nextFloat()), by = horizon + 1;
        float cx = w * r.nextFloat(), cy = (ay + by) / 2;
        float half = (float) strokeWidth * w / 64f / 2;
        boolean[] bits = new boolean[w * h];
        int steps = 4 * (w + h);
        for (int k = 1; k <= steps; k++) {   // stamp discs along the quadratic Bezier a -> c -> b
            float t = k / (float) steps;
            float qx = (1 - t) * (1 - t) * ax + 2 * (1 - t) * t * cx + t * t * bx;
            float qy = (1 - t) * (1 - t) * ay + 2 * (1 - t) * t * cy + t * t * by;
            float rad = Math.max(0.5f, half * (0.4f + 0.6f * (1 - t)));
            stamp(bits, w, h, qx, qy, rad);
        }
        return new Mask(w, h, bits);
    }

    private static void stamp(boolean[] bits, int w, int h, float cx, float cy, float rad) {
        for (int y = (int) Math.floor(cy - rad); y <= (int) Math.ceil(cy + rad); y++) {
            for (int x = (int) Math.floor(cx - rad); x <= (int) Math.ceil(cx + rad); x++) {
                if (x < 0 || y < 0 || x >= w || y >= h) continue;
                float dx = x + 0.5f - cx, dy = y + 0.5f - cy;
                if (dx * dx + dy * dy <= rad * rad) bits[y * w + x] = true;
            }
        }
    }

    /** Two-pass chamfer distance (3-4 weights / 3) to the nearest true pixel. */
    static float[] distanceTo(boolean[] inside, int w, int h) {
        float inf = 1e9f;
        float[] d = new float[w * h];
        for (int i = 0; i < d.length; i++) d[i] = inside[i] ? 0 : inf;
        float a = 1f, b = 4f / 3f;
        for (int y = 0; y < h; y++) {
            for (int x = 0; x < w; x++) {
                int i = y * w + x;
                float v = d[i];
                if (x > 0) v = Math.min(v, d[i - 1] + a);
                if (y > 0) {
                    v = Math.min(v, d[i - w] + a);
                    if (x > 0) v = Math.min(v, d[i - w - 1] + b);
                    if (x + 1 < w) v = Math.min(v, d[i - w + 1] + b);
                }
                d[i] = v;
            }
        }
        for (int y = h - 1; y >= 0; y--) {
            for (int x = w - 1; x >= 0; x--) {
                int i = y * w + x;
                float v = d[i];
                if (x + 1 < w) v = Math.min(v, d[i + 1] + a);
                if (y + 1 < h) {
                    v = Math.min(v, d[i + w] + a);
                    if (x + 1 < w) v = Math.min(v, d[i + w + 1] + b);
                    if (x > 0) v = Math.min(v, d[i + w - 1] + b);
                }
                d[i] = v;
            }
        }
        return d;
    }
}
