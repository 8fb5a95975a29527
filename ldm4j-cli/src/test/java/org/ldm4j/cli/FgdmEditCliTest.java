package org.ldm4j.cli;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.ldm4j.toyworld.Scene;
import org.ldm4j.toyworld.SceneObject;
import org.ldm4j.toyworld.ToyClass;
import org.ldm4j.toyworld.ToyWorld;

import javax.imageio.ImageIO;
import java.awt.image.BufferedImage;
import java.nio.file.Files;
import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.*;

/** {@code ldm4j fgdm edit} on a real ToyWorld segmentation map. */
class FgdmEditCliTest {
    @TempDir Path dir;

    static int count(BufferedImage img, int rgb) {
        int n = 0;
        for (int y = 0; y < img.getHeight(); y++) for (int x = 0; x < img.getWidth(); x++) if ((img.getRGB(x, y) & 0xFFFFFF) == rgb) n++;
        return n;
    }

    @Test void removingAnObjectFillsItFromItsSurroundings() throws Exception {
        Scene scene = ToyWorld.sample(3);
        SceneObject obj = scene.objects().get(scene.objects().size() - 1);   // nearest object: not occluded
        int colour = obj.toyClass().colour() & 0xFFFFFF;
        int x = -1, y = -1;
        for (int i = 0; i < scene.seg().length && x < 0; i++) {
            if (scene.instances()[i] == obj.instanceId()) { x = i % scene.width(); y = i / scene.width(); }
        }
        Path map = dir.resolve("seg.png");
        ImageIO.write(scene.segColourImage(), "png", map.toFile());
        int before = count(scene.segColourImage(), colour);
        int sameClassElsewhere = 0;
        for (SceneObject o : scene.objects()) if (o != obj && o.toyClass() == obj.toyClass()) sameClassElsewhere += o.pixels();

        int code = Ldm4j.run("fgdm", "edit", "--map", map.toString(), "--op", "remove", "--region", x + "," + y,
                "--out", dir.resolve("out").toString());
        assertEquals(0, code);
        BufferedImage edited = ImageIO.read(dir.resolve("out/map.png").toFile());
        int after = count(edited, colour);
        assertTrue(after < before, "the object's pixels are gone: " + before + " -> " + after);
        assertTrue(after <= sameClassElsewhere, "only other objects of the class remain");
        assertTrue(Files.exists(dir.resolve("out/edit.json")));
        for (int yy = 0; yy < edited.getHeight(); yy++) {
            for (int xx = 0; xx < edited.getWidth(); xx++) {
                assertTrue(ToyClass.decode(edited.getRGB(xx, yy) & 0xFFFFFF, 8) >= 0, "every pixel keeps a class (no 'unlabeled')");
            }
        }
    }

    @Test void unknownOperationsAndEmptyPointsAreUsageErrors() throws Exception {
        Path map = dir.resolve("seg.png");
        ImageIO.write(ToyWorld.sample(1).segColourImage(), "png", map.toFile());
        assertEquals(2, Ldm4j.run("fgdm", "edit", "--map", map.toString(), "--op", "explode", "--region", "1,1", "--out", dir.toString()));
        assertEquals(2, Ldm4j.run("fgdm", "edit", "--map", map.toString(), "--op", "remove", "--region", "999,1", "--out", dir.toString()));
    }
}
