package org.ldm4j.toyworld;

/**
 * A boat on the water: a raked hull with a rub stripe, either a cabin with portholes or a mast with a sail,
 * and its rippled reflection (colour only: reflected pixels remain water in the maps).
 */
final class BoatPainter extends ObjectPainter {
    BoatPainter(SceneLayout layout, Lighting light, Canvas canvas) { super(layout, light, canvas); }

    @Override
    void draw() {
        float dir = plan.flip() ? -1 : 1;   // bow direction
        float cx = plan.x(), wl = plan.baseY();
        float len = 14 * s, hh = Math.max(1.5f, 3f * s);
        float top = wl - hh;
        boolean sail = plan.variant() == 1;
        int minX = (int) Math.floor(cx - len / 2 - 1), maxX = (int) Math.ceil(cx + len / 2 + 1);
        float mastX = cx - dir * len * 0.05f, mastTop = top - 12 * s;
        float cabinL = cx - dir * len * 0.25f - 2.8f * s, cabinR = cabinL + 5.6f * s, cabinTop = top - 3 * s;
        int minY = (int) Math.floor(sail ? mastTop : cabinTop) - 1;
        for (int y = minY; y < (int) Math.ceil(wl); y++) {
            for (int x = minX; x <= maxX; x++) {
                float px = x + 0.5f, py = y + 0.5f;
                if (py >= top && py < wl) {   // hull: narrower at the keel, sharper at the bow
                    float v = (py - top) / hh;
                    float bowIn = 3.5f * s * v, sternIn = 1.2f * s * v;
                    float l = cx - len / 2 + (dir > 0 ? sternIn : bowIn), r = cx + len / 2 - (dir > 0 ? bowIn : sternIn);
                    if (px >= l && px < r) {
                        int c = light.shade(plan.colour(), 0, 0.3f - 0.6f * v, 0.8f, 1.1f);
                        if (v < 0.25f) c = light.shade(Rgb.of(240, 240, 235), 0, 0.5f, 0.8f);   // gunwale stripe
                        put(x, y, c, BODY, 0.01f * (1 - v));
                    }
                    continue;
                }
                if (sail) {
                    if (Math.abs(px - mastX) < Math.max(0.5f, 0.35f * s) && py >= mastTop) {
                        put(x, y, light.shade(Rgb.of(110, 80, 50), 0, 0, 1), MAST, 0.01f);
                        continue;
                    }
                    float v = (py - mastTop) / (top - 0.5f * s - mastTop);
                    float reach = (dir > 0 ? 1 : -1) * (px - mastX);
                    if (v >= 0 && v < 1 && reach > Math.max(0.5f, 0.35f * s) && reach < v * len * 0.42f) {
                        float belly = reach / (v * len * 0.42f);
                        int c = light.shade(Rgb.of(245, 244, 236), dir * (belly - 0.5f) * 0.6f, 0.1f, 0.8f, 1.05f);
                        put(x, y, c, SAIL, 0.01f);
                    }
                } else if (px >= cabinL && px < cabinR && py >= cabinTop && py < top) {
                    float porthole = ((px - cabinL) / Math.max(1.2f, 1.8f * s)) % 1f;
                    boolean window = py > cabinTop + 0.8f * s && py < top - 0.8f * s && porthole > 0.35f && porthole < 0.75f;
                    int c = window ? (night() ? Rgb.of(255, 210, 110) : Rgb.of(70, 90, 120)) : light.shade(Rgb.of(235, 232, 225), 0, 0, 1);
                    put(x, y, c, window ? WINDOW : SIDE, 0.01f);
                }
            }
        }
        reflect(minX, maxX, minY, wl);
    }

    private void reflect(int minX, int maxX, int minY, float wl) {
        int wlRow = (int) Math.floor(wl);
        for (int y = minY; y < wlRow; y++) {
            int my = 2 * wlRow - y;
            if (my >= canvas.h) continue;
            int ripple = (int) Math.round(Math.sin(my * 1.7 / Math.max(0.6, s)) * 0.8 * s);
            for (int x = minX; x <= maxX; x++) {
                if (!canvas.inside(x, y) || canvas.inst[y * canvas.w + x] != instance) continue;
                int rx = x + ripple;
                if (!canvas.inside(rx, my) || canvas.classAt(rx, my) != ToyClass.WATER) continue;
                canvas.recolour(rx, my, Rgb.mix(canvas.colourAt(rx, my), Rgb.scale(canvas.colourAt(x, y), 0.7f), 0.5f));
            }
        }
    }
}
