package org.ldm4j.cli;

import com.fasterxml.jackson.databind.JsonNode;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.ldm4j.image.PngParameters;
import org.ldm4j.pipeline.TinyStableDiffusion;

import javax.imageio.ImageIO;
import java.awt.image.BufferedImage;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.*;

/** stroke2img end to end on the tiny model (16x16 images, VAE factor 2). */
class Stroke2ImgCommandTest {
    @TempDir static Path dir;
    static Path model, painting;

    @BeforeAll static void setUp() throws Exception {
        model = TinyStableDiffusion.write(dir.resolve("tiny"), 0);
        painting = paint(dir.resolve("strokes.png"), 16, 16);
    }

    /** Left half opaque red, right half transparent (composited on the background). */
    static Path paint(Path p, int w, int h) throws Exception {
        BufferedImage img = new BufferedImage(w, h, BufferedImage.TYPE_INT_ARGB);
        for (int y = 0; y < h; y++) for (int x = 0; x < w; x++) img.setRGB(x, y, x < w / 2 ? 0xFFFF0000 : 0x00000000);
        ImageIO.write(img, "png", p.toFile());
        return p;
    }

    static String[] args(String out, String... extra) {
        List<String> a = new ArrayList<>(List.of("stroke2img", "--model", model.toString(), "--painting", painting.toString(),
                "--prompt", "a red house a blue tree", "--steps", "6", "--out", dir.resolve(out).toString()));
        a.addAll(List.of(extra));
        return a.toArray(new String[0]);
    }

    /** GradOP methods: the official 35-pixel blur does not fit 16x16 images. */
    static String[] gradop(String out, String... extra) {
        List<String> a = new ArrayList<>(List.of(args(out, extra)));
        a.addAll(List.of("--blur-kernel", "5", "--blur-sigma", "1"));
        return a.toArray(new String[0]);
    }

    @Test void gradOpPlusWritesAPngWithItsSettingsAndReportsMemory() throws Exception {
        CliTest.Result r = CliTest.run(gradop("plus.png", "--grad-steps", "2", "--seed", "3", "--region", "#FF0000=red house"));
        assertEquals(0, r.code(), r.err());
        assertTrue(r.out().contains("optimisation 1: painting loss"), r.out());
        assertTrue(r.out().contains("peak memory"), r.out());
        PngParameters.Contents meta = PngParameters.read(dir.resolve("plus.png"));
        JsonNode req = meta.request();
        assertEquals("gradop+", req.get("method").asText());
        assertEquals("official", req.get("preset").asText());
        assertEquals(2, req.get("settings").get("gradSteps").asInt());
        assertEquals(3, req.get("settings").get("iterations").asInt());
        assertEquals("NOISY_LATENT", req.get("settings").get("optimised").asText());
        assertEquals(5, req.get("settings").get("painting").get("blurKernel").asInt());
        assertEquals(3, req.get("generation").get("seed").asLong());
        assertEquals("#FF0000=red house", req.get("regions").get(0).asText());
        assertEquals("DDIM", meta.fields().get("Sampler"));

        assertEquals(0, CliTest.run(gradop("plus2.png", "--grad-steps", "2", "--seed", "3", "--region", "#FF0000=red house")).code());
        assertArrayEquals(CliTest.pixels(dir.resolve("plus.png")), CliTest.pixels(dir.resolve("plus2.png")), "same seed, same pixels");
    }

    @Test void everyMethodRuns() {
        for (String m : List.of("gradop", "sdedit", "iterative-sdedit", "text")) {
            List<String> extra = new ArrayList<>(List.of("--method", m));
            if (m.equals("gradop")) extra.addAll(List.of("--grad-steps", "2"));
            if (m.equals("iterative-sdedit")) extra.addAll(List.of("--iterations", "2"));
            String[] e = extra.toArray(new String[0]);
            CliTest.Result r = CliTest.run(m.startsWith("gradop") ? gradop(m + ".png", e) : args(m + ".png", e));
            assertEquals(0, r.code(), m + ": " + r.err());
            assertTrue(Files.exists(dir.resolve(m + ".png")), m);
        }
    }

    /** toyworld:SEED paints the scene with the simulator and prompts with its caption; the painting is written beside. */
    @Test void aToyWorldSceneIsAPaintingAndItsCaptionThePrompt() throws Exception {
        Path out = dir.resolve("toy.png");
        CliTest.Result r = CliTest.run("stroke2img", "--model", model.toString(), "--painting", "toyworld:2000007",
                "--method", "sdedit", "--steps", "4", "--width", "16", "--height", "16", "--out", out.toString());
        assertEquals(0, r.code(), r.err());
        org.ldm4j.toyworld.Scene scene = org.ldm4j.toyworld.ToyWorld.sample(2000007);
        JsonNode req = PngParameters.read(out).request();
        assertEquals(scene.caption(), req.get("generation").get("prompt").asText());
        assertEquals("toyworld:2000007", req.get("painting").asText());
        int[] written = CliTest.pixels(dir.resolve("toy-painting.png"));
        BufferedImage expected = scene.painting(scene.seed(), org.ldm4j.toyworld.PaintingOptions.defaults()).image();
        assertArrayEquals(expected.getRGB(0, 0, expected.getWidth(), expected.getHeight(), null, 0, expected.getWidth()), written);
        CliTest.Result bad = CliTest.run("stroke2img", "--model", model.toString(), "--painting", "toyworld:house", "--out", out.toString());
        assertEquals(2, bad.code());
        assertTrue(bad.err().contains("toyworld:SEED"), bad.err());
        CliTest.Result noPrompt = CliTest.run("stroke2img", "--model", model.toString(), "--painting", painting.toString(), "--out", out.toString());
        assertEquals(2, noPrompt.code());
        assertTrue(noPrompt.err().contains("--prompt"), noPrompt.err());
    }

    /** An empty prompt is legal (the painting drives the result), with the note txt2img gives. */
    @Test void anEmptyPromptIsNoted() {
        List<String> a = new ArrayList<>(List.of(args("empty-prompt.png", "--method", "sdedit")));
        a.set(a.indexOf("a red house a blue tree"), "");
        CliTest.Result r = CliTest.run(a.toArray(new String[0]));
        assertEquals(0, r.code(), r.err());
        assertTrue(r.err().contains("ldm4j: note: the prompt is empty: sampling unconditionally"), r.err());
    }

    @Test void badInputsExitWithOneLineMessages() throws Exception {
        CliTest.Result phrase = CliTest.run(gradop("x.png", "--grad-steps", "1", "--region", "#FF0000=lake"));
        assertEquals(2, phrase.code());
        assertTrue(phrase.err().contains("\"lake\" does not occur"), phrase.err());
        Path odd = paint(dir.resolve("odd.png"), 15, 16);
        List<String> a = new ArrayList<>(List.of(args("y.png")));
        a.set(a.indexOf(painting.toString()), odd.toString());
        CliTest.Result size = CliTest.run(a.toArray(new String[0]));
        assertEquals(2, size.code());
        assertTrue(size.err().contains("multiples of 2"), size.err());
        CliTest.Result method = CliTest.run(args("z.png", "--method", "magic"));
        assertEquals(2, method.code());
        assertTrue(method.err().contains("unknown --method"), method.err());
        CliTest.Result region = CliTest.run(args("w.png", "--region", "red=house"));
        assertEquals(2, region.code());
        assertTrue(region.err().contains("#RRGGBB"), region.err());
        CliTest.Result misplaced = CliTest.run(args("v.png", "--method", "sdedit", "--blur-kernel", "5"));
        assertEquals(2, misplaced.code());
        assertTrue(misplaced.err().contains("apply to gradop+ and gradop only"), misplaced.err());
    }
}
