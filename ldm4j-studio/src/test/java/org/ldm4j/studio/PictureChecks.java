package org.ldm4j.studio;

import java.awt.image.BufferedImage;
import java.util.Arrays;

import static org.junit.jupiter.api.Assertions.assertTrue;

/** Checks that a studio result is a picture of the kind asked for, not just an image of the right size. */
final class PictureChecks {
    private PictureChecks() {}

    /**
     * A ToyWorld picture of a scene on the grass on a clear day: the top sixth is sky (blue the strongest channel),
     * the bottom eighth grass (green the strongest). The tiny random model's noise fails this.
     */
    static void assertSkyOverGrass(BufferedImage image) {
        int h = image.getHeight();
        double[] sky = meanRgb(image, 0, h / 6), grass = meanRgb(image, h - h / 8, h);
        assertTrue(sky[2] > sky[0] && sky[2] > sky[1], "the top is blue sky: mean rgb " + Arrays.toString(sky));
        assertTrue(grass[1] > grass[0] && grass[1] > grass[2], "the bottom is green grass: mean rgb " + Arrays.toString(grass));
    }

    /** The mean red, green and blue of rows y0 (inclusive) to y1 (exclusive). */
    static double[] meanRgb(BufferedImage image, int y0, int y1) {
        double[] sum = new double[3];
        for (int y = y0; y < y1; y++) {
            for (int x = 0; x < image.getWidth(); x++) {
                int c = image.getRGB(x, y);
                sum[0] += (c >> 16) & 255;
                sum[1] += (c >> 8) & 255;
                sum[2] += c & 255;
            }
        }
        int n = (y1 - y0) * image.getWidth();
        return new double[] {sum[0] / n, sum[1] / n, sum[2] / n};
    }

    /** The largest of the three channel differences between two RGB pixels. */
    static int largestChannelChange(int a, int b) {
        int change = 0;
        for (int shift = 0; shift <= 16; shift += 8) change = Math.max(change, Math.abs(((a >> shift) & 255) - ((b >> shift) & 255)));
        return change;
    }
}
