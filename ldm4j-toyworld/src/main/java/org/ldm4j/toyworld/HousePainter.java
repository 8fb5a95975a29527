package org.ldm4j.toyworld;

/**
 * A gabled house seen two-point-ish: the gable front facing the viewer (door, windows), one side wall receding
 * up and away (windows), the roof plane over it with tile rows, and a chimney. Windows glow at night.
 */
final class HousePainter extends ObjectPainter {
    HousePainter(SceneLayout layout, Lighting light, Canvas canvas) { super(layout, light, canvas); }

    @Override
    void draw() {
        float dir = plan.flip() ? -1 : 1;
        float fw = 10 * s, wh = 7.5f * s, gh = 4.5f * s, sw = 7 * s, sr = 2.6f * s;
        float cx = plan.x() - dir * sw / 2, by = plan.baseY();
        float x0 = cx - fw / 2, x1 = cx + fw / 2;
        float xe = dir > 0 ? x1 : x0;                    // front corner where the side wall starts
        float apexX = cx, apexY = by - wh - gh;
        float farDepth = layout.groundDepth(by - sr) - baseDepth;
        int wall = plan.colour(), roof = plan.colour2();
        int seed = plan.seed();
        groundShadow(fw / 2 + sw / 2, 3f);

        int minX = (int) Math.floor(Math.min(x0, xe + dir * sw)) - 1, maxX = (int) Math.ceil(Math.max(x1, xe + dir * sw)) + 1;
        int minY = (int) Math.floor(apexY - sr) - 1, maxY = (int) Math.ceil(by);
        // Roof plane P = A + a (E - A) + b D, A = apex, E = eave corner, D = (dir sw, -sr): solve for (a, b).
        float ex = xe - apexX, ey = (by - wh) - apexY, dx = dir * sw, dy = -sr;
        float det = ex * dy - ey * dx;
        float chimneyX = apexX + 0.35f * ex + 0.62f * dx, chimneyY = apexY + 0.35f * ey + 0.62f * dy;
        for (int y = minY; y <= maxY; y++) {
            for (int x = minX; x <= maxX; x++) {
                float px = x + 0.5f, py = y + 0.5f;
                float uSide = (px - xe) * dir;   // 0..sw along the side wall
                float tSide = uSide / sw;
                // Side wall (parallelogram rising with distance).
                if (tSide >= 0 && tSide <= 1) {
                    float bottom = by - sr * tSide, top = bottom - wh;
                    if (py >= top && py < bottom) {
                        float v = (bottom - py) / wh;
                        boolean window = v > 0.35f && v < 0.72f && (inBand(tSide, 0.18f, 0.42f) || inBand(tSide, 0.6f, 0.84f));
                        int c = window ? windowColour(v)
                                : light.shade(texture(wall, px, py, seed), dir * 0.9f, 0, 0.42f);
                        put(x, y, c, window ? WINDOW : SIDE, farDepth * tSide);
                        continue;
                    }
                }
                boolean front = inFront(px, py, x0, x1, by, wh, apexX, apexY);
                if (!front && Math.abs(px - chimneyX) < Math.max(0.6f, 0.8f * s) && py > chimneyY - 2.8f * s && py < chimneyY + 0.6f * s) {
                    put(x, y, light.shade(Rgb.of(125, 72, 58), dir * 0.6f, 0.2f, 0.7f), CHIMNEY, farDepth * 0.6f);
                    continue;
                }
                float rx = px - apexX, ry = py - apexY;
                float a = (rx * dy - ry * dx) / det, b = (ex * ry - ey * rx) / det;
                if (!front && a >= 0 && a <= 1.12f && b >= -0.04f && b <= 1.04f) {
                    float tile = (a * 5 * (1 + s / 4)) % 1f;
                    int c = light.shade(roof, dir * 0.25f, 0.75f, 0.5f, tile < 0.22f ? 0.72f : 1f);
                    put(x, y, c, ROOF, farDepth * b);
                    continue;
                }
                if (inFront(px, py, x0, x1, by, wh, apexX, apexY)) front(x, y, px, py, cx, fw, by, wh, apexY, wall, seed);
            }
        }
    }

    private static boolean inBand(float v, float lo, float hi) { return v >= lo && v <= hi; }

    private static boolean inFront(float px, float py, float x0, float x1, float by, float wh, float apexX, float apexY) {
        if (px < x0 || px >= x1 || py >= by) return false;
        if (py >= by - wh) return true;
        float half = (x1 - x0) / 2 * (py - apexY) / (by - wh - apexY);   // gable triangle
        return py >= apexY && Math.abs(px - apexX) <= half;
    }

    private void front(int x, int y, float px, float py, float cx, float fw, float by, float wh, float apexY, int wall, int seed) {
        float doorX = cx + (plan.flip() ? 0.18f : -0.18f) * fw;
        float dw = Math.max(1.1f, 1.2f * s);
        float winX = cx + (plan.flip() ? -0.22f : 0.22f) * fw, winW = Math.max(1.1f, 1.5f * s);
        float winY0 = by - wh * 0.78f, winY1 = by - wh * 0.42f;
        int c;
        int part;
        if (Math.abs(px - doorX) < dw && py > by - wh * 0.62f) {
            part = DOOR;
            c = light.shade(Rgb.of(110, 66, 38), 0, 0, 1, Math.abs(px - doorX) < dw * 0.5f ? 0.9f : 1f);
        } else if (Math.abs(px - winX) < winW && py > winY0 && py < winY1) {
            part = WINDOW;
            c = windowColour((by - py) / wh);
            if (Math.abs(px - winX) < 0.5f && s > 1.2f) c = Rgb.of(235, 235, 230);   // mullion
        } else if (py < by - wh && Math.abs(px - cx) < Math.max(0.7f, 0.9f * s) && py > apexY + (by - wh - apexY) * 0.4f) {
            part = WINDOW;
            c = windowColour(1.2f);
        } else {
            part = BODY;
            c = light.shade(texture(wall, px, py, seed), 0, 0, 1, py < by - wh ? 0.97f : 1f);
            if (py > by - 0.8f * s) c = Rgb.scale(c, 0.8f);   // plinth
        }
        put(x, y, c, part, 0);
    }

    private int windowColour(float v) {
        return night() ? Rgb.of(255, 214, 110) : Rgb.mix(Rgb.of(150, 190, 220), Rgb.of(60, 80, 110), clamp01(v - 0.2f));
    }

    private int texture(int colour, float px, float py, int seed) {
        float n = Noise.value(px * 0.8f / s, py * 1.6f / s, seed);
        return Rgb.scale(colour, 0.93f + 0.12f * n);
    }
}
