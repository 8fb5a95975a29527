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

    /** add: an object class is painted as ToyWorld's generator draws it (its outline, scaled), others as an ellipse. */
    @Test void addingAnObjectPaintsTheGeneratorsOutlineOfItsClass() throws Exception {
        Path map = dir.resolve("seg.png");
        BufferedImage original = ToyWorld.sample(1).segColourImage();
        ImageIO.write(original, "png", map.toFile());
        CliTest.Result r = CliTest.run("fgdm", "edit", "--map", map.toString(), "--op", "add", "--class", "house", "--to", "32,40",
                "--out", dir.resolve("house").toString());
        assertEquals(0, r.code(), r.err());
        assertEquals("object", new com.fasterxml.jackson.databind.ObjectMapper().readTree(dir.resolve("house/edit.json").toFile()).get("shape").asText());
        BufferedImage edited = ImageIO.read(dir.resolve("house/map.png").toFile());
        org.ldm4j.toyworld.Mask outline = org.ldm4j.toyworld.EditMasks.silhouette(ToyClass.HOUSE, 0);
        int h = 16, w = (int) Math.round(16.0 * outline.width() / outline.height());
        org.ldm4j.toyworld.Mask placed = outline.placed(64, 64, 32 - w / 2, 40 - h / 2, w, h);
        int house = ToyClass.HOUSE.colour() & 0xFFFFFF;
        for (int y = 0; y < 64; y++) {
            for (int x = 0; x < 64; x++) {
                int expected = placed.get(x, y) ? house : original.getRGB(x, y) & 0xFFFFFF;
                assertEquals(expected, edited.getRGB(x, y) & 0xFFFFFF, x + "," + y);
            }
        }

        r = CliTest.run("fgdm", "edit", "--map", map.toString(), "--op", "add", "--class", "grass", "--to", "32,40", "--out", dir.resolve("grass").toString());
        assertEquals(0, r.code(), r.err());
        assertEquals("ellipse", new com.fasterxml.jackson.databind.ObjectMapper().readTree(dir.resolve("grass/edit.json").toFile()).get("shape").asText());
        CliTest.assertOneLineError(CliTest.run("fgdm", "edit", "--map", map.toString(), "--op", "add", "--class", "grass", "--shape", "object",
                "--to", "32,40", "--out", dir.resolve("e1").toString()), 2, "--shape object needs an object class", "grass");
        CliTest.assertOneLineError(CliTest.run("fgdm", "edit", "--map", map.toString(), "--op", "add", "--class", "car",
                "--out", dir.resolve("e2").toString()), 2, "needs --to");
        CliTest.assertOneLineError(CliTest.run("fgdm", "edit", "--map", map.toString(), "--op", "add", "--class", "car", "--shape", "blob",
                "--to", "3,3", "--out", dir.resolve("e3").toString()), 2, "--shape must be object, ellipse, rect or stroke");
    }

    /** The paper's depth edit ("placed behind"): two objects trade places in depth, picked on the seg map or by depth. */
    @Test void depthSwapTradesTwoObjectsDepths() throws Exception {
        Scene scene = ToyWorld.sample(3);
        SceneObject near = scene.objects().get(scene.objects().size() - 1), far = null;
        for (SceneObject o : scene.objects()) {   // the farthest from it: a car that touches no other car (the seg region is the object)
            if (o != near && (far == null || Math.abs(o.depth() - near.depth()) > Math.abs(far.depth() - near.depth()))) far = o;
        }
        Path depth = dir.resolve("depth.png"), seg = dir.resolve("seg.png");
        ImageIO.write(scene.depthImage(), "png", depth.toFile());
        ImageIO.write(scene.segColourImage(), "png", seg.toFile());
        int[] pNear = pixelOf(scene, near), pFar = pixelOf(scene, far);
        double nearBefore = meanDepth(scene, near), farBefore = meanDepth(scene, far);

        assertEquals(0, Ldm4j.run("fgdm", "edit", "--map", depth.toString(), "--op", "depth-swap", "--region", pNear[0] + "," + pNear[1],
                "--with", pFar[0] + "," + pFar[1], "--seg", seg.toString(), "--out", dir.resolve("out").toString()));
        BufferedImage edited = ImageIO.read(dir.resolve("out/map.png").toFile());
        assertEquals(farBefore, meanGrey(edited, scene, near), 0.02, "the near object now has the far one's depth");
        assertEquals(nearBefore, meanGrey(edited, scene, far), 0.02, "and the far one the near one's");
        assertTrue(Files.readString(dir.resolve("out/edit.json")).contains("depth-swap"));

        // the same two points twice, and a point outside the map: usage errors
        assertEquals(2, Ldm4j.run("fgdm", "edit", "--map", depth.toString(), "--op", "depth-swap", "--region", pNear[0] + "," + pNear[1],
                "--with", pNear[0] + "," + pNear[1], "--seg", seg.toString(), "--out", dir.resolve("bad").toString()));
        assertEquals(2, Ldm4j.run("fgdm", "edit", "--map", depth.toString(), "--op", "depth-swap", "--region", "999,1",
                "--with", "1,1", "--out", dir.resolve("bad").toString()));
    }

    static int[] pixelOf(Scene scene, SceneObject o) {
        for (int i = 0; i < scene.instances().length; i++) if (scene.instances()[i] == o.instanceId()) return new int[]{i % scene.width(), i / scene.width()};
        throw new AssertionError("object not visible");
    }

    /** Mean depth over an object's visible pixels, as its 8-bit depth image holds it. */
    static double meanDepth(Scene scene, SceneObject o) {
        double sum = 0;
        int n = 0;
        for (int i = 0; i < scene.instances().length; i++) {
            if (scene.instances()[i] != o.instanceId()) continue;
            sum += Math.round(Math.max(0, Math.min(1, scene.depth()[i])) * 255) / 255.0;
            n++;
        }
        return sum / n;
    }

    /** Mean grey level / 255 of an RGB image over an object's visible pixels. */
    static double meanGrey(BufferedImage img, Scene scene, SceneObject o) {
        double sum = 0;
        int n = 0;
        for (int i = 0; i < scene.instances().length; i++) {
            if (scene.instances()[i] != o.instanceId()) continue;
            sum += (img.getRGB(i % scene.width(), i / scene.width()) & 255) / 255.0;
            n++;
        }
        return sum / n;
    }
}
