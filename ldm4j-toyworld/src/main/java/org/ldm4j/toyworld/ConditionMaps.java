package org.ldm4j.toyworld;

/**
 * Maps derived from the frame buffers. The sketch marks every pixel whose (instance, part) differs from its right
 * or lower neighbour: object outlines plus inner detail lines (windows, door, roof line, pine tiers, wheels), never
 * texture. Normals come from the nearness map by central differences taken within one instance only, so depth
 * jumps at object borders do not turn into spurious slopes.
 */
final class ConditionMaps {
    private ConditionMaps() {}

    static boolean[] sketch(int w, int h, int[] inst, byte[] part) {
        boolean[] lines = new boolean[w * h];
        for (int y = 0; y < h; y++) {
            for (int x = 0; x < w; x++) {
                int i = y * w + x;
                int key = inst[i] * 256 + part[i];
                boolean edge = x + 1 < w && key != inst[i + 1] * 256 + part[i + 1]
                        || y + 1 < h && key != inst[i + w] * 256 + part[i + w];
                lines[i] = edge;
            }
        }
        return lines;
    }

    /**
     * Unit normals (x right, y up, z towards the viewer), 3 floats per pixel. The nearness gradient is scaled by
     * half the image width so that the same scene at another resolution has the same normals.
     */
    static float[] normals(int w, int h, float[] depth, int[] inst) {
        float[] n = new float[w * h * 3];
        float k = 0.5f * w;
        for (int y = 0; y < h; y++) {
            for (int x = 0; x < w; x++) {
                int i = y * w + x;
                float gx = gradient(depth, inst, i, x > 0 ? i - 1 : -1, x + 1 < w ? i + 1 : -1);
                float gy = gradient(depth, inst, i, y > 0 ? i - w : -1, y + 1 < h ? i + w : -1);
                float nx = -gx * k, ny = gy * k, nz = 1;
                float len = (float) Math.sqrt(nx * nx + ny * ny + nz * nz);
                n[3 * i] = nx / len;
                n[3 * i + 1] = ny / len;
                n[3 * i + 2] = nz / len;
            }
        }
        return n;
    }

    /** Central difference when both neighbours share the pixel's instance, one-sided when one does, else 0. */
    private static float gradient(float[] d, int[] inst, int i, int before, int after) {
        boolean b = before >= 0 && inst[before] == inst[i];
        boolean a = after >= 0 && inst[after] == inst[i];
        if (a && b) return (d[after] - d[before]) / 2;
        if (a) return d[after] - d[i];
        if (b) return d[i] - d[before];
        return 0;
    }
}
