package org.ldm4j.methods.gradop;

import org.bytedeco.pytorch.Scalar;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.ldm4j.nn.Engine;
import org.ldm4j.nn.Rng;
import org.ldm4j.nn.Tensors;

import static org.junit.jupiter.api.Assertions.*;

class PaintingFunctionTest {
    @BeforeAll static void threads() { Engine.threads(1); }

    @Test void officialKernelMatchesTheFormulaAndTheBriefsValues() {
        float[] g = GaussianBlur.kernel1d(35, 7.0);
        double sum = 0;
        for (float v : g) sum += v;
        assertEquals(1.0, sum, 1e-6);
        for (int i = 0; i < 35; i++) assertEquals(g[i], g[34 - i], 0.0, "symmetric at " + i);
        // torchvision / kornia: exp(-(i-17)^2 / (2*49)), normalised; centre, neighbour and tail from the brief
        assertEquals(0.057704, g[17], 1e-6);
        assertEquals(0.057118, g[16], 1e-6);
        assertEquals(0.003023, g[0], 1e-6);
        for (int i = 0; i < 35; i++) assertEquals(Math.exp(-(i - 17) * (i - 17) / 98.0), g[i] / g[17], 1e-5);
    }

    @Test void blurIsA2dCorrelationWithReflectPaddingThatDoesNotRepeatTheEdge() {
        Rng rng = new Rng(3);
        Tensor x = rng.randn(1, 3, 9, 11);
        GaussianBlur blur = new GaussianBlur(5, 1.3);
        float[] out = Tensors.toFloats(blur.paint(x));
        float[] in = Tensors.toFloats(x);
        float[] k = GaussianBlur.kernel1d(5, 1.3);
        int h = 9, w = 11;
        for (int c = 0; c < 3; c++) {
            for (int i = 0; i < h; i++) {
                for (int j = 0; j < w; j++) {
                    double acc = 0;
                    for (int a = -2; a <= 2; a++) {
                        for (int b = -2; b <= 2; b++) {
                            acc += k[a + 2] * k[b + 2] * in[c * h * w + reflect(i + a, h) * w + reflect(j + b, w)];
                        }
                    }
                    assertEquals(acc, out[c * h * w + i * w + j], 1e-5, "pixel " + c + "," + i + "," + j);
                }
            }
        }
    }

    /** BORDER_REFLECT_101: -1 -> 1, n -> n-2. */
    private static int reflect(int i, int n) { return i < 0 ? -i : i >= n ? 2 * n - 2 - i : i; }

    @Test void blurTooLargeForTheImageIsAClearError() {
        Tensor x = torch.zeros(1, 3, 16, 16);
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> new GaussianBlur(35, 7).paint(x));
        assertTrue(e.getMessage().contains("blur kernel 35"), e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> new GaussianBlur(4, 1));
    }

    @Test void loweredResolutionShrinksTheKernel() {
        Tensor y = torch.zeros(1, 3, 64, 64);
        GaussianBlur full = (GaussianBlur) PaintingFunction.create(PaintingSettings.official(), y, 1);
        GaussianBlur half = (GaussianBlur) PaintingFunction.create(PaintingSettings.official(), y, 2);
        assertEquals(35, full.kernelSize());
        assertEquals(7.0, full.sigma());
        assertEquals(19, half.kernelSize());   // round(17.5) = 18 -> odd 19
        assertEquals(3.5, half.sigma());
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> PaintingFunction.create(PaintingSettings.official().withFunction("sketch"), y, 1));
        assertTrue(e.getMessage().contains("sketch"));
    }

    @Test void medianPaletteSnapsToThePaintingsColoursAndPassesGradientStraightThrough() {
        // painting: left half red, right half blue, one anti-aliased column of purple (rare: not in the palette)
        float[] px = new float[3 * 16 * 16];
        for (int i = 0; i < 16; i++) {
            for (int j = 0; j < 16; j++) {
                int o = i * 16 + j;
                if (j < 8) px[o] = 1f; else px[2 * 256 + o] = 1f;
                if (j == 8 && i == 0) { px[o] = 0.5f; px[2 * 256 + o] = 0.5f; }
            }
        }
        Tensor painting = Tensors.ofFloats(px, 1, 3, 16, 16);
        float[][] palette = MedianPalette.paletteOf(painting, 16, 0.01);
        assertEquals(2, palette.length, "purple edge pixel is below the coverage threshold");
        MedianPalette f = new MedianPalette(3, palette);
        // a noisy version of the painting: the median removes salt noise, the snap restores exact colours
        Tensor noisy = painting.add(new Rng(1).randn(1, 3, 16, 16).mul(new Scalar(0.05)))
                .clamp(new org.bytedeco.pytorch.ScalarOptional(new Scalar(0)), new org.bytedeco.pytorch.ScalarOptional(new Scalar(1)));
        noisy.requires_grad_(true);
        Tensor out = f.paint(noisy);
        float[] o = Tensors.toFloats(out);
        for (int i = 0; i < 256; i++) {
            boolean red = o[i] == 1f && o[256 + i] == 0f && o[512 + i] == 0f;
            boolean blue = o[i] == 0f && o[256 + i] == 0f && o[512 + i] == 1f;
            assertTrue(red || blue, "pixel " + i + " is a palette colour");
        }
        assertTrue(out.sub(painting).abs().max().item_double() == 0.0 || out.sub(painting).abs().sum().item_double() <= 2 * 3,
                "at most the anti-aliased pixel differs");
        out.sum().backward();
        // straight-through: each output value's gradient 1 goes to the window element the median selected
        assertEquals(3 * 256, noisy.grad().sum().item_double(), 1e-6);
    }

    @Test void emptyPaletteIsAClearError() {
        Tensor gradient = torch.linspace(new Scalar(0), new Scalar(1), 256).reshape(1, 1, 16, 16).expand(1, 3, 16, 16).contiguous();
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> MedianPalette.paletteOf(gradient, 8, 0.1));
        assertTrue(e.getMessage().contains("palette is empty"), e.getMessage());
    }
}
