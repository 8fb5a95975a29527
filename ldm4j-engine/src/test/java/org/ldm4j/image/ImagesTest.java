package org.ldm4j.image;

import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.ldm4j.nn.Rng;

import javax.imageio.ImageIO;
import java.awt.Color;
import java.awt.image.BufferedImage;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.List;

import static org.junit.jupiter.api.Assertions.*;

class ImagesTest {
    @BeforeAll static void threads() { torch.set_num_threads(1); }

    static float[] floats(Tensor t) {
        Tensor c = t.contiguous().to(torch.ScalarType.Float);
        float[] out = new float[(int) c.numel()];
        c.data_ptr_float().get(out);
        return out;
    }

    static byte[] bytes(Tensor t) {
        Tensor c = t.contiguous();
        byte[] out = new byte[(int) c.numel()];
        c.data_ptr_byte().get(out);
        return out;
    }

    /** Every uint8 value in every channel, at different places per channel. */
    static BufferedImage allValues() {
        BufferedImage img = new BufferedImage(64, 4, BufferedImage.TYPE_INT_RGB);
        for (int y = 0; y < 4; y++) for (int x = 0; x < 64; x++) {
            int v = y * 64 + x;
            img.setRGB(x, y, v << 16 | (255 - v) << 8 | (v * 7) % 256);
        }
        return img;
    }

    @Test void imageToTensorIsDiffusersPreprocessAndRoundTripsExactly() {
        BufferedImage img = allValues();
        Tensor t = Images.toTensor(img);
        assertArrayEquals(new long[]{1, 3, 4, 64}, t.sizes().vec().get());
        float[] v = floats(t);
        for (int y = 0; y < 4; y++) for (int x = 0; x < 64; x++) {
            int rgb = img.getRGB(x, y);
            for (int c = 0; c < 3; c++) {
                int u8 = (rgb >> (16 - 8 * c)) & 0xFF;
                assertEquals(2f * (u8 / 255f) - 1f, v[c * 256 + y * 64 + x], 0f);
            }
        }
        assertEquals(-1f, v[0], 0f);
        BufferedImage back = Images.toImage(t);
        for (int y = 0; y < 4; y++) for (int x = 0; x < 64; x++) assertEquals(img.getRGB(x, y), back.getRGB(x, y));
    }

    @Test void quantizeRoundsHalfToEvenLikeNumpy() {
        float two5 = findExactProduct(2.5f), three5 = findExactProduct(3.5f);
        Tensor unit = Images.floatTensor(new float[]{two5, three5, 254.7f / 255f, 0.4f / 255f, 0.6f / 255f, 1f, 0f}, 7);
        byte[] q = bytes(Images.quantize(unit));
        assertEquals(2, q[0]);                 // 2.5 -> 2 (half to even)
        assertEquals(4, q[1]);                 // 3.5 -> 4
        assertEquals((byte) 255, q[2]);        // truncation would give 254
        assertEquals(0, q[3]);
        assertEquals(1, q[4]);
        assertEquals((byte) 255, q[5]);
        assertEquals(0, q[6]);
    }

    /** A float d with d * 255f == target exactly, so the rounding rule decides the result. */
    static float findExactProduct(float target) {
        float d = target / 255f;
        for (int i = 0; i < 64; i++) {
            if (d * 255f == target) return d;
            d = d * 255f < target ? Math.nextUp(d) : Math.nextDown(d);
        }
        fail("no float d with d*255 == " + target);
        return 0;
    }

    @Test void postprocessMatchesReferenceFormulaOnRandomLatents() {
        Tensor x = new Rng(7).randn(2, 3, 8, 8).mul(new org.bytedeco.pytorch.Scalar(1.3));
        float[] v = floats(x);
        List<BufferedImage> images = Images.toImages(x);
        assertEquals(2, images.size());
        for (int n = 0; n < 2; n++) for (int c = 0; c < 3; c++) for (int y = 0; y < 8; y++) for (int xx = 0; xx < 8; xx++) {
            float d = Math.min(1f, Math.max(0f, v[((n * 3 + c) * 8 + y) * 8 + xx] * 0.5f + 0.5f));
            int expected = (int) Math.rint(d * 255f);
            int actual = (images.get(n).getRGB(xx, y) >> (16 - 8 * c)) & 0xFF;
            assertEquals(expected, actual, "n=" + n + " c=" + c + " y=" + y + " x=" + xx);
        }
        assertThrows(IllegalArgumentException.class, () -> Images.toImage(x));
        Tensor batch = Images.toTensor(images);
        assertArrayEquals(new long[]{2, 3, 8, 8}, batch.sizes().vec().get());
        assertEquals(images.get(1).getRGB(3, 5), Images.toImages(batch).get(1).getRGB(3, 5));
        assertThrows(IllegalArgumentException.class, () -> Images.toTensor(List.of(images.get(0), new BufferedImage(4, 8, 1))));
        assertThrows(IllegalArgumentException.class, () -> Images.toImages(torch.zeros(1, 2, 4, 4)));
    }

    @Test void greyTensorsBecomeGreyImages() {
        Tensor g = Images.floatTensor(new float[]{-1f, 0f, 1f, 0.5f}, 1, 1, 2, 2);
        BufferedImage img = Images.toImage(g);
        assertEquals(BufferedImage.TYPE_BYTE_GRAY, img.getType());
        int[] px = img.getRaster().getPixels(0, 0, 2, 2, (int[]) null);
        assertArrayEquals(new int[]{0, 128, 255, 191}, px);   // 127.5 -> 128 (even), 191.25 -> 191
    }

    static Path png(Path dir, String name, BufferedImage img) throws IOException {
        Path p = dir.resolve(name);
        assertTrue(ImageIO.write(img, "png", p.toFile()));
        return p;
    }

    static float[] mask(Path p) throws IOException {
        Tensor m = Images.readMask(p);
        assertEquals(4, m.dim());
        assertEquals(1, m.size(0));
        assertEquals(1, m.size(1));
        return floats(m);
    }

    @Test void aSystemPropertyCanOnlyLowerThePixelLimit(@TempDir Path dir) throws IOException {
        Path p = dir.resolve("20x20.png");
        assertTrue(ImageIO.write(new BufferedImage(20, 20, BufferedImage.TYPE_INT_RGB), "png", p.toFile()));
        try {
            System.setProperty("ldm4j.image.maxPixels", "399");
            IOException e = assertThrows(IOException.class, () -> Images.readImage(p));
            assertTrue(e.getMessage().contains("20x20") && e.getMessage().contains("399"), e.getMessage());
            System.setProperty("ldm4j.image.maxPixels", "400");
            assertEquals(20, Images.readImage(p).getWidth());
            System.setProperty("ldm4j.image.maxPixels", Long.toString(Long.MAX_VALUE));
            assertEquals(Images.MAX_PIXELS, Images.maxPixels());
        } finally {
            System.clearProperty("ldm4j.image.maxPixels");
        }
        assertEquals(Images.MAX_PIXELS, Images.maxPixels());
    }

    @Test void masksFromGreyRgbAndSixteenBitPngs(@TempDir Path dir) throws IOException {
        BufferedImage grey = new BufferedImage(4, 1, BufferedImage.TYPE_BYTE_GRAY);
        grey.getRaster().setPixels(0, 0, 4, 1, new int[]{0, 127, 128, 255});
        assertArrayEquals(new float[]{0, 0, 1, 1}, mask(png(dir, "g8.png", grey)));

        BufferedImage grey16 = new BufferedImage(4, 1, BufferedImage.TYPE_USHORT_GRAY);
        grey16.getRaster().setPixels(0, 0, 4, 1, new int[]{0, 32767, 40000, 65535});
        assertArrayEquals(new float[]{0, 0, 1, 1}, mask(png(dir, "g16.png", grey16)));

        BufferedImage rgb = new BufferedImage(4, 1, BufferedImage.TYPE_INT_RGB);
        rgb.setRGB(0, 0, 0x000000);
        rgb.setRGB(1, 0, 0xFFFFFF);
        rgb.setRGB(2, 0, 0x00FF00);   // luma 150 -> 1
        rgb.setRGB(3, 0, 0xFF0000);   // luma 76 -> 0
        assertArrayEquals(new float[]{0, 1, 1, 0}, mask(png(dir, "rgb.png", rgb)));
    }

    @Test void masksAreAlphaAware(@TempDir Path dir) throws IOException {
        BufferedImage strokes = new BufferedImage(3, 1, BufferedImage.TYPE_INT_ARGB);
        strokes.setRGB(0, 0, 0xFFFFFFFF);      // opaque white
        strokes.setRGB(1, 0, 0x00FFFFFF);      // transparent white: not masked
        strokes.setRGB(2, 0, 0x40FFFFFF);      // mostly transparent
        assertArrayEquals(new float[]{1, 0, 0}, mask(png(dir, "strokes.png", strokes)));

        BufferedImage alphaOnly = new BufferedImage(3, 1, BufferedImage.TYPE_INT_ARGB);
        alphaOnly.setRGB(0, 0, 0xFF000000);
        alphaOnly.setRGB(1, 0, 0x00000000);
        alphaOnly.setRGB(2, 0, 0xC0000000);
        assertArrayEquals(new float[]{1, 0, 1}, mask(png(dir, "alpha.png", alphaOnly)));
    }

    @Test void readImageKeepsGreyValuesAndCompositesAlpha(@TempDir Path dir) throws IOException {
        BufferedImage grey = new BufferedImage(2, 1, BufferedImage.TYPE_BYTE_GRAY);
        grey.getRaster().setPixels(0, 0, 2, 1, new int[]{100, 200});
        BufferedImage g = Images.readImage(png(dir, "g.png", grey));
        assertEquals(0x646464, g.getRGB(0, 0) & 0xFFFFFF);   // raw 100, no linear->sRGB brightening
        assertEquals(0xC8C8C8, g.getRGB(1, 0) & 0xFFFFFF);

        BufferedImage rgba = new BufferedImage(2, 1, BufferedImage.TYPE_INT_ARGB);
        rgba.setRGB(0, 0, 0x80FF0000);
        rgba.setRGB(1, 0, 0x00123456);
        Path p = png(dir, "rgba.png", rgba);
        BufferedImage onWhite = Images.readImage(p, Color.WHITE);
        assertEquals(0xFF7F7F, onWhite.getRGB(0, 0) & 0xFFFFFF);   // 255·a + 255·(1-a); 0·a + 255·(1-a) = 127
        assertEquals(0xFFFFFF, onWhite.getRGB(1, 0) & 0xFFFFFF);
        assertEquals(0x000000, Images.readImage(p, Color.BLACK).getRGB(1, 0) & 0xFFFFFF);
    }

    @Test void readErrorsNameThePath(@TempDir Path dir) throws IOException {
        Path missing = dir.resolve("nope.png");
        NoSuchFileException nf = assertThrows(NoSuchFileException.class, () -> Images.readImage(missing));
        assertTrue(nf.getMessage().contains("nope.png"));
        Path text = Files.writeString(dir.resolve("notes.png"), "hello, not a picture");
        IOException e = assertThrows(IOException.class, () -> Images.readImage(text));
        assertTrue(e.getMessage().contains("notes.png") && e.getMessage().contains("not an image"), e.getMessage());
        assertThrows(IOException.class, () -> Images.readMask(dir));
    }

    @Test void sizeChecks() {
        Images.requireMultipleOf(8, 512, 768);
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> Images.requireMultipleOf(8, 500, 512));
        assertTrue(e.getMessage().contains("500x512") && e.getMessage().contains("multiples of 8")
                && e.getMessage().contains("496x512") && e.getMessage().contains("504x512"), e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> Images.requireMultipleOf(8, 0, 512));
    }
}
