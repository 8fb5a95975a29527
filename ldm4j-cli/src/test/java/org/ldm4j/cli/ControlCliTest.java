package org.ldm4j.cli;

import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.ldm4j.pipeline.TinyControl;
import org.ldm4j.pipeline.TinyStableDiffusion;

import javax.imageio.ImageIO;
import java.awt.image.BufferedImage;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

import static org.junit.jupiter.api.Assertions.*;

/** txt2img with a tiny ControlNet and a tiny T2I-Adapter, written in diffusers layout, through the CLI. */
class ControlCliTest {
    @TempDir static Path dir;
    static Path model, controlnet, adapter, edges, small;

    @BeforeAll static void write() throws Exception {
        model = TinyStableDiffusion.write(dir.resolve("tiny"), 0);
        Path[] parts = TinyControl.writeFor(model, dir, 4);
        controlnet = parts[0];
        adapter = parts[1];
        edges = png("edges.png", 16);
        small = png("small.png", 8);
    }

    static Path png(String name, int side) throws Exception {
        BufferedImage img = new BufferedImage(side, side, BufferedImage.TYPE_INT_RGB);
        for (int y = 0; y < side; y++) for (int x = 0; x < side; x++) img.setRGB(x, y, (x + y) % 3 == 0 ? 0xffffff : 0x000000);
        Path p = dir.resolve(name);
        ImageIO.write(img, "png", p.toFile());
        return p;
    }

    static String[] txt2img(String out, String... extra) {
        List<String> a = new ArrayList<>(List.of("txt2img", "--model", model.toString(), "--prompt", "a red house",
                "--steps", "3", "--scheduler", "ddim", "--seed", "2", "--out", dir.resolve(out).toString()));
        a.addAll(List.of(extra));
        return a.toArray(new String[0]);
    }

    @Test void controlNetAndAdapterChangeTheImage() throws Exception {
        CliTest.Result plain = CliTest.run(txt2img("plain.png"));
        assertEquals(0, plain.code(), plain.err());
        CliTest.Result cn = CliTest.run(txt2img("cn.png", "--controlnet", controlnet.toString(), "--control-image", edges.toString(),
                "--control-scale", "1.5"));
        assertEquals(0, cn.code(), cn.err());
        CliTest.Result ad = CliTest.run(txt2img("ad.png", "--adapter", adapter.toString(), "--adapter-image", edges.toString()));
        assertEquals(0, ad.code(), ad.err());
        CliTest.Result both = CliTest.run(txt2img("both.png", "--controlnet", controlnet.toString(), "--control-image", edges.toString(),
                "--guess-mode", "--adapter", adapter.toString(), "--adapter-image", edges.toString(), "--adapter-scale", "0.5"));
        assertEquals(0, both.code(), both.err());
        int[] p = CliTest.pixels(dir.resolve("plain.png"));
        assertFalse(Arrays.equals(p, CliTest.pixels(dir.resolve("cn.png"))), "the ControlNet changes the image");
        assertFalse(Arrays.equals(p, CliTest.pixels(dir.resolve("ad.png"))), "the adapter changes the image");
        assertFalse(Arrays.equals(CliTest.pixels(dir.resolve("cn.png")), CliTest.pixels(dir.resolve("both.png"))));
    }

    @Test void badControlInputsAreOneLineErrors() {
        String[][] cases = {
                {"--controlnet", "x", "--control-image", small.toString()},
                {"--controlnet", "PLACEHOLDER_CN", "--control-image", "PLACEHOLDER_SMALL"},
                {"--controlnet", "PLACEHOLDER_UNET", "--control-image", "PLACEHOLDER_EDGES"},
                {"--controlnet", "PLACEHOLDER_CN"},
                {"--adapter", "PLACEHOLDER_CN", "--adapter-image", "PLACEHOLDER_EDGES"},
                {"--adapter", "PLACEHOLDER_AD", "--adapter-image", "missing.png"}};
        String[] expected = {"no such file or folder", "control image " + small + " is 8x8 but the output is 16x16",
                "UNet2DConditionModel config, not a ControlNetModel", "1 --controlnet but 0 --control-image",
                "this is a ControlNetModel config, not a T2IAdapter", "adapter image not found"};
        for (int i = 0; i < cases.length; i++) {
            String[] extra = Arrays.stream(cases[i]).map(s -> s.replace("PLACEHOLDER_CN", controlnet.toString())
                    .replace("PLACEHOLDER_SMALL", small.toString()).replace("PLACEHOLDER_UNET", model.resolve("unet").toString())
                    .replace("PLACEHOLDER_EDGES", edges.toString()).replace("PLACEHOLDER_AD", adapter.toString())).toArray(String[]::new);
            CliTest.Result r = CliTest.run(txt2img("bad.png", extra));
            assertEquals(2, r.code(), "case " + i + ": " + r.err());
            assertTrue(r.err().contains(expected[i]), "case " + i + " should mention '" + expected[i] + "': " + r.err());
            assertFalse(r.err().contains("\tat "), "no stack trace: " + r.err());
        }
    }
}
