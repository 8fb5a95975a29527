package org.ldm4j.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.ldm4j.toyworld.Mask;
import org.ldm4j.toyworld.Scene;
import org.ldm4j.toyworld.SceneObject;
import org.ldm4j.toyworld.SceneOptions;
import org.ldm4j.toyworld.ToyWorld;

import javax.imageio.ImageIO;
import java.awt.image.BufferedImage;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Comparator;

import static org.junit.jupiter.api.Assertions.*;

/**
 * {@code ldm4j eval locality} on real ToyWorld scenes as "edits": an output equal to its input outside the mask but
 * for a darkened band, so the PSNR outside is finite and falls with the band; recall inside reads the object the
 * mask covers (the scene's largest), named or not by the prompt.
 */
class EvalLocalityCommandTest {
    @TempDir Path dir;

    @Test void measuresTheOutsideAndTheObjectInside() throws Exception {
        Path inputs = Files.createDirectories(dir.resolve("in")), outputs = Files.createDirectories(dir.resolve("out")),
                masks = Files.createDirectories(dir.resolve("masks")), outputs2 = Files.createDirectories(dir.resolve("out2"));
        Scene scene = ToyWorld.sample(2_000_003, SceneOptions.square(64));
        SceneObject largest = scene.objects().stream().max(Comparator.comparingInt(SceneObject::pixels)).orElseThrow();
        Mask mask = scene.objectMask(largest);
        BufferedImage in = scene.image();
        ImageIO.write(in, "png", inputs.resolve("a.png").toFile());
        ImageIO.write(mask.image(), "png", masks.resolve("a.png").toFile());
        ImageIO.write(darkenRows(in, mask, 2), "png", outputs.resolve("a.png").toFile());
        ImageIO.write(darkenRows(in, mask, 8), "png", outputs2.resolve("a.png").toFile());

        Path json = dir.resolve("r.json"), json2 = dir.resolve("r2.json"), other = dir.resolve("other.json");
        String word = largest.toyClass().label();
        CliTest.Result r = CliTest.run("eval", "locality", "--segmenter", EvalBlendedCommandTest.SEGMENTER.toString(), "--inputs", inputs.toString(),
                "--outputs", outputs.toString(), "--masks", masks.toString(), "--prompt", "a " + word, "--json", json.toString());
        assertEquals(0, r.code(), r.err());
        JsonNode a = new ObjectMapper().readTree(Files.readString(json));
        assertEquals(1.0, a.get("mean_recall_inside").asDouble(), "the " + word + " is inside its own mask");
        double psnr = a.get("mean_psnr_outside").asDouble();
        assertTrue(Double.isFinite(psnr) && psnr > 20, "two darkened rows: " + psnr);

        CliTest.Result r2 = CliTest.run("eval", "locality", "--segmenter", EvalBlendedCommandTest.SEGMENTER.toString(), "--inputs", inputs.toString(),
                "--outputs", outputs2.toString(), "--masks", masks.toString(), "--prompt", "a " + word, "--json", json2.toString());
        assertEquals(0, r2.code(), r2.err());
        assertTrue(new ObjectMapper().readTree(Files.readString(json2)).get("mean_psnr_outside").asDouble() < psnr - 3,
                "eight darkened rows lower the PSNR outside");

        String absent = word.equals("boat") ? "house" : "boat";
        CliTest.Result o = CliTest.run("eval", "locality", "--segmenter", EvalBlendedCommandTest.SEGMENTER.toString(), "--inputs", inputs.toString(),
                "--outputs", outputs.toString(), "--masks", masks.toString(), "--prompt", "a " + absent, "--json", other.toString());
        assertEquals(0, o.code(), o.err());
        assertEquals(0.0, new ObjectMapper().readTree(Files.readString(other)).get("mean_recall_inside").asDouble(),
                "no " + absent + " inside the " + word + "'s mask");
    }

    /** A copy of {@code image} with its first {@code rows} rows outside {@code mask} darkened by 40 per channel. */
    private static BufferedImage darkenRows(BufferedImage image, Mask mask, int rows) {
        BufferedImage out = new BufferedImage(image.getWidth(), image.getHeight(), BufferedImage.TYPE_INT_RGB);
        for (int y = 0; y < image.getHeight(); y++) {
            for (int x = 0; x < image.getWidth(); x++) {
                int rgb = image.getRGB(x, y) & 0xFFFFFF;
                if (y < rows && !mask.bits()[y * image.getWidth() + x]) {
                    int r = Math.max(0, (rgb >> 16) - 40), g = Math.max(0, ((rgb >> 8) & 255) - 40), b = Math.max(0, (rgb & 255) - 40);
                    rgb = r << 16 | g << 8 | b;
                }
                out.setRGB(x, y, rgb);
            }
        }
        return out;
    }
}
