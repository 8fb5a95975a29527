package org.ldm4j.image;

import com.code_intelligence.jazzer.junit.FuzzTest;
import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.Tensor;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.ldm4j.reliability.FuzzContract;

import java.awt.image.BufferedImage;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Fuzzes {@link Images#readImage(Path)} and {@link Images#readMask(Path)} (ImageIO decoding of PNG, JPEG, BMP, GIF,
 * then compositing / mask thresholding). Contract (their javadoc): an unreadable file is an IOException naming the
 * path; a decoded image has the decoder's size and the mask is (1, 1, H, W). A few header bytes must not make the
 * decoder allocate a huge raster (the declared size is checked before decoding).
 */
class ImagesFuzzTest {
    private static Path file;

    /**
     * 256 x 256 for the campaign (restored after): a 38-byte GIF may declare 20037 x 512 pixels, which ImageIO then
     * fills (349 ms); the size check itself is the same code at any limit, and the fuzzer's time goes to headers.
     */
    @BeforeAll static void setUp() throws IOException {
        file = FuzzContract.scratchFile(".img");
        System.setProperty("ldm4j.image.maxPixels", Long.toString(256 * 256));
    }

    @AfterAll static void restoreLimit() {
        System.clearProperty("ldm4j.image.maxPixels");
    }

    @FuzzTest(maxDuration = "5m")
    void readImageAndMask(byte[] bytes) throws IOException {
        Files.write(file, bytes);
        FuzzContract.check("Images.readImage", () -> {
            BufferedImage image = Images.readImage(file);
            try (PointerScope scope = new PointerScope()) {
                Tensor mask = Images.readMask(file);
                assertEquals(image.getHeight(), mask.size(2));
                assertEquals(image.getWidth(), mask.size(3));
            }
        }, IOException.class);
    }

    /** The finding behind {@link Images#MAX_PIXELS}: a 69-byte PNG declaring 12000 x 12000 RGBA pixels. */
    @Test void aTinyFileDeclaringAHugeImageIsRefusedBeforeDecoding() throws IOException {
        Path bomb = Path.of("src/test/resources/org/ldm4j/image/ImagesFuzzTestInputs/readImageAndMask/bomb_12000x12000");
        Files.copy(bomb, file, StandardCopyOption.REPLACE_EXISTING);
        long t0 = System.nanoTime();
        IOException e = assertThrows(IOException.class, () -> Images.readImage(file));
        assertTrue(e.getMessage().contains("12000x12000") && e.getMessage().contains(file.toString()), e.getMessage());
        assertThrows(IOException.class, () -> Images.readMask(file));
        assertTrue(System.nanoTime() - t0 < 2_000_000_000L, "refused without decoding");
    }
}
