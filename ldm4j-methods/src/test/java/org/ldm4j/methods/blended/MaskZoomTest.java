package org.ldm4j.methods.blended;

import org.bytedeco.pytorch.Scalar;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch;
import org.junit.jupiter.api.Test;
import org.ldm4j.nn.Rng;

import static org.junit.jupiter.api.Assertions.*;

/** The box a small mask is edited in: where it lies, when there is none, and that cutting and pasting keep the rest. */
class MaskZoomTest {
    static Tensor mask(int h, int w, int y0, int y1, int x0, int x1) {   // rows y0..y1, columns x0..x1 inclusive
        Tensor m = torch.zeros(1, 1, h, w);
        m.narrow(2, y0, y1 - y0 + 1).narrow(3, x0, x1 - x0 + 1).fill_(new Scalar(1.0));
        return m;
    }

    @Test void theBoxIsContextTimesTheMaskCentredOnItAndInsideTheImage() {
        // 4x8 mask at rows 10..13, columns 40..47 of 64x64: the box side is 3 x 8 = 24, centred on (12, 44)
        assertEquals(new MaskZoom(0, 32, 24, 24, 64, 64), MaskZoom.around(mask(64, 64, 10, 13, 40, 47), 3));
        // in a corner the box is pushed inside the image, still holding the mask
        assertEquals(new MaskZoom(0, 40, 24, 24, 64, 64), MaskZoom.around(mask(64, 64, 0, 7, 56, 63), 3));
        // a wide image keeps its aspect: the box is 3 x 4/32 of each side
        assertEquals(new MaskZoom(8, 18, 12, 24, 32, 64), MaskZoom.around(mask(32, 64, 12, 15, 28, 31), 3));
        // a single pixel: the box stops at 1/8 of the side (more would magnify the input's pixels)
        assertEquals(new MaskZoom(29, 29, 8, 8, 64, 64), MaskZoom.around(mask(64, 64, 32, 32, 32, 32), 3));   // centre 32.5
    }

    @Test void largeMasksAndZoomOffEditTheWholeImage() {
        assertNull(MaskZoom.around(mask(64, 64, 10, 13, 40, 47), 0));
        assertNull(MaskZoom.around(mask(64, 64, 0, 15, 0, 15), 3));   // 3 x 16/64 = 0.75 of the side
        assertNotNull(MaskZoom.around(mask(64, 64, 0, 14, 0, 14), 3));
        String msg = assertThrows(IllegalArgumentException.class, () -> MaskZoom.around(mask(64, 64, 1, 1, 1, 1), 1.2)).getMessage();
        assertTrue(msg.contains("zoom context must be 0 (off) or >= 1.5"), msg);
        assertThrows(IllegalArgumentException.class, () -> BlendSettings.recommended().withZoom(-3));
        assertThrows(IllegalArgumentException.class, () -> new MaskZoom(50, 0, 24, 24, 64, 64));
    }

    @Test void enlargeThenPasteKeepsTheOutsideExactlyAndTheBoxClose() {
        MaskZoom zoom = new MaskZoom(8, 16, 16, 16, 64, 64);
        Tensor image = new Rng(1).rand(1, 3, 64, 64);
        Tensor big = zoom.enlarge(image);
        assertArrayEquals(new long[]{1, 3, 64, 64}, big.sizes().vec().get());
        Tensor back = zoom.paste(big, image);
        Tensor box = torch.zeros(1, 1, 64, 64);
        box.narrow(2, 8, 16).narrow(3, 16, 16).fill_(new Scalar(1.0));
        Tensor out = box.neg().add(new Scalar(1.0));
        assertTrue(torch.equal(back.mul(out), image.mul(out)), "outside the box: the input, bit for bit");
        // x4 bilinear up, then 4x4 area means down: each pixel comes back as a blend with its neighbours
        double err = back.sub(image).abs().mul(box).max().item_double();
        assertTrue(err < 0.6, "inside the box within a neighbour blend: " + err);
        Tensor flat = torch.full(new long[]{1, 3, 64, 64}, new Scalar(0.25));
        assertTrue(zoom.paste(zoom.enlarge(flat), flat).sub(flat).abs().max().item_double() < 1e-6, "a flat image comes back");
        // the enlarged mask is binary and as large as the image
        Tensor m = zoom.enlargeMask(mask(64, 64, 12, 19, 20, 27));
        assertEquals(64 * 64 / 4, (long) m.sum().item_double(), 64 * 2, "a quarter of the box, enlarged x4");
        assertEquals(0, m.ne(new Scalar(0)).logical_and(m.ne(new Scalar(1))).sum().item_long());
    }
}
