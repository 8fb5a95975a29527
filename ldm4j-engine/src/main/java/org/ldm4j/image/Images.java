package org.ldm4j.image;

import org.bytedeco.pytorch.MemoryFormatOptional;
import org.bytedeco.pytorch.Scalar;
import org.bytedeco.pytorch.ScalarOptional;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.TensorOptions;
import org.bytedeco.pytorch.global.torch;
import org.bytedeco.pytorch.global.torch.ScalarType;
import org.ldm4j.nn.Dtypes;

import javax.imageio.ImageIO;
import javax.imageio.ImageReader;
import javax.imageio.stream.ImageInputStream;
import java.awt.Color;
import java.awt.image.BufferedImage;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;

/**
 * Images and masks to and from libtorch tensors, following diffusers' {@code VaeImageProcessor}:
 * <ul>
 *   <li>preprocess: uint8 {@code x} -> {@code 2 * (x / 255) - 1}, float32, {@code (1, 3, H, W)};</li>
 *   <li>postprocess: {@code (x / 2 + 0.5).clamp(0, 1)}, then {@code (x * 255).round()} to uint8 (round half to
 *       even, as numpy; truncation would darken every image by half a level);</li>
 *   <li>masks: grey-scale, {@code / 255}, binarised at 0.5 (white = 1 = the region to change).</li>
 * </ul>
 * Pixels are read from the raster, not through {@code getRGB}: Java's colour model treats grey PNGs as linear and
 * would gamma-brighten them, and 16-bit samples would be rounded twice.
 */
public final class Images {
    private Images() {}

    /** {@code (1, 3, H, W)} float32 in [-1, 1] on the CPU; alpha is ignored (composite first, see {@link #readImage}). */
    public static Tensor toTensor(BufferedImage image) {
        int w = image.getWidth(), h = image.getHeight();
        float[] rgba = Pixels.rgba8(image);
        float[] chw = new float[3 * h * w];
        for (int i = 0; i < h * w; i++) {
            for (int c = 0; c < 3; c++) chw[c * h * w + i] = 2f * (rgba[4 * i + c] / 255f) - 1f;   // numpy float32 order
        }
        return floatTensor(chw, 1, 3, h, w);
    }

    /** A batch {@code (B, 3, H, W)} of equally sized images, each preprocessed as {@link #toTensor(BufferedImage)}. */
    public static Tensor toTensor(List<BufferedImage> images) {
        if (images.isEmpty()) throw new IllegalArgumentException("empty image batch");
        int w = images.get(0).getWidth(), h = images.get(0).getHeight();
        float[] all = new float[images.size() * 3 * h * w];
        for (int n = 0; n < images.size(); n++) {
            BufferedImage img = images.get(n);
            if (img.getWidth() != w || img.getHeight() != h) {
                throw new IllegalArgumentException("batch image " + n + " is " + img.getWidth() + "x" + img.getHeight()
                        + ", image 0 is " + w + "x" + h);
            }
            float[] one = new float[3 * h * w];
            toTensor(img).data_ptr_float().get(one);
            System.arraycopy(one, 0, all, n * one.length, one.length);
        }
        return floatTensor(all, images.size(), 3, h, w);
    }

    /** The images of a batch tensor {@code (B, 3|1, H, W)} or one {@code (3|1, H, W)} in [-1, 1]; any device and dtype. */
    public static List<BufferedImage> toImages(Tensor images) {
        Tensor u8 = quantize(images.to(new org.bytedeco.pytorch.Device("cpu"), images.scalar_type())
                .mul(new Scalar(0.5)).add(new Scalar(0.5)).clamp(min(0), max(1)));
        return fromUint8(u8);
    }

    /** The single image of {@code (1, C, H, W)} or {@code (C, H, W)}. */
    public static BufferedImage toImage(Tensor image) {
        List<BufferedImage> all = toImages(image);
        if (all.size() != 1) throw new IllegalArgumentException("expected one image, tensor holds " + all.size());
        return all.get(0);
    }

    /**
     * diffusers' {@code numpy_to_pil} quantisation of values in [0, 1]: float32, {@code * 255}, round half to even,
     * uint8. Exposed so parity tests can reach it without the denormalisation.
     */
    public static Tensor quantize(Tensor unit) {
        return unit.to(ScalarType.Float).mul(new Scalar(255f)).round().to(ScalarType.Byte);
    }

    /** A mask {@code (1, 1, H, W)} float32 in {0, 1} from a PNG; see {@link #maskToTensor}. */
    public static Tensor readMask(Path path) throws IOException {
        return maskToTensor(read(path));
    }

    /**
     * A binary mask {@code (1, 1, H, W)}: PIL's "L" luma ({@code (19595 R + 38470 G + 7471 B + 2^15) >> 16} on 8-bit
     * values), {@code / 255}, 1 where {@code >= 0.5}. Alpha-aware: a translucent pixel counts as its colour over
     * black, and an image whose colour is the same everywhere while alpha varies (a painted alpha mask) uses alpha.
     */
    public static Tensor maskToTensor(BufferedImage image) {
        int w = image.getWidth(), h = image.getHeight();
        float[] rgba = Pixels.rgba8(image);
        boolean uniformColour = true;
        for (int i = 1; i < h * w && uniformColour; i++) {
            for (int c = 0; c < 3; c++) if (rgba[4 * i + c] != rgba[c]) uniformColour = false;
        }
        boolean alphaVaries = false;
        for (int i = 1; i < h * w && !alphaVaries; i++) alphaVaries = rgba[4 * i + 3] != rgba[3];
        float[] mask = new float[h * w];
        for (int i = 0; i < h * w; i++) {
            float a = rgba[4 * i + 3] / 255f;
            int luma = (int) ((19595L * Math.round(rgba[4 * i]) + 38470L * Math.round(rgba[4 * i + 1])
                    + 7471L * Math.round(rgba[4 * i + 2]) + 0x8000) >> 16);
            float value = uniformColour && alphaVaries ? a : (luma / 255f) * a;
            mask[i] = value >= 0.5f ? 1f : 0f;
        }
        return floatTensor(mask, 1, 1, h, w);
    }

    /** Reads an image and composites any transparency on white. */
    public static BufferedImage readImage(Path path) throws IOException { return readImage(path, Color.WHITE); }

    /**
     * Reads an image as 8-bit RGB, translucent pixels composited on {@code background} ({@code c·a + bg·(1-a)},
     * rounded). Grey, palette, RGB(A), 8- and 16-bit PNGs are supported, and whatever else ImageIO reads.
     */
    public static BufferedImage readImage(Path path, Color background) throws IOException {
        BufferedImage src = read(path);
        int w = src.getWidth(), h = src.getHeight();
        BufferedImage out = new BufferedImage(w, h, BufferedImage.TYPE_INT_RGB);
        int[] argb = Pixels.compositeRgb(Pixels.rgba8(src), background);
        out.setRGB(0, 0, w, h, argb, 0, w);
        return out;
    }

    /** Writes a plain PNG atomically (no text chunks; see {@link PngParameters} for those). */
    public static void writePng(BufferedImage image, Path path) throws IOException {
        AtomicFiles.write(path, out -> {
            if (!ImageIO.write(image, "png", out)) throw new IOException("no PNG writer for image type " + image.getType());
        });
    }

    /** Fails unless both sides are multiples of {@code multiple} (8 for SD's VAE), suggesting the nearest sizes. */
    public static void requireMultipleOf(int multiple, int width, int height) {
        if (width <= 0 || height <= 0) throw new IllegalArgumentException("image size must be positive, got " + width + "x" + height);
        if (width % multiple == 0 && height % multiple == 0) return;
        int w0 = Math.max(multiple, width / multiple * multiple), h0 = Math.max(multiple, height / multiple * multiple);
        throw new IllegalArgumentException("width and height must be multiples of " + multiple + ", got " + width + "x"
                + height + " (nearest: " + w0 + "x" + h0 + " or " + (w0 + (width % multiple == 0 ? 0 : multiple)) + "x"
                + (h0 + (height % multiple == 0 ? 0 : multiple)) + ")");
    }

    /**
     * Largest image {@link #readImage}/{@link #readMask} decode, in pixels (4096 x 4096; SD works at 2048 a side at most).
     * ImageIO allocates the whole raster from the header before reading any pixel data, so without this check a
     * 69-byte PNG declaring 12000 x 12000 made the JVM allocate 576 MB (found by ImagesFuzzTest).
     */
    public static final long MAX_PIXELS = 4096L * 4096L;

    /**
     * The limit in force: {@link #MAX_PIXELS}, or lower where the system property {@code ldm4j.image.maxPixels} says so
     * (a server that only works at small sizes; the fuzz campaign, so that its time goes to headers rather than to
     * ImageIO filling 16-megapixel rasters). It can only lower the limit.
     */
    public static long maxPixels() {
        Long configured = Long.getLong("ldm4j.image.maxPixels");
        return configured == null || configured < 1 ? MAX_PIXELS : Math.min(configured, MAX_PIXELS);
    }

    /** Decodes any ImageIO-readable file, with errors that name the path; the declared size is checked first. */
    static BufferedImage read(Path path) throws IOException {
        if (!Files.exists(path)) throw new NoSuchFileException(path.toString(), null, "image file not found");
        if (!Files.isRegularFile(path)) throw new IOException(path + " is not a regular file");
        BufferedImage image;
        try (ImageInputStream in = ImageIO.createImageInputStream(path.toFile())) {
            Iterator<ImageReader> readers = in == null ? null : ImageIO.getImageReaders(in);
            if (readers == null || !readers.hasNext()) {
                throw new IOException(path + ": not an image in a supported format (PNG, JPEG, BMP, GIF)");
            }
            ImageReader reader = readers.next();
            try {
                reader.setInput(in, true, true);
                long w = reader.getWidth(0), h = reader.getHeight(0);
                long limit = maxPixels();
                if (w < 1 || h < 1 || w * h > limit) {
                    throw new IOException(path + ": image declares " + w + "x" + h + " pixels; the limit is " + limit
                            + " pixels" + (limit == MAX_PIXELS ? " (4096x4096)" : " (ldm4j.image.maxPixels)"));
                }
                image = reader.read(0);
            } finally {
                reader.dispose();
            }
        } catch (IOException e) {
            if (e.getMessage() != null && e.getMessage().startsWith(path.toString())) throw e;
            throw new IOException(path + ": cannot decode image: " + e.getMessage(), e);
        } catch (RuntimeException e) {
            throw new IOException(path + ": cannot decode image: " + e.getMessage(), e);
        }
        if (image == null) throw new IOException(path + ": not an image in a supported format (PNG, JPEG, BMP, GIF)");
        return image;
    }

    private static List<BufferedImage> fromUint8(Tensor u8) {
        long dims = u8.dim();
        if (dims == 3) u8 = u8.unsqueeze(0);
        if (u8.dim() != 4 || (u8.size(1) != 3 && u8.size(1) != 1)) {
            throw new IllegalArgumentException("expected (B, 3|1, H, W) or (3|1, H, W), got " + java.util.Arrays.toString(u8.sizes().vec().get()));
        }
        int b = (int) u8.size(0), c = (int) u8.size(1), h = (int) u8.size(2), w = (int) u8.size(3);
        Tensor hwc = u8.permute(0, 2, 3, 1).contiguous();
        byte[] data = new byte[b * h * w * c];
        hwc.data_ptr_byte().get(data);
        List<BufferedImage> out = new ArrayList<>(b);
        for (int n = 0; n < b; n++) {
            BufferedImage img = new BufferedImage(w, h, c == 3 ? BufferedImage.TYPE_INT_RGB : BufferedImage.TYPE_BYTE_GRAY);
            if (c == 1) {
                img.getRaster().setDataElements(0, 0, w, h, java.util.Arrays.copyOfRange(data, n * h * w, (n + 1) * h * w));
            } else {
                int[] argb = new int[h * w];
                for (int i = 0, o = n * h * w * 3; i < h * w; i++, o += 3) {
                    argb[i] = (data[o] & 0xFF) << 16 | (data[o + 1] & 0xFF) << 8 | (data[o + 2] & 0xFF);
                }
                img.setRGB(0, 0, w, h, argb, 0, w);
            }
            out.add(img);
        }
        return out;
    }

    static Tensor floatTensor(float[] data, long... shape) {
        Tensor t = torch.empty(shape, new TensorOptions().dtype(Dtypes.optional(ScalarType.Float)), new MemoryFormatOptional());
        t.data_ptr_float().put(data);
        return t;
    }

    private static ScalarOptional min(double v) { return new ScalarOptional(new Scalar(v)); }
    private static ScalarOptional max(double v) { return new ScalarOptional(new Scalar(v)); }
}
