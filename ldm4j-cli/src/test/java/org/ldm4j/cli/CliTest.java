package org.ldm4j.cli;

import com.fasterxml.jackson.databind.JsonNode;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.ldm4j.image.PngParameters;
import org.ldm4j.pipeline.TinyStableDiffusion;

import javax.imageio.ImageIO;
import java.awt.image.BufferedImage;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.*;

/** End to end through the CLI on a tiny random model written by the test. */
class CliTest {
    @TempDir static Path dir;
    static Path model;

    @BeforeAll static void writeModel() throws Exception {
        model = TinyStableDiffusion.write(dir.resolve("tiny"), 0);
    }

    record Result(int code, String out, String err) {}

    static Result run(String... args) {
        PrintStream oldOut = System.out, oldErr = System.err;
        ByteArrayOutputStream out = new ByteArrayOutputStream(), err = new ByteArrayOutputStream();
        try {
            System.setOut(new PrintStream(out, true));
            System.setErr(new PrintStream(err, true));
            int code = Ldm4j.run(args);
            return new Result(code, out.toString(), err.toString());
        } finally {
            System.setOut(oldOut);
            System.setErr(oldErr);
        }
    }

    static String[] txt2img(String out, String... extra) {
        List<String> a = new ArrayList<>(List.of("txt2img", "--model", model.toString(), "--prompt", "a red house beside a tree",
                "--steps", "4", "--scheduler", "ddim", "--out", dir.resolve(out).toString()));
        a.addAll(List.of(extra));
        return a.toArray(new String[0]);
    }

    static int[] pixels(Path p) throws Exception {
        BufferedImage img = ImageIO.read(p.toFile());
        return img.getRGB(0, 0, img.getWidth(), img.getHeight(), null, 0, img.getWidth());
    }

    @Test void txt2imgWritesAPngWhoseParametersReproduceIt() throws Exception {
        Result r = run(txt2img("a.png", "--seed", "5"));
        assertEquals(0, r.code(), r.err());
        Path a = dir.resolve("a.png");
        assertTrue(Files.exists(a));
        PngParameters.Contents meta = PngParameters.read(a);
        assertEquals("a red house beside a tree", meta.infotext().prompt());
        assertEquals("5", meta.fields().get("Seed"));
        assertEquals("DDIM", meta.fields().get("Sampler"));
        JsonNode req = meta.request();
        assertEquals(5, req.get("seed").asLong());
        assertEquals(4, req.get("steps").asInt());

        assertEquals(0, run(txt2img("b.png", "--seed", "5")).code());
        assertArrayEquals(pixels(a), pixels(dir.resolve("b.png")), "same seed, same pixels");
        assertEquals(0, run(txt2img("c.png", "--seed", "6")).code());
        assertFalse(java.util.Arrays.equals(pixels(a), pixels(dir.resolve("c.png"))), "other seed, other pixels");
    }

    @Test void severalImagesGetNumberedFilesAndAGrid() {
        Result r = run(txt2img("batch.png", "--n", "3", "--seed", "1"));
        assertEquals(0, r.code(), r.err());
        for (String f : List.of("batch-0.png", "batch-1.png", "batch-2.png", "batch-grid.png")) {
            assertTrue(Files.exists(dir.resolve(f)), f);
        }
    }

    @Test void img2imgAtStrengthZeroKeepsTheInput() throws Exception {
        assertEquals(0, run(txt2img("init.png", "--seed", "2")).code());
        Result r = run("img2img", "--model", model.toString(), "--prompt", "a boat", "--init", dir.resolve("init.png").toString(),
                "--strength", "0", "--steps", "4", "--out", dir.resolve("same.png").toString());
        assertEquals(0, r.code(), r.err());
        int[] in = pixels(dir.resolve("init.png")), out = pixels(dir.resolve("same.png"));
        double meanAbs = 0;
        for (int i = 0; i < in.length; i++) {
            for (int s = 0; s < 24; s += 8) meanAbs += Math.abs(((in[i] >> s) & 255) - ((out[i] >> s) & 255));
        }
        meanAbs /= in.length * 3.0;
        // a random tiny VAE does not reconstruct well, but strength 0 must be the round trip, far from noise (~85)
        assertTrue(meanAbs < 60, "mean abs difference " + meanAbs);
    }

    @Test void aConvertedSingleFileGivesTheSamePixelsAsTheFolder() throws Exception {
        Path single = dir.resolve("tiny-ldm.safetensors");
        Result c = run("convert", "--in", model.toString(), "--out", single.toString());
        assertEquals(0, c.code(), c.err());
        assertEquals(0, run(txt2img("from-folder.png", "--seed", "9")).code());
        Result r = run("txt2img", "--model", single.toString(), "--config-from", model.toString(),
                "--tokenizer", model.resolve("tokenizer").toString(), "--prompt", "a red house beside a tree",
                "--steps", "4", "--scheduler", "ddim", "--seed", "9", "--out", dir.resolve("from-single.png").toString());
        assertEquals(0, r.code(), r.err());
        assertArrayEquals(pixels(dir.resolve("from-folder.png")), pixels(dir.resolve("from-single.png")));
    }

    @Test void vaeSwapsTheAutoencoderAndChecksItsLatentChannels() throws Exception {
        assertEquals(0, run(txt2img("own-vae.png", "--seed", "4")).code());
        Result same = run(txt2img("own-vae-again.png", "--seed", "4", "--vae", model.resolve("vae").toString()));
        assertEquals(0, same.code(), same.err());
        assertArrayEquals(pixels(dir.resolve("own-vae.png")), pixels(dir.resolve("own-vae-again.png")), "the model's own VAE named explicitly");
        Path other = TinyStableDiffusion.write(dir.resolve("tiny-other"), 1).resolve("vae");
        assertEquals(0, run(txt2img("other-vae.png", "--seed", "4", "--vae", other.toString())).code());
        assertFalse(java.util.Arrays.equals(pixels(dir.resolve("own-vae.png")), pixels(dir.resolve("other-vae.png"))), "another decoder draws other pixels");
        String parameters = org.ldm4j.image.PngParameters.read(dir.resolve("other-vae.png")).infotext().format();
        assertTrue(parameters.endsWith(", VAE: tiny-other/vae"), "the PNG names the swapped VAE as A1111 does: " + parameters);
        assertFalse(org.ldm4j.image.PngParameters.read(dir.resolve("own-vae.png")).infotext().format().contains("VAE:"));

        Path eightChannels = dir.resolve("vae-8ch");
        Files.createDirectories(eightChannels);
        Files.writeString(eightChannels.resolve("config.json"), TinyStableDiffusion.VAE.replace("\"latent_channels\": 4", "\"latent_channels\": 8"));
        org.ldm4j.weights.SafetensorsWriter.write(eightChannels.resolve("diffusion_pytorch_model.safetensors"),
                new org.ldm4j.models.vae.AutoencoderKL(org.ldm4j.models.vae.AutoencoderKLConfig.parse(Files.readString(eightChannels.resolve("config.json")))).stateDict(),
                java.util.Map.of());
        Result wrong = run(txt2img("wrong-vae.png", "--vae", eightChannels.toString()));
        assertEquals(2, wrong.code());
        assertTrue(wrong.err().contains("cannot use --vae") && wrong.err().contains("8 latent channels") && wrong.err().contains("takes 4"), wrong.err());
        Result missing = run(txt2img("missing-vae.png", "--vae", dir.resolve("no-such-vae").toString()));
        assertEquals(2, missing.code());
        assertTrue(missing.err().contains("no config.json"), missing.err());
        assertFalse(Files.exists(dir.resolve("wrong-vae.png")) || Files.exists(dir.resolve("missing-vae.png")));
    }

    /** Weights that do not parse or are missing: one line naming the file (no stack trace), exit code 2, no output. */
    @Test void badWeightFilesGiveOneLineErrors() throws Exception {
        Path truncated = copyModel("truncated");
        Path unet = truncated.resolve("unet/diffusion_pytorch_model.safetensors");
        java.nio.file.Files.write(unet, java.util.Arrays.copyOf(java.nio.file.Files.readAllBytes(unet), (int) java.nio.file.Files.size(unet) / 2));
        Path garbled = copyModel("garbled");
        Path vae = garbled.resolve("vae/diffusion_pytorch_model.safetensors");
        byte[] bytes = java.nio.file.Files.readAllBytes(vae);
        java.util.Arrays.fill(bytes, 0, 8, (byte) 0x7f);   // a header length beyond any file
        java.nio.file.Files.write(vae, bytes);
        Path missing = copyModel("missing");
        java.nio.file.Files.delete(missing.resolve("vae/diffusion_pytorch_model.safetensors"));
        for (Path m : List.of(truncated, garbled, missing)) {
            Path out = dir.resolve("bad-" + m.getFileName() + ".png");
            Result r = run("txt2img", "--model", m.toString(), "--prompt", "a house", "--steps", "2", "--out", out.toString());
            assertEquals(2, r.code(), r.err());
            List<String> lines = r.err().strip().lines().filter(l -> !l.contains(" INFO ")).toList();   // the loader's log line aside
            assertTrue(lines.size() == 1 && lines.get(0).startsWith("ldm4j: ") && lines.get(0).contains(m.toString()), r.err());
            assertFalse(java.nio.file.Files.exists(out), "no output for " + m);
        }
    }

    /** One line, exit code {@code code}, containing each of {@code fragments}; no stack trace. */
    static void assertOneLineError(Result r, int code, String... fragments) {
        assertEquals(code, r.code(), r.err());
        List<String> lines = r.err().strip().lines().filter(l -> !l.contains(" INFO ")).toList();   // a loader's log line aside
        assertTrue(lines.size() == 1 && lines.get(0).startsWith("ldm4j: "), "one line: " + r.err());
        for (String f : fragments) assertTrue(lines.get(0).contains(f), "should mention '" + f + "': " + r.err());
    }

    /**
     * The files --out names are checked before any model loads (the model here does not exist): a folder where an
     * image or the grid goes, or a file where a folder is needed, is a usage error naming it, and nothing is written.
     */
    @Test void outputPathsAreCheckedBeforeGenerating() throws Exception {
        String missingModel = dir.resolve("no-model-here").toString();
        Path folder = Files.createDirectories(dir.resolve("a-folder.png"));
        assertOneLineError(run("txt2img", "--model", missingModel, "--prompt", "a house", "--out", folder.toString()),
                2, "--out " + folder + " is a folder, not a file");
        Path grid = Files.createDirectories(dir.resolve("several-grid.png"));
        Path several = dir.resolve("several.png");
        assertOneLineError(run("txt2img", "--model", missingModel, "--prompt", "a house", "--n", "2", "--out", several.toString()),
                2, grid + " (one of the files it names) is a folder");
        assertFalse(Files.exists(dir.resolve("several-0.png")) || Files.exists(dir.resolve("several-1.png")));
        Path file = Files.writeString(dir.resolve("plain-file"), "x");
        assertOneLineError(run("txt2img", "--model", missingModel, "--prompt", "a house", "--out", file.resolve("sub/x.png").toString()),
                2, file + " is a file, not a folder");
        Files.writeString(dir.resolve("init-for-out.png"), "not read before the check");
        assertOneLineError(run("img2img", "--model", missingModel, "--prompt", "a house", "--init", dir.resolve("init-for-out.png").toString(),
                "--n", "2", "--out", several.toString()), 2, grid.toString());
        // a real run whose grid is a folder: still refused before generating
        Result r = run(txt2img("several.png", "--n", "2"));
        assertOneLineError(r, 2, grid.toString());
        assertFalse(Files.exists(dir.resolve("several-0.png")), "no image was generated");
    }

    /**
     * An empty or blank prompt is legal for txt2img (unconditional sampling), with a note saying so whatever the
     * guidance scale, and saying that a negative prompt still steers.
     */
    @Test void anEmptyPromptSamplesUnconditionallyWithANote() {
        Result plain = run("txt2img", "--model", model.toString(), "--prompt", "", "--cfg", "1", "--steps", "2", "--out", dir.resolve("empty-prompt.png").toString());
        assertEquals(0, plain.code(), plain.err());
        assertTrue(plain.err().contains("ldm4j: note: the prompt is empty: sampling unconditionally (no text guidance; --cfg has no effect)"), plain.err());
        Result negative = run("txt2img", "--model", model.toString(), "--prompt", "  ", "--negative-prompt", "a tree", "--steps", "2",
                "--out", dir.resolve("empty-prompt-negative.png").toString());
        assertEquals(0, negative.code(), negative.err());
        assertTrue(negative.err().contains("note: the prompt is empty: sampling unconditionally, steered away from the negative prompt"), negative.err());
    }

    /** Failures outside ldm4j's control are one line too: a refused write (exit 1), an empty checkpoint to convert. */
    @Test void fileSystemRefusalsAndEmptyCheckpointsAreOneLine() throws Exception {
        assertEquals("/o/.x.tmp -> /o/x.png: Is a directory",
                Ldm4j.failureMessage(new java.nio.file.FileSystemException("/o/.x.tmp", "/o/x.png", "Is a directory")));
        Path folder = Files.createDirectories(dir.resolve("folder.safetensors"));
        assertOneLineError(run("convert", "--in", model.toString(), "--out", folder.toString()), 2, "--out " + folder + " is a folder");
        Path picture = dir.resolve("picture.png");
        ImageIO.write(new BufferedImage(4, 4, BufferedImage.TYPE_INT_RGB), "png", picture.toFile());
        assertOneLineError(run("convert", "--in", picture.toString(), "--out", dir.resolve("picture.safetensors").toString()),
                2, picture + " is a PNG image, not a checkpoint: ldm4j reads safetensors files");
        assertOneLineError(run("txt2img", "--model", picture.toString(), "--prompt", "a", "--out", dir.resolve("from-picture.png").toString()),
                2, picture + " is a PNG image, not a checkpoint");
        assertFalse(Files.exists(dir.resolve("picture.safetensors")) || Files.exists(dir.resolve("from-picture.png")));
        Path empty = dir.resolve("empty.safetensors");
        Files.write(empty, new byte[]{2, 0, 0, 0, 0, 0, 0, 0, '{', '}'});
        Result c = run("convert", "--in", empty.toString(), "--out", dir.resolve("empty-out.safetensors").toString());
        assertEquals(2, c.code(), c.err());
        assertTrue(c.err().contains("holds no tensors") && c.err().strip().lines().count() == 1, c.err());
        assertFalse(Files.exists(dir.resolve("empty-out.safetensors")));
    }

    /**
     * A config value of the wrong type or out of range (unet, vae, text encoder, scheduler) is one line naming the file
     * and the key, before anything is generated.
     */
    @Test void badConfigValuesNameTheFileAndKey() throws Exception {
        String[][] cases = {
                {"unet/config.json", "layers_per_block", "\"two\"", "key 'layers_per_block': expected an integer"},
                {"vae/config.json", "latent_channels", "\"four\"", "key 'latent_channels': expected an integer, got \"four\""},
                {"text_encoder/config.json", "hidden_size", "[32]", "key 'hidden_size': expected an integer, got a list"},
                {"scheduler/scheduler_config.json", "beta_schedule", "\"cosine_bogus\"", "key 'beta_schedule': 'cosine_bogus' is not supported"},
                {"scheduler/scheduler_config.json", "num_train_timesteps", "-5", "key 'num_train_timesteps': must be >= 1, got -5"},
        };
        com.fasterxml.jackson.databind.ObjectMapper json = new com.fasterxml.jackson.databind.ObjectMapper();
        for (int i = 0; i < cases.length; i++) {
            Path m = copyModel("config-" + i);
            Path config = m.resolve(cases[i][0]);
            com.fasterxml.jackson.databind.node.ObjectNode node = (com.fasterxml.jackson.databind.node.ObjectNode) json.readTree(config.toFile());
            node.set(cases[i][1], json.readTree(cases[i][2]));
            Files.writeString(config, node.toPrettyString());
            Path out = dir.resolve("config-" + i + ".png");
            Result r = run("txt2img", "--model", m.toString(), "--prompt", "a house", "--steps", "2", "--out", out.toString());
            assertOneLineError(r, 2, config + ": ", cases[i][3]);
            assertFalse(r.err().contains("scheduler config: scheduler config") || r.err().contains("[Source:"), r.err());
            assertFalse(Files.exists(out));
        }
    }

    private static Path copyModel(String name) throws Exception {
        Path target = dir.resolve("copy-" + name);
        TinyStableDiffusion.copyTree(model, target);
        return target;
    }

    @Test void badArgumentsGiveOneLineErrorsAndExitCode2() throws Exception {
        Files.writeString(dir.resolve("not-an-image.png"), "hello");
        String[][] cases = {
                txt2img("x.png", "--width", "15"),
                {"txt2img", "--model", model.toString(), "--prompt", "a", "--scheduler", "warp-drive", "--out", dir.resolve("x.png").toString()},
                {"txt2img", "--model", dir.resolve("missing").toString(), "--prompt", "a", "--out", dir.resolve("x.png").toString()},
                {"img2img", "--model", model.toString(), "--prompt", "a", "--init", dir.resolve("none.png").toString(), "--out", dir.resolve("x.png").toString()},
                {"img2img", "--model", model.toString(), "--prompt", "a", "--init", dir.resolve("not-an-image.png").toString(), "--out", dir.resolve("x.png").toString()},
                {"img2img", "--model", model.toString(), "--prompt", "a", "--init", dir.resolve("not-an-image.png").toString(), "--strength", "1.5", "--out", dir.resolve("x.png").toString()},
                {"txt2img", "--model", model.toString(), "--out", dir.resolve("x.png").toString()},
                {"txt2img", "--model", model.toString(), "--prompt", "a", "--out", dir.resolve("x.jpg").toString()},
                {"img2img", "--model", model.toString(), "--prompt", "a", "--init", dir.toString(), "--out", dir.resolve("x.png").toString()},
                {"edit", "--model", model.toString(), "--prompt", "a", "--image", dir.resolve("not-an-image.png").toString(),
                        "--mask", dir.toString(), "--out", dir.resolve("x.png").toString()},
        };
        String[] expected = {"multiple of 2", "unknown scheduler", "cannot load model", "init image not found", "not-an-image.png", "strength",
                "--prompt", "must name a .png file", "init image " + dir + " is a folder, not a file", "--mask " + dir + " is a folder, not a file"};
        for (int i = 0; i < cases.length; i++) {
            Result r = run(cases[i]);
            assertEquals(2, r.code(), "case " + i + ": " + r.err());
            assertTrue(r.err().contains(expected[i]), "case " + i + " should mention '" + expected[i] + "': " + r.err());
            assertFalse(r.err().contains("\tat "), "no stack trace: " + r.err());
            assertEquals(1, r.err().lines().filter(l -> !l.contains(" INFO ")).count(), "one line besides logging: " + r.err());
        }
        assertFalse(Files.exists(dir.resolve("x.png")) || Files.exists(dir.resolve("x.jpg")), "a failed run leaves no output");
    }
}
