package org.ldm4j.toyworld;

import java.util.Arrays;
import java.util.SplittableRandom;

/**
 * Simulates the coarse colour scribbles a user paints as guidance (the "stroke painting" input of SDEdit-style
 * and GradOP-style methods): every region (scene instance) becomes one flat colour, its mean in the image; region
 * boundaries are displaced by a smooth random field so they wobble like brush strokes; regions too small to
 * bother with are absorbed by their neighbours (lost details); the background can be left white or only partly
 * painted in blobs. Deterministic for a (scene, seed, options) triple.
 */
public final class StrokePainter {
    private static final int WHITE = 0xFFFFFF;

    private StrokePainter() {}

    public static Painting paint(Scene scene, long seed, PaintingOptions o) {
        int w = scene.width(), h = scene.height(), n = w * h;
        int[] inst = scene.instances();
        int maxId = 0;
        for (int id : inst) maxId = Math.max(maxId, id);
        long[] sumR = new long[maxId + 1], sumG = new long[maxId + 1], sumB = new long[maxId + 1];
        int[] count = new int[maxId + 1];
        for (int i = 0; i < n; i++) {
            int c = scene.rgb()[i], id = inst[i];
            sumR[id] += (c >> 16) & 255;
            sumG[id] += (c >> 8) & 255;
            sumB[id] += c & 255;
            count[id]++;
        }
        SplittableRandom r = new SplittableRandom(seed);
        int[] mean = new int[maxId + 1];
        for (int id = 0; id <= maxId; id++) {
            if (count[id] == 0) continue;
            double e = o.colourNoise() * 64;
            mean[id] = Rgb.of(channel(sumR[id], count[id], r, e), channel(sumG[id], count[id], r, e), channel(sumB[id], count[id], r, e));
        }

        // Small regions are lost: their pixels take the region of a neighbour, spreading inwards.
        float area = n / 4096f;
        int[] filled = inst.clone();
        boolean[] lost = new boolean[maxId + 1];
        int largest = 0;
        for (int id = 0; id <= maxId; id++) if (count[id] > count[largest]) largest = id;
        for (int id = 0; id <= maxId; id++) lost[id] = id != largest && count[id] > 0 && count[id] < o.minRegionPixels() * area;
        absorbLost(filled, lost, w, h);

        // Wobbly boundaries: look the region up at a smoothly displaced position.
        float scale = w / 64f;
        float jitter = (float) o.boundaryJitter() * scale, blob = (float) o.blobScale() * scale;
        int noiseSeed = (int) (seed ^ (seed >>> 32));
        int[] region = new int[n];
        for (int y = 0; y < h; y++) {
            for (int x = 0; x < w; x++) {
                float dx = (Noise.fbm(x / blob, y / blob, noiseSeed, 2) - 0.5f) * 2 * jitter;
                float dy = (Noise.fbm(x / blob, y / blob, noiseSeed + 17, 2) - 0.5f) * 2 * jitter;
                int sx = Math.max(0, Math.min(w - 1, Math.round(x + dx))), sy = Math.max(0, Math.min(h - 1, Math.round(y + dy)));
                region[y * w + x] = filled[sy * w + sx];
            }
        }

        boolean[] paintBackground = backgroundBlobs(w, h, region, o.backgroundCoverage(), blob * 2, noiseSeed + 5);
        int[] rgb = new int[n];
        boolean[] painted = new boolean[n];
        int[] regionOf = new int[n];
        for (int i = 0; i < n; i++) {
            int id = region[i];
            boolean object = id >= Canvas.FIRST_OBJECT;
            if (object || paintBackground[i]) {
                rgb[i] = mean[id];
                painted[i] = true;
                regionOf[i] = id;
            } else {
                rgb[i] = WHITE;
            }
        }
        return new Painting(w, h, rgb, painted, regionOf);
    }

    private static int channel(long sum, int count, SplittableRandom r, double error) {
        double v = (double) sum / count + (error > 0 ? (r.nextDouble() * 2 - 1) * error : 0);
        return (int) Math.max(0, Math.min(255, Math.round(v)));
    }

    private static void absorbLost(int[] filled, boolean[] lost, int w, int h) {
        boolean any = true;
        for (int pass = 0; pass < w + h && any; pass++) {
            any = false;
            int[] next = filled.clone();
            for (int y = 0; y < h; y++) {
                for (int x = 0; x < w; x++) {
                    int i = y * w + x;
                    if (!lost[filled[i]]) continue;
                    any = true;
                    if (x > 0 && !lost[filled[i - 1]]) next[i] = filled[i - 1];
                    else if (x + 1 < w && !lost[filled[i + 1]]) next[i] = filled[i + 1];
                    else if (y + 1 < h && !lost[filled[i + w]]) next[i] = filled[i + w];
                    else if (y > 0 && !lost[filled[i - w]]) next[i] = filled[i - w];
                }
            }
            System.arraycopy(next, 0, filled, 0, filled.length);
        }
    }

    /** Which background pixels get paint: all, none, or the lowest-noise blobs covering the requested fraction. */
    private static boolean[] backgroundBlobs(int w, int h, int[] region, double coverage, float blob, int seed) {
        boolean[] out = new boolean[w * h];
        if (coverage >= 1) { Arrays.fill(out, true); return out; }
        if (coverage <= 0) return out;
        float[] v = new float[w * h];
        for (int y = 0; y < h; y++) for (int x = 0; x < w; x++) v[y * w + x] = Noise.fbm(x / blob, y / blob, seed, 2);
        float[] background = new float[w * h];
        int m = 0;
        for (int i = 0; i < v.length; i++) if (region[i] < Canvas.FIRST_OBJECT) background[m++] = v[i];
        if (m == 0) return out;
        float[] sorted = Arrays.copyOf(background, m);
        Arrays.sort(sorted);
        float threshold = sorted[(int) Math.min(m - 1, Math.floor(coverage * m))];
        for (int i = 0; i < v.length; i++) out[i] = v[i] < threshold;
        return out;
    }
}
