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
     * The generator's own outline of a {@code toyClass} object: the visible pixels of the largest object of that
     * class in the first 128x128 scene from {@code seed} on where one stands whole (away from the border, at least 150
     * pixels, no other object over it), cropped to its box. What a user adding "a house" to a map should paint: a
     * house as ToyWorld draws houses (walls under a roof), not an ellipse of house colour. Found once per class and
     * seed (it may sample a few scenes), then copied from a cache: editors and evaluations add objects in loops.
     */
    public static Mask silhouette(ToyClass toyClass, long seed) {
        if (!toyClass.isObject()) throw new IllegalArgumentException(toyClass.label() + " is not an object class");
        Mask found = SILHOUETTES.computeIfAbsent(toyClass.label() + "@" + seed, k -> findSilhouette(toyClass, seed));
        return new Mask(found.width(), found.height(), found.bits().clone());   // callers get their own bits
    }

    private static final java.util.Map<String, Mask> SILHOUETTES = new java.util.concurrent.ConcurrentHashMap<>();

    private static Mask findSilhouette(ToyClass toyClass, long seed) {
        SceneOptions options = SceneOptions.square(128);
        for (long s = seed; s < seed + 2000; s++) {
            Scene scene = ToyWorld.sample(s, options);
            SceneObject best = null;
            for (SceneObject o : scene.objects()) {
                Box b = o.box();
                boolean whole = b.x0() > 0 && b.y0() > 0 && b.x1() < scene.width() && b.y1() < scene.height() && o.pixels() >= 150
                        && !overlapped(scene, o);
                if (o.toyClass() == toyClass && whole && (best == null || o.pixels() > best.pixels())) best = o;
            }
            if (best == null) continue;
            Box b = best.box();
            boolean[] bits = new boolean[b.width() * b.height()];
            for (int y = b.y0(); y < b.y1(); y++) {
                for (int x = b.x0(); x < b.x1(); x++) bits[(y - b.y0()) * b.width() + x - b.x0()] = scene.instances()[y * scene.width() + x] == best.instanceId();
            }
            return new Mask(b.width(), b.height(), bits);
        }
        throw new IllegalStateException("no whole " + toyClass.label() + " in 2000 scenes from seed " + seed);
    }

    /** Another object's pixels inside this object's box that touch this object: it is partly hidden. */
    private static boolean overlapped(Scene scene, SceneObject object) {
        Box b = object.box();
        int w = scene.width();
        int[] ids = scene.instances();
        for (int y = b.y0(); y < b.y1(); y++) {
            for (int x = b.x0(); x < b.x1(); x++) {
                int id = ids[y * w + x];
                if (id < Canvas.FIRST_OBJECT || id == object.instanceId()) continue;   // background ids lie below
                boolean touches = (x > 0 && ids[y * w + x - 1] == object.instanceId()) || (x + 1 < w && ids[y * w + x + 1] == object.instanceId())
                        || (y > 0 && ids[(y - 1) * w + x] == object.instanceId()) || (y + 1 < scene.height() && ids[(y + 1) * w + x] == object.instanceId());
                if (touches) return true;
            }
        }
        return false;
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
