package org.ldm4j.cli;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.*;

/** {@code ldm4j edit}: contradictory or out-of-range repair options are one-line usage errors before any model loads. */
class EditCommandTest {
    @TempDir Path dir;

    @Test void repairOptionsAreChecked() throws Exception {
        String[] common = common();

        CliTest.Result both = CliTest.run(concat(common, "--no-repair", "--repair-weight", "10"));
        assertEquals(2, both.code());
        assertTrue(both.err().contains("--no-repair and --repair-weight contradict each other"), both.err());

        CliTest.Result averaging = CliTest.run(concat(common, "--no-repair", "--repair-averaging", "region"));
        assertEquals(2, averaging.code());
        assertTrue(averaging.err().contains("--no-repair and --repair-averaging contradict each other"), averaging.err());

        CliTest.Result unknown = CliTest.run(concat(common, "--repair-averaging", "pixels"));
        assertEquals(2, unknown.code());
        assertTrue(unknown.err().contains("unknown repair averaging 'pixels' (expected image or region)"), unknown.err());

        CliTest.Result zero = CliTest.run(concat(common, "--repair-weight", "0"));
        assertEquals(2, zero.code());
        assertTrue(zero.err().contains("repair background weight must be > 0"), zero.err());
        assertFalse(Files.exists(dir.resolve("out.png")));
    }

    @Test void maskAttentionTakesOneWeightPerSampleAndChecksEach() throws Exception {
        String[] common = common();
        CliTest.Result negative = CliTest.run(concat(common, "--mask-attention", "0,-2"));
        assertEquals(2, negative.code());
        assertTrue(negative.err().contains("mask attention must be >= 0, got -2.0"), negative.err());
        CliTest.Result word = CliTest.run(concat(common, "--mask-attention", "0,strong"));
        assertEquals(2, word.code());
        assertTrue(word.err().contains("--mask-attention"), word.err());
        assertFalse(Files.exists(dir.resolve("out.png")));
    }

    /**
     * An edit end to end on the tiny model: two samples ranked by the official CLIP ranking (a tiny CLIP folder), each
     * written with its rank and score; an unknown ranking is a usage error before any model loads.
     */
    @Test void editsRankWithClipFromAFolder() throws Exception {
        Path model = org.ldm4j.pipeline.TinyStableDiffusion.write(dir.resolve("tiny"), 0);
        org.ldm4j.models.clip.TinyClip.write(dir.resolve("clip"));
        java.awt.image.BufferedImage img = new java.awt.image.BufferedImage(16, 16, java.awt.image.BufferedImage.TYPE_INT_RGB);
        java.awt.image.BufferedImage msk = new java.awt.image.BufferedImage(16, 16, java.awt.image.BufferedImage.TYPE_INT_RGB);
        for (int y = 0; y < 16; y++) for (int x = 0; x < 16; x++) {
            img.setRGB(x, y, (x * 15) << 16 | (y * 15) << 8 | 90);
            msk.setRGB(x, y, x >= 4 && x < 12 && y >= 4 && y < 12 ? 0xFFFFFF : 0);
        }
        Path image = dir.resolve("in16.png"), mask = dir.resolve("mask16.png"), out = dir.resolve("edited.png");
        javax.imageio.ImageIO.write(img, "png", image.toFile());
        javax.imageio.ImageIO.write(msk, "png", mask.toFile());
        String[] args = {"edit", "--model", model.toString(), "--image", image.toString(), "--mask", mask.toString(), "--prompt", "a red car",
                "--n", "2", "--steps", "2", "--repair-steps", "1", "--out", out.toString()};
        CliTest.Result clip = CliTest.run(concat(args, "--rank-with", "clip", "--clip", dir.resolve("clip").toString()));
        assertEquals(0, clip.code(), clip.err());
        assertTrue(Files.exists(out) && Files.exists(dir.resolve("edited-0.png")) && Files.exists(dir.resolve("edited-1.png")));
        assertTrue(clip.out().lines().filter(l -> l.startsWith("rank ") && l.contains(" clip ")).count() == 2, clip.out());

        CliTest.Result noClip = CliTest.run(concat(args, "--rank-with", "clip", "--clip", dir.resolve("no-clip").toString()));
        assertEquals(2, noClip.code());
        assertTrue(noClip.err().strip().lines().reduce((x, y) -> y).orElse("").startsWith("ldm4j: cannot load CLIP '" + dir.resolve("no-clip")),
                noClip.err());

        CliTest.Result unknown = CliTest.run(concat(args, "--rank-with", "sharpness"));
        assertEquals(2, unknown.code());
        assertTrue(unknown.err().contains("--rank-with: unknown value 'sharpness' (expected one of [background, clip])"), unknown.err());
    }

    /** --guide: a segmenter steers the samples toward the prompt's object (or --guide-class) inside the mask. */
    @Test void aGuideSteersTheEditTowardTheNamedObject() throws Exception {
        Path model = org.ldm4j.pipeline.TinyStableDiffusion.write(dir.resolve("tiny"), 0);
        Path guide = TinySegmenter.write(dir.resolve("guide"));
        java.awt.image.BufferedImage img = new java.awt.image.BufferedImage(16, 16, java.awt.image.BufferedImage.TYPE_INT_RGB);
        java.awt.image.BufferedImage msk = new java.awt.image.BufferedImage(16, 16, java.awt.image.BufferedImage.TYPE_INT_RGB);
        for (int y = 0; y < 16; y++) for (int x = 0; x < 16; x++) {
            img.setRGB(x, y, (x * 15) << 16 | (y * 15) << 8 | 90);
            msk.setRGB(x, y, x >= 4 && x < 12 && y >= 4 && y < 12 ? 0xFFFFFF : 0);
        }
        Path image = dir.resolve("in16.png"), mask = dir.resolve("mask16.png");
        javax.imageio.ImageIO.write(img, "png", image.toFile());
        javax.imageio.ImageIO.write(msk, "png", mask.toFile());
        String[] args = {"edit", "--model", model.toString(), "--image", image.toString(), "--mask", mask.toString(), "--prompt", "a red car",
                "--steps", "4", "--no-repair"};
        Path plain = dir.resolve("plain.png"), guided = dir.resolve("guided.png");
        assertEquals(0, CliTest.run(concat(args, "--out", plain.toString())).code());
        CliTest.Result r = CliTest.run(concat(args, "--out", guided.toString(), "--guide", guide.toString(), "--guide-from", "0"));
        assertEquals(0, r.code(), r.err());
        assertFalse(java.util.Arrays.equals(Files.readAllBytes(plain), Files.readAllBytes(guided)), "the guide changes the edit");

        String[] two = args.clone();
        two[8] = "a car and a house";
        CliTest.assertOneLineError(CliTest.run(concat(two, "--out", dir.resolve("two.png").toString(), "--guide", guide.toString())), 2,
                "--guide needs one class", "--guide-class");
        assertEquals(0, CliTest.run(concat(two, "--out", dir.resolve("two.png").toString(), "--guide", guide.toString(), "--guide-class", "house")).code());
        CliTest.assertOneLineError(CliTest.run(concat(args, "--out", dir.resolve("x.png").toString(), "--guide", guide.toString(),
                "--guide-class", "spaceship")), 2, "--guide-class", "spaceship");
    }

    /** An edit is driven by its text: an empty or blank prompt is a usage error before anything else. */
    @Test void anEmptyPromptIsAUsageError() throws Exception {
        for (String empty : new String[]{"", "   "}) {
            String[] args = common();
            args[java.util.Arrays.asList(args).indexOf("a red house")] = empty;
            CliTest.assertOneLineError(CliTest.run(args), 2, "--prompt is empty: an edit draws the masked region from its text");
        }
        assertFalse(Files.exists(dir.resolve("out.png")));
    }

    /** The files --out names (the best and each sample) are checked before any model loads: a folder among them is named. */
    @Test void outputFilesAreCheckedFirst() throws Exception {
        Path sample = Files.createDirectories(dir.resolve("out-1.png"));
        CliTest.Result r = CliTest.run(concat(common(), "--n", "2"));
        CliTest.assertOneLineError(r, 2, sample + " (one of the files it names) is a folder");
        assertFalse(Files.exists(dir.resolve("out.png")) || Files.exists(dir.resolve("out-0.png")));
    }

    /** An edit of two one-byte "images" with a missing model: every option check runs before either is read. */
    private String[] common() throws Exception {
        Path image = Files.write(dir.resolve("in.png"), new byte[]{1}), mask = Files.write(dir.resolve("mask.png"), new byte[]{1});
        return new String[]{"edit", "--image", image.toString(), "--mask", mask.toString(), "--prompt", "a red house",
                "--model", dir.resolve("no-model").toString(), "--out", dir.resolve("out.png").toString()};
    }

    private static String[] concat(String[] a, String... b) {
        String[] out = java.util.Arrays.copyOf(a, a.length + b.length);
        System.arraycopy(b, 0, out, a.length, b.length);
        return out;
    }
}
