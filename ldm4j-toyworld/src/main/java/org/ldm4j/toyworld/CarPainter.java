package org.ldm4j.toyworld;

/** A small car in side view: rounded body with a highlight, cabin with two windows, wheels with hubs, lamps. */
final class CarPainter extends ObjectPainter {
    CarPainter(SceneLayout layout, Lighting light, Canvas canvas) { super(layout, light, canvas); }

    @Override
    void draw() {
        float dir = plan.flip() ? -1 : 1;   // +1: front to the right
        float cx = plan.x(), by = plan.baseY();
        float len = 13 * s, wheelR = Math.max(0.9f, 1.6f * s);
        float bodyTop = by - 5.2f * s, bodyBottom = by - 1.0f * s;
        float cabTop = by - 8.6f * s;
        float x0 = cx - len / 2, x1 = cx + len / 2;
        float cabBack = cx - dir * len * 0.36f, cabFront = cx + dir * len * 0.2f;
        float cab0 = Math.min(cabBack, cabFront), cab1 = Math.max(cabBack, cabFront);
        float slant = 2.2f * s;
        groundShadow(len / 2, 2f);
        float corner = 1.3f * s;
        for (int y = (int) Math.floor(cabTop); y < (int) Math.ceil(by); y++) {
            for (int x = (int) Math.floor(x0) - 1; x <= (int) Math.ceil(x1) + 1; x++) {
                float px = x + 0.5f, py = y + 0.5f;
                // Wheels in front of everything.
                for (float wx : new float[]{cx - len * 0.3f, cx + len * 0.3f}) {
                    float dx = px - wx, dy = py - (by - wheelR);
                    float d2 = dx * dx + dy * dy;
                    if (d2 <= wheelR * wheelR) {
                        boolean hub = d2 < wheelR * wheelR * 0.25f;
                        put(x, y, hub ? light.shade(Rgb.of(170, 170, 175), 0, 0, 1) : Rgb.of(22, 22, 26), WHEEL, 0.01f);
                        px = Float.NaN;
                        break;
                    }
                }
                if (Float.isNaN(px)) continue;
                if (py >= bodyTop && py < bodyBottom && px >= x0 && px < x1) {
                    float ex = Math.min(px - x0, x1 - px), ey = py - bodyTop;
                    if (ex < corner && ey < corner && (corner - ex) * (corner - ex) + (corner - ey) * (corner - ey) > corner * corner) continue;
                    float v = (py - bodyTop) / (bodyBottom - bodyTop);
                    float ny = 0.8f - 1.2f * v, nz = 0.6f;
                    int c = light.shade(plan.colour(), 0, ny, nz, 1.1f);
                    if (v < 0.18f) c = Rgb.mix(c, Rgb.of(255, 255, 255), 0.3f);   // specular roof-line highlight
                    boolean frontEnd = dir > 0 ? px > x1 - 1.2f * s : px < x0 + 1.2f * s;
                    boolean backEnd = dir > 0 ? px < x0 + 1.0f * s : px > x1 - 1.0f * s;
                    if (v > 0.2f && v < 0.5f && frontEnd) { put(x, y, night() ? Rgb.of(255, 250, 200) : Rgb.of(250, 240, 190), LAMP, 0.02f); continue; }
                    if (v > 0.2f && v < 0.5f && backEnd) { put(x, y, Rgb.of(200, 30, 30), LAMP, 0.02f); continue; }
                    put(x, y, c, BODY, 0.02f * (1 - v));
                    continue;
                }
                if (py >= cabTop && py < bodyTop) {
                    float v = (py - cabTop) / (bodyTop - cabTop);   // 0 roof .. 1 waist
                    float back = dir > 0 ? cab0 - slant * 0.4f * v : cab1 + slant * 0.4f * v;
                    float front = dir > 0 ? cab1 + slant * v : cab0 - slant * v;
                    float l = Math.min(back, front), r = Math.max(back, front);
                    if (px < l || px >= r) continue;
                    float inset = Math.max(0.6f, 0.7f * s);
                    boolean pillar = Math.abs(px - (l + r) / 2) < Math.max(0.5f, 0.4f * s);
                    boolean glass = v > 0.18f && v < 0.92f && px > l + inset && px < r - inset && !pillar;
                    int c = glass ? Rgb.mix(light.skyColour(0.6f), Rgb.of(40, 50, 70), 0.45f + 0.3f * v)
                            : light.shade(plan.colour(), 0, 0.7f, 0.7f, 1.05f);
                    put(x, y, c, glass ? GLASS : BODY, 0.015f);
                }
            }
        }
    }
}
