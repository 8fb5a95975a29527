package org.ldm4j.toyworld;

/**
 * Paints the stuff of a scene, far to near: sky gradient (glow, stars), sun or moon, clouds, mountain ranges,
 * then the ground plane and water. Water is painted last because it mirrors what is above the horizon.
 * Pixels are sampled at their centres, the same points that decide their class, so edges are exact.
 */
final class BackgroundRenderer {
    private final SceneLayout layout;
    private final Lighting light;
    private final Canvas canvas;
    private final float u;

    BackgroundRenderer(SceneLayout layout, Lighting light, Canvas canvas) {
        this.layout = layout;
        this.light = light;
        this.canvas = canvas;
        this.u = layout.height / 64f;
    }

    void render() {
        sky();
        if (layout.hasSunOrMoon) {
            if (layout.time == TimeOfDay.NIGHT) moon(); else sun();
        }
        for (int i = 0; i < layout.clouds.size(); i++) cloud(layout.clouds.get(i), i);
        for (int i = 0; i < layout.mountains.size(); i++) mountains(layout.mountains.get(i), i);
        groundAndWater();
    }

    private void sky() {
        float hz = layout.horizon;
        boolean glow = layout.hasSunOrMoon && layout.time != TimeOfDay.NIGHT;
        int glowColour = layout.time == TimeOfDay.SUNSET ? Rgb.of(255, 200, 120) : Rgb.of(255, 250, 225);
        int seed = layout.textureSeed;
        float glowR2 = (layout.sunR * 5f) * (layout.sunR * 5f);
        for (int y = 0; y < canvas.h; y++) {
            int base = light.skyColour((y + 0.5f) / hz);
            for (int x = 0; x < canvas.w; x++) {
                int c = base;
                if (glow) {
                    float dx = x + 0.5f - layout.sunX, dy = y + 0.5f - layout.sunY;
                    float d2 = (dx * dx + dy * dy) / glowR2;
                    if (d2 < 1) {
                        float f = 1 - (float) Math.sqrt(d2);
                        c = Rgb.mix(c, glowColour, 0.55f * f * f);
                    }
                } else if (layout.time == TimeOfDay.NIGHT && y < hz * 0.92f) {
                    float s = Noise.rand(x, y, seed);
                    if (s < 0.018f) c = Rgb.mix(c, Rgb.of(255, 255, 235), 0.45f + 25f * s);
                }
                canvas.put(x, y, c, ToyClass.SKY, Canvas.SKY, 0, 0f);
            }
        }
    }

    private void sun() {
        float r = layout.sunR;
        boolean sunset = layout.time == TimeOfDay.SUNSET;
        forDisc(layout.sunX, layout.sunY, r, (x, y, dx, dy) -> {
            float d2 = dx * dx + dy * dy;
            float limb = 1 - 0.15f * d2;
            int c = sunset ? Rgb.mix(Rgb.of(255, 110, 50), Rgb.of(255, 215, 120), 0.5f - 0.5f * dy) : Rgb.of(255, 248, 215);
            canvas.put(x, y, Rgb.scale(c, limb), ToyClass.SUN, Canvas.SUN, 0, 0f);
        });
    }

    private void moon() {
        float r = layout.sunR;
        float sx = layout.sunX + layout.lightSide * 0.55f * r, sy = layout.sunY - 0.25f * r;
        int seed = layout.textureSeed + 77;
        forDisc(layout.sunX, layout.sunY, r, (x, y, dx, dy) -> {
            if (layout.crescent) {
                float ex = (x + 0.5f - sx) / r, ey = (y + 0.5f - sy) / r;
                if (ex * ex + ey * ey < 0.85f) return;   // in the earth's shadow: stays sky
            }
            float mare = Noise.fbm(dx * 2.2f + 5, dy * 2.2f + 5, seed, 2);
            float k = (mare < 0.45f ? 0.78f : 1f) * (1 - 0.12f * (dx * dx + dy * dy));
            canvas.put(x, y, Rgb.scale(Rgb.of(238, 236, 220), k), ToyClass.MOON, Canvas.SUN, 0, 0f);
        });
    }

    private interface DiscPixel { void at(int x, int y, float dx, float dy); }

    /** Visits the pixels whose centres lie in a disc; dx, dy are the centre offsets in units of the radius. */
    private void forDisc(float cx, float cy, float r, DiscPixel p) {
        for (int y = (int) Math.floor(cy - r); y <= (int) Math.ceil(cy + r); y++) {
            for (int x = (int) Math.floor(cx - r); x <= (int) Math.ceil(cx + r); x++) {
                float dx = (x + 0.5f - cx) / r, dy = (y + 0.5f - cy) / r;
                if (dx * dx + dy * dy <= 1 && canvas.inside(x, y) && y + 0.5f < layout.horizon) p.at(x, y, dx, dy);
            }
        }
    }

    private void cloud(SceneLayout.Cloud c, int index) {
        float minX = Float.MAX_VALUE, maxX = -Float.MAX_VALUE, top = Float.MAX_VALUE;
        for (int k = 0; k < c.puffX().length; k++) {
            minX = Math.min(minX, c.puffX()[k] - c.puffR()[k]);
            maxX = Math.max(maxX, c.puffX()[k] + c.puffR()[k]);
            top = Math.min(top, c.puffY()[k] - c.puffR()[k]);
        }
        int lit, shadow;
        switch (layout.time) {
            case DAY -> { lit = Rgb.of(252, 252, 255); shadow = Rgb.of(178, 188, 208); }
            case SUNSET -> { lit = Rgb.of(255, 196, 160); shadow = Rgb.of(150, 92, 120); }
            default -> { lit = Rgb.of(70, 74, 96); shadow = Rgb.of(34, 36, 52); }
        }
        int seed = layout.textureSeed + 31 * index;
        float ns = 0.45f / u;
        for (int y = (int) Math.floor(top); y <= (int) Math.ceil(c.bottom()); y++) {
            for (int x = (int) Math.floor(minX); x <= (int) Math.ceil(maxX); x++) {
                float px = x + 0.5f, py = y + 0.5f;
                if (py > c.bottom() || !canvas.inside(x, y) || py >= layout.horizon) continue;
                float n = Noise.fbm(px * ns, py * ns, seed, 2);
                boolean in = false;
                for (int k = 0; k < c.puffX().length && !in; k++) {
                    float dx = px - c.puffX()[k], dy = py - c.puffY()[k], r = c.puffR()[k] * (0.85f + 0.3f * n);
                    in = dx * dx + dy * dy <= r * r;
                }
                if (!in) continue;
                float v = (py - top) / (c.bottom() - top);
                float t = Math.min(1, Math.max(0, 0.15f + 0.85f * v * v + 0.35f * (n - 0.5f)));
                canvas.put(x, y, Rgb.mix(lit, shadow, t), ToyClass.CLOUD, Canvas.CLOUD + index, 0, 0.02f);
            }
        }
    }

    private float ridge(SceneLayout.MountainLayer m, float x) {
        float h = 0;
        for (int k = 0; k < m.peakX().length; k++) {
            float d = x - m.peakX()[k];
            float slope = d < 0 ? m.slopeLeft()[k] : m.slopeRight()[k];
            h = Math.max(h, m.peakH()[k] - Math.abs(d) * slope);
        }
        return h + (Noise.fbm(x * 0.18f / u, 0.5f, m.seed(), 3) - 0.5f) * 5f * u;
    }

    private void mountains(SceneLayout.MountainLayer m, int index) {
        float hz = layout.horizon;
        float maxPeak = 0;
        for (float p : m.peakH()) maxPeak = Math.max(maxPeak, p);
        int rock = index == 0 && layout.mountains.size() == 2 ? Rgb.of(118, 118, 140) : Rgb.of(96, 90, 92);
        if (layout.ground == GroundType.GRASS) rock = Rgb.mix(rock, Rgb.of(70, 100, 60), 0.35f);
        int snow = Rgb.of(240, 242, 250);
        for (int x = 0; x < canvas.w; x++) {
            float px = x + 0.5f;
            float h = ridge(m, px);
            if (h <= 0) continue;
            float slope = (ridge(m, px + 1) - ridge(m, px - 1)) / 2;
            float nx = -slope, ny = 0.6f, nz = 0.6f;
            float len = (float) Math.sqrt(nx * nx + ny * ny + nz * nz);
            nx /= len; ny /= len; nz /= len;
            float top = hz - h;
            for (int y = Math.max(0, (int) Math.floor(top)); y + 0.5f < hz && y < canvas.h; y++) {
                float py = y + 0.5f;
                if (py < top) continue;
                float above = hz - py;
                float grain = Noise.fbm(px * 0.5f / u, py * 0.25f / u, m.seed() + 5, 2);
                boolean capped = above > maxPeak * (0.62f + 0.25f * grain);
                int albedo = capped ? snow : Rgb.scale(rock, 0.8f + 0.45f * grain);
                int c = light.shade(albedo, nx, ny, nz, 1.1f);
                float mist = m.haze() + 0.35f * (1 - above / Math.max(1, h)) * (1 - above / Math.max(1, h));
                c = Rgb.mix(c, light.horizonColour, Math.min(0.85f, mist));
                float depth = m.depth() + 0.02f * (py - top) / Math.max(1, h);
                canvas.put(x, y, c, ToyClass.MOUNTAIN, Canvas.MOUNTAIN + index, 0, depth);
            }
        }
    }

    private void groundAndWater() {
        float hz = layout.horizon;
        int seed = layout.textureSeed + 1001;
        ToyClass groundClass = layout.ground.toyClass();
        int waterColour = switch (layout.time) {
            case DAY -> Rgb.of(40, 92, 150);
            case SUNSET -> Rgb.of(80, 60, 110);
            default -> Rgb.of(8, 14, 34);
        };
        int topSky = light.skyColour(0);
        for (int y = 0; y < canvas.h; y++) {
            float py = y + 0.5f;
            if (py < hz) continue;
            float t = (py - hz) / (canvas.h - hz);
            float near = layout.groundDepth(py);
            float dist = 1f / (t + 0.06f);
            for (int x = 0; x < canvas.w; x++) {
                float px = x + 0.5f;
                float wx = (px - canvas.w / 2f) / canvas.h * dist * 6f;   // ground-plane coordinates
                float wz = dist * 3f;
                if (layout.isWaterColumn(x, py)) {
                    float ripple = (float) Math.sin(py * 1.9f / u + 3 * Noise.value(px * 0.2f / u, py * 0.5f / u, seed)) * 1.2f * u;
                    float my = 2 * hz - py;
                    int rx = Math.max(0, Math.min(canvas.w - 1, (int) (px + ripple)));
                    int reflected = my >= 0 && my < hz ? canvas.colourAt(rx, (int) my) : topSky;
                    float k = 0.35f + 0.3f * (1 - t);
                    int c = Rgb.mix(waterColour, reflected, k);
                    float streak = Noise.value(wx * 0.8f, wz * 4f, seed + 9);
                    c = Rgb.scale(c, 0.88f + 0.24f * streak);
                    if (layout.hasSunOrMoon && Math.abs(px - layout.sunX) < layout.sunR * (1 + t * 2) && streak > 0.62f) {
                        c = Rgb.mix(c, layout.time == TimeOfDay.NIGHT ? Rgb.of(230, 230, 210) : Rgb.of(255, 220, 160), 0.6f);
                    }
                    if (!layout.isWaterColumn(x, py - 1.2f * u) || !layout.isWaterColumn(x, py + 1.2f * u)) c = Rgb.scale(c, 0.85f);
                    canvas.put(x, y, c, ToyClass.WATER, Canvas.WATER, 0, near);
                    continue;
                }
                float low = Noise.value(wx * 0.35f, wz * 0.35f, seed);
                float fine = Noise.value(px * 0.9f / u, py * 1.3f / u, seed + 3) - 0.5f;
                int albedo = switch (layout.ground) {
                    case GRASS -> Rgb.scale(Rgb.mix(Rgb.of(88, 150, 56), Rgb.of(52, 108, 38), low), 1 + fine * 0.45f * (0.3f + t));
                    case SAND -> Rgb.scale(Rgb.of(222, 196, 140), 0.92f + 0.1f * low
                            + 0.06f * (float) Math.sin(wz * 2.5f + wx * 0.4f + 6 * low) * t + fine * 0.12f * t);
                    default -> Rgb.mix(Rgb.of(244, 246, 252), Rgb.of(190, 205, 232), Math.max(0, low - 0.35f) * 1.4f + fine * 0.15f * t);
                };
                float nx = (low - 0.5f) * 0.5f;   // gentle undulation shading, from the same noise
                int c = light.shade(albedo, nx, 0.85f, 0.45f, 1.05f);
                canvas.put(x, y, light.haze(c, near), groundClass, Canvas.GROUND, 0, near);
            }
        }
    }
}
