package org.ldm4j.toyworld;

/**
 * Shared machinery for painting one object: the instance it writes, its base nearness, haze and shading, and a
 * few shape helpers. Subclasses paint one kind of object each; all geometry is in pixels scaled by the plan's
 * scale (one unit = 1/64 of the image height at the front of the ground plane).
 */
abstract class ObjectPainter {
    static final int BODY = 1, SIDE = 2, ROOF = 3, DOOR = 4, WINDOW = 5, TRUNK = 6, CROWN = 7,
            WHEEL = 8, GLASS = 9, MAST = 10, SAIL = 11, CHIMNEY = 12, LAMP = 13, CRACK = 14, TIER = 20;

    final SceneLayout layout;
    final Lighting light;
    final Canvas canvas;

    SceneLayout.ObjectPlan plan;
    int instance;
    float baseDepth;
    float s;

    ObjectPainter(SceneLayout layout, Lighting light, Canvas canvas) {
        this.layout = layout;
        this.light = light;
        this.canvas = canvas;
    }

    final void paint(SceneLayout.ObjectPlan p, int instanceId) {
        plan = p;
        instance = instanceId;
        baseDepth = layout.groundDepth(p.baseY());
        s = p.scale();
        draw();
    }

    abstract void draw();

    /** Writes an object pixel with aerial perspective applied. */
    final void put(int x, int y, int colour, int part, float depthOffset) {
        canvas.put(x, y, light.haze(colour, baseDepth), plan.toyClass(), instance, part, Math.min(1f, baseDepth + depthOffset));
    }

    /** Night windows and lamps glow instead of reflecting. */
    final boolean night() { return layout.time == TimeOfDay.NIGHT; }

    static float clamp01(float v) { return v < 0 ? 0 : (v > 1 ? 1 : v); }

    /** Squared distance from point p to segment a-b, and the segment parameter via out[0]. */
    static float segmentDistance2(float px, float py, float ax, float ay, float bx, float by, float[] out) {
        float vx = bx - ax, vy = by - ay;
        float len2 = vx * vx + vy * vy;
        float t = len2 == 0 ? 0 : clamp01(((px - ax) * vx + (py - ay) * vy) / len2);
        float dx = px - ax - t * vx, dy = py - ay - t * vy;
        out[0] = t;
        return dx * dx + dy * dy;
    }

    /** Soft contact shadow on the ground, away from the light, painted before the object itself. */
    final void groundShadow(float halfWidth, float depth) {
        if (night()) return;
        float cx = plan.x() - layout.lightSide * halfWidth * 0.35f, cy = plan.baseY() - 0.2f * s;
        float rx = halfWidth * 1.15f, ry = Math.max(1f, depth * s);
        for (int y = (int) (cy - ry); y <= (int) (cy + ry); y++) {
            for (int x = (int) (cx - rx); x <= (int) (cx + rx); x++) {
                if (!canvas.inside(x, y)) continue;
                float dx = (x + 0.5f - cx) / rx, dy = (y + 0.5f - cy) / ry;
                float d = dx * dx + dy * dy;
                ToyClass c = canvas.classAt(x, y);
                if (d < 1 && (c == ToyClass.GRASS || c == ToyClass.SAND || c == ToyClass.SNOW)) {
                    canvas.recolour(x, y, Rgb.scale(canvas.colourAt(x, y), 0.62f + 0.38f * d));
                }
            }
        }
    }
}
