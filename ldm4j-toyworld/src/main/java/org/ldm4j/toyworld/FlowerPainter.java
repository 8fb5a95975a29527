package org.ldm4j.toyworld;

/** A flower bed lying on the ground: a bumpy patch of dark leaves dotted with blossoms with bright centres. */
final class FlowerPainter extends ObjectPainter {
    FlowerPainter(SceneLayout layout, Lighting light, Canvas canvas) { super(layout, light, canvas); }

    @Override
    void draw() {
        float cx = plan.x(), by = plan.baseY();
        float rx = 7 * s, ry = Math.max(1.2f, 2.4f * s);
        float cy = by - ry;
        float cell = Math.max(1.0f, 1.5f * s);
        for (int y = (int) Math.floor(cy - ry * 1.5f); y < (int) Math.ceil(by); y++) {
            for (int x = (int) Math.floor(cx - rx * 1.2f); x <= (int) Math.ceil(cx + rx * 1.2f); x++) {
                float px = x + 0.5f, py = y + 0.5f;
                float dx = (px - cx) / rx, dy = (py - cy) / ry;
                float edge = 1 + 0.3f * (Noise.value(px * 0.6f / s, 0.5f, plan.seed()) - 0.5f);
                if (py >= by || dx * dx + dy * dy * (dy < 0 ? 0.7f : 1) > edge) continue;
                int gx = (int) Math.floor(px / cell), gy = (int) Math.floor(py / cell);
                float fx = gx * cell + cell * (0.25f + 0.5f * Noise.rand(gx, gy, plan.seed() + 1));
                float fy = gy * cell + cell * (0.25f + 0.5f * Noise.rand(gx, gy, plan.seed() + 2));
                float fd = ((px - fx) * (px - fx) + (py - fy) * (py - fy)) / (cell * cell);
                boolean blossom = Noise.rand(gx, gy, plan.seed() + 3) < 0.75f && fd < 0.2f;
                int c;
                if (blossom) {
                    c = fd < 0.04f && s > 1.2f ? Rgb.of(250, 225, 90) : Rgb.scale(plan.colour(), 0.9f + 0.25f * Noise.rand(gx, gy, plan.seed() + 4));
                    c = light.shade(c, 0, 0.6f, 0.8f, 1.15f);
                } else {
                    float leaf = Noise.value(px * 1.3f / s, py * 1.3f / s, plan.seed() + 5);
                    c = light.shade(Rgb.scale(Rgb.of(46, 96, 40), 0.7f + 0.5f * leaf), 0, 0.7f, 0.7f);
                }
                float rowDepth = layout.groundDepth(py) - baseDepth;
                put(x, y, c, BODY, rowDepth + 0.01f);
            }
        }
    }
}
