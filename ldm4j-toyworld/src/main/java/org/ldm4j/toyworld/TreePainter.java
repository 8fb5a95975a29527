package org.ldm4j.toyworld;

/**
 * Trees of four species: pine (stacked needle tiers, snow-tipped on snow), oak (a clump of leafy spheres),
 * palm (a curved ringed trunk with drooping fronds) and birch (white spotted trunk, slim crown).
 * Crowns are shaded as spheres or cones lit from the scene's light side, with a leaf texture.
 */
final class TreePainter extends ObjectPainter {
    private final float[] tmp = new float[1];

    TreePainter(SceneLayout layout, Lighting light, Canvas canvas) { super(layout, light, canvas); }

    @Override
    void draw() {
        float tall = "tall".equals(plan.attributes().get("size")) ? 1.15f : 1f;
        switch (plan.variant()) {
            case 0 -> pine(tall);
            case 1 -> leafy(tall, 1.0f, Rgb.of(96, 66, 42), false);
            case 2 -> palm(tall);
            default -> leafy(tall, 0.75f, Rgb.of(232, 230, 222), true);
        }
    }

    private void trunk(float cx, float by, float w, float h, int colour, boolean birch) {
        for (int y = (int) Math.floor(by - h); y < (int) Math.ceil(by); y++) {
            for (int x = (int) Math.floor(cx - w); x <= (int) Math.ceil(cx + w); x++) {
                float px = x + 0.5f, py = y + 0.5f;
                if (Math.abs(px - cx) > w / 2 || py < by - h || py >= by) continue;
                float nx = (px - cx) / (w / 2);
                int c = colour;
                if (birch && Noise.rand(0, (int) (py / Math.max(0.8f, 0.6f * s)), plan.seed()) < 0.3f) c = Rgb.of(40, 38, 36);
                else c = Rgb.scale(c, 0.85f + 0.2f * Noise.value(px * 2 / s, py * 0.4f / s, plan.seed()));
                put(x, y, light.shade(c, nx * 0.8f, 0, 0.6f), TRUNK, 0.01f * s / (layout.height / 64f) * (1 - nx * nx));
            }
        }
    }

    private void pine(float tall) {
        float cx = plan.x(), by = plan.baseY();
        float trunkH = 2.8f * s, height = 16 * s * tall, half = 5.2f * s;
        groundShadow(half * 0.8f, 2.5f);
        trunk(cx, by, Math.max(1f, 1.6f * s), trunkH + 1, Rgb.of(92, 62, 40), false);
        int tiers = 3 + (plan.seed() & 1);
        float crownTop = by - height, crownBottom = by - trunkH;
        boolean snowy = layout.ground == GroundType.SNOW;
        for (int i = 0; i < tiers; i++) {   // bottom tier first, upper tiers overlap it
            float f = i / (float) tiers;
            float tierBottom = crownBottom - (crownBottom - crownTop) * f * 0.82f;
            float tierTop = crownTop + (crownBottom - crownTop) * (i == tiers - 1 ? 0 : 0.25f * (tiers - 1 - i) / tiers);
            float tierHalf = half * (1 - 0.7f * f);
            for (int y = (int) Math.floor(tierTop); y < (int) Math.ceil(tierBottom); y++) {
                float py = y + 0.5f;
                float v = (py - tierTop) / (tierBottom - tierTop);
                if (v < 0 || v >= 1) continue;
                float jag = (Noise.rand(y, i, plan.seed()) - 0.5f) * 0.8f;
                float w = tierHalf * v + jag * v;
                for (int x = (int) Math.floor(cx - tierHalf - 1); x <= (int) Math.ceil(cx + tierHalf + 1); x++) {
                    float px = x + 0.5f;
                    if (Math.abs(px - cx) > w) continue;
                    float nx = (px - cx) / Math.max(0.5f, w);
                    float needles = Noise.value(px * 1.1f / s, py * 1.1f / s, plan.seed() + i);
                    int c = Rgb.scale(plan.colour(), 0.75f + 0.45f * needles - 0.25f * v * v);
                    if (snowy && v < 0.45f && needles > 0.45f) c = Rgb.of(236, 240, 250);
                    put(x, y, light.shade(c, nx * 0.75f, 0.35f, 0.6f, 1.15f), TIER + i, 0.02f * (1 - nx * nx) * s / (layout.height / 64f));
                }
            }
        }
    }

    /** Oak (wide, brown trunk) or birch (slim, white trunk): a crown made of overlapping leafy spheres. */
    private void leafy(float tall, float width, int trunkColour, boolean birch) {
        float cx = plan.x(), by = plan.baseY();
        float trunkH = (birch ? 7.5f : 6f) * s * tall;
        float r = (birch ? 3.4f : 4.6f) * s;
        groundShadow(r * width * 1.1f, 2.5f);
        trunk(cx, by, Math.max(1f, (birch ? 1.3f : 2f) * s), trunkH + r * 0.5f, trunkColour, birch);
        int blobs = birch ? 3 : 5;
        float crownY = by - trunkH - r * 0.9f;
        float[] bx = new float[blobs], byy = new float[blobs], br = new float[blobs];
        for (int k = 0; k < blobs; k++) {
            float a = (float) (2 * Math.PI * (k + Noise.rand(k, 1, plan.seed())) / blobs);
            float d = k == 0 ? 0 : r * 0.6f;
            bx[k] = cx + (float) Math.cos(a) * d * width * 1.2f;
            byy[k] = crownY + (float) Math.sin(a) * d * (birch ? 1.5f : 0.7f);
            br[k] = r * (k == 0 ? 0.95f : 0.6f + 0.2f * Noise.rand(k, 2, plan.seed()));
        }
        float bigR = r * 1.6f;
        for (int y = (int) Math.floor(crownY - bigR * 1.3f); y <= (int) Math.ceil(crownY + bigR * 1.3f); y++) {
            for (int x = (int) Math.floor(cx - bigR * 1.5f); x <= (int) Math.ceil(cx + bigR * 1.5f); x++) {
                float px = x + 0.5f, py = y + 0.5f;
                float leaves = Noise.value(px * 0.9f / s, py * 0.9f / s, plan.seed() + 3);
                float best = 2;
                int bi = -1;
                for (int k = 0; k < blobs; k++) {
                    float dx = (px - bx[k]) / br[k], dy = (py - byy[k]) / br[k];
                    float d = dx * dx + dy * dy;
                    if (d < 1 + 0.35f * (leaves - 0.5f) && d < best) { best = d; bi = k; }
                }
                if (bi < 0) continue;
                float nx = (px - cx) / bigR, ny = (crownY - py) / bigR;
                float nz = (float) Math.sqrt(Math.max(0.05f, 1 - nx * nx - ny * ny));
                float len = (float) Math.sqrt(nx * nx + ny * ny + nz * nz);
                float clump = (float) Math.sqrt(Math.max(0, 1 - best));
                int c = Rgb.scale(plan.colour(), 0.6f + 0.55f * leaves + 0.25f * clump);
                put(x, y, light.shade(c, nx / len, ny / len, nz / len, 1.1f), CROWN, 0.03f * nz * s / (layout.height / 64f));
            }
        }
    }

    private void palm(float tall) {
        float by = plan.baseY(), height = 15 * s * tall;
        float bend = (plan.flip() ? -1 : 1) * 3.5f * s;
        groundShadow(4 * s, 2f);
        float topX = plan.x() + bend, topY = by - height;
        int trunkColour = Rgb.of(140, 104, 66);
        for (int y = (int) Math.floor(topY); y < (int) Math.ceil(by); y++) {
            float py = y + 0.5f;
            float t = (by - py) / height;   // 0 at base, 1 at top
            float centre = plan.x() + bend * t * t;
            float w = Math.max(0.55f, (1.0f - 0.35f * t) * s);
            for (int x = (int) Math.floor(centre - w - 1); x <= (int) Math.ceil(centre + w + 1); x++) {
                float px = x + 0.5f;
                float nx = (px - centre) / w;
                if (Math.abs(nx) > 1) continue;
                boolean ring = ((by - py) / Math.max(1f, 1.3f * s)) % 1f < 0.3f;
                put(x, y, light.shade(Rgb.scale(trunkColour, ring ? 0.72f : 1f), nx * 0.8f, 0, 0.6f), TRUNK, 0.01f);
            }
        }
        int fronds = 6;
        float len = 6.5f * s;
        int minX = (int) (topX - len - 2), maxX = (int) (topX + len + 2);
        int minY = (int) (topY - len * 0.5f - 2), maxY = (int) (topY + len + 2);
        for (int y = minY; y <= maxY; y++) {
            for (int x = minX; x <= maxX; x++) {
                float px = x + 0.5f, py = y + 0.5f;
                for (int k = 0; k < fronds; k++) {
                    float a = (float) (Math.PI * (0.05 + 0.9 * k / (fronds - 1)));
                    float ex = topX - (float) Math.cos(a) * len, ey = topY - (float) Math.sin(a) * len * 0.45f;
                    float mx = (topX + ex) / 2, my = (topY + ey) / 2 - 1.2f * s;   // arched: through a raised midpoint
                    float d1 = segmentDistance2(px, py, topX, topY, mx, my, tmp), t1 = tmp[0] * 0.5f;
                    float d2 = segmentDistance2(px, py, mx, my, ex, ey + 2.2f * s, tmp), t2 = 0.5f + tmp[0] * 0.5f;
                    float d = Math.min(d1, d2), t = d1 < d2 ? t1 : t2;
                    float thick = Math.max(0.5f, (1.3f - t) * 0.9f * s);
                    if (d < thick * thick) {
                        float shade = 0.8f + 0.35f * Noise.rand(x, y, plan.seed());
                        int c = Rgb.scale(plan.colour(), shade);
                        put(x, y, light.shade(c, -(float) Math.cos(a) * 0.7f, 0.5f, 0.5f, 1.15f), CROWN, 0.02f);
                        break;
                    }
                }
            }
        }
    }
}
