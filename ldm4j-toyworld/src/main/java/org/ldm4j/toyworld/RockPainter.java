package org.ldm4j.toyworld;

/** A boulder: a lumpy dome shaded as a sphere, grainy, with a crack line and a snow cap on snowy ground. */
final class RockPainter extends ObjectPainter {
    RockPainter(SceneLayout layout, Lighting light, Canvas canvas) { super(layout, light, canvas); }

    @Override
    void draw() {
        float cx = plan.x(), by = plan.baseY() + 0.5f * s;
        float rx = 4.2f * s, ry = 3.6f * s;
        groundShadow(rx, 2f);
        boolean snowy = layout.ground == GroundType.SNOW;
        for (int y = (int) Math.floor(by - ry * 1.2f); y < (int) Math.ceil(by); y++) {
            for (int x = (int) Math.floor(cx - rx * 1.2f); x <= (int) Math.ceil(cx + rx * 1.2f); x++) {
                float px = x + 0.5f, py = y + 0.5f;
                if (py >= by) continue;
                float dx = (px - cx) / rx, dy = (by - py) / ry;
                float angle = (float) Math.atan2(dy, dx);
                float lump = 1 + 0.28f * (Noise.value(angle * 2.5f, 0.5f, plan.seed()) - 0.5f);
                float d = dx * dx + dy * dy;
                if (d > lump * lump) continue;
                float nz = (float) Math.sqrt(Math.max(0.05f, 1 - d / (lump * lump)));
                float len = (float) Math.sqrt(dx * dx + dy * dy + nz * nz);
                float nx = dx / len, ny = dy / len;
                nz /= len;
                float grain = Noise.fbm(px * 0.9f / s, py * 0.9f / s, plan.seed() + 1, 2);
                float crackLine = Math.abs(Noise.value(px * 0.35f / s, py * 0.2f / s, plan.seed() + 2) - 0.5f);
                boolean crack = crackLine < 0.035f && d < 0.7f && s > 0.7f;
                int albedo = Rgb.scale(plan.colour(), 0.78f + 0.4f * grain);
                if (snowy && ny > 0.72f - 0.2f * grain) albedo = Rgb.of(238, 242, 250);
                int c = crack ? Rgb.scale(light.shade(albedo, nx, ny, nz), 0.55f) : light.shade(albedo, nx, ny, nz, 1.15f);
                put(x, y, c, crack ? CRACK : BODY, 0.03f * nz * s / (layout.height / 64f));
            }
        }
    }
}
