package org.ldm4j.studio;

import javax.imageio.ImageIO;
import javax.imageio.ImageReader;
import javax.imageio.stream.ImageInputStream;
import java.awt.color.ColorSpace;
import java.awt.image.BufferedImage;
import java.awt.image.Raster;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.util.Base64;
import java.util.Iterator;

/** PNG data URLs ({@code data:image/png;base64,...}) as the page's canvas exports them, and back. */
public final class DataUrls {
    static final String PNG_PREFIX = "data:image/png;base64,";

    private DataUrls() {}

    public static String png(byte[] png) {
        return PNG_PREFIX + Base64.getEncoder().encodeToString(png);
    }

    /**
     * Decodes a PNG data URL to 8-bit RGB, translucent pixels composited on white.
     * The size is read from the header before the pixels are, so a small file claiming a huge image is refused
     * without allocating it.
     */
    public static BufferedImage decodePng(String dataUrl, String field, int maxSide) {
        return toRgb(readPng(bytes(dataUrl, field), field, maxSide));
    }

    /** {@link #decodePng(String, String, int)} on raw PNG bytes. */
    public static BufferedImage decodePng(byte[] bytes, String field, int maxSide) {
        return toRgb(readPng(bytes, field, maxSide));
    }

    /**
     * The PNG as stored, alpha kept: for masks, where a translucent pixel must not turn white (= edit) as it would
     * composited on white ({@code Images.maskToTensor} reads alpha itself).
     */
    public static BufferedImage decodePngWithAlpha(String dataUrl, String field, int maxSide) {
        return readPng(bytes(dataUrl, field), field, maxSide);
    }

    private static byte[] bytes(String dataUrl, String field) {
        if (!dataUrl.startsWith(PNG_PREFIX)) throw ApiError.badRequest(field + " must be a data URL starting with " + PNG_PREFIX);
        try {
            return Base64.getDecoder().decode(dataUrl.substring(PNG_PREFIX.length()));
        } catch (IllegalArgumentException e) {
            throw ApiError.badRequest(field + " is not valid base64: " + e.getMessage());
        }
    }

    private static BufferedImage readPng(byte[] bytes, String field, int maxSide) {
        try (ImageInputStream in = ImageIO.createImageInputStream(new ByteArrayInputStream(bytes))) {
            Iterator<ImageReader> readers = ImageIO.getImageReadersByFormatName("png");
            ImageReader reader = readers.next();
            try {
                reader.setInput(in, true, true);
                int w = reader.getWidth(0), h = reader.getHeight(0);
                if (w > maxSide || h > maxSide) {
                    throw new ApiError(413, field + " is " + w + "x" + h + ", larger than the limit of " + maxSide
                            + " pixels a side");
                }
                return reader.read(0);
            } finally {
                reader.dispose();
            }
        } catch (IOException | RuntimeException e) {
            if (e instanceof ApiError api) throw api;
            throw ApiError.badRequest(field + " is not a readable PNG: " + e.getMessage());
        }
    }

    /**
     * Grey images are read from the raster: through {@code getRGB} Java would treat their samples as linear and
     * brighten them (see {@link org.ldm4j.image.Images}).
     */
    private static BufferedImage toRgb(BufferedImage src) {
        int w = src.getWidth(), h = src.getHeight();
        Raster raster = src.getRaster();
        boolean grey = src.getColorModel().getColorSpace().getType() == ColorSpace.TYPE_GRAY;
        int bits = src.getColorModel().getComponentSize(0);
        BufferedImage out = new BufferedImage(w, h, BufferedImage.TYPE_INT_RGB);
        int[] rgb = new int[w * h];
        for (int y = 0; y < h; y++) {
            for (int x = 0; x < w; x++) {
                int r, g, b, a;
                if (grey) {
                    int v = raster.getSample(x, y, 0) >> Math.max(0, bits - 8);
                    r = g = b = v;
                    a = raster.getNumBands() > 1 ? raster.getSample(x, y, 1) >> Math.max(0, bits - 8) : 255;
                } else {
                    int argb = src.getRGB(x, y);
                    a = argb >>> 24;
                    r = argb >> 16 & 0xFF;
                    g = argb >> 8 & 0xFF;
                    b = argb & 0xFF;
                }
                rgb[y * w + x] = over(r, a) << 16 | over(g, a) << 8 | over(b, a);
            }
        }
        out.setRGB(0, 0, w, h, rgb, 0, w);
        return out;
    }

    /** {@code c·a + 255·(1−a)}, rounded: the colour over white. */
    private static int over(int c, int a) {
        return (c * a + 255 * (255 - a) + 127) / 255;
    }
}
