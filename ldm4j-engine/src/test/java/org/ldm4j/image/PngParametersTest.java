package org.ldm4j.image;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import javax.imageio.ImageIO;
import java.awt.image.BufferedImage;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.zip.Deflater;

import static org.junit.jupiter.api.Assertions.*;

class PngParametersTest {
    record Request(String prompt, String negativePrompt, int steps, double guidance, long seed, List<Integer> size) {}

    static BufferedImage picture() {
        BufferedImage img = new BufferedImage(8, 8, BufferedImage.TYPE_INT_RGB);
        for (int y = 0; y < 8; y++) for (int x = 0; x < 8; x++) img.setRGB(x, y, (x * 32) << 16 | (y * 32) << 8 | 77);
        return img;
    }

    @Test void infotextHasA1111Layout() {
        Infotext t = Infotext.of("a red car", "blurry", 20, "Euler a", 7.5, 42, 512, 768, "v1-5-pruned");
        assertEquals("a red car\nNegative prompt: blurry\n"
                + "Steps: 20, Sampler: Euler a, CFG scale: 7.5, Seed: 42, Size: 512x768, Model: v1-5-pruned", t.format());
        Infotext noNeg = Infotext.of("a red car", "", 30, "DDIM", 7, 1, 512, 512, null).with("Denoising strength", 0.75);
        assertEquals("a red car\nSteps: 30, Sampler: DDIM, CFG scale: 7.0, Seed: 1, Size: 512x512, Denoising strength: 0.75",
                noNeg.format());
        // values that would break the syntax are JSON-quoted, as A1111's quote() does
        assertEquals("p\nSteps: 1, Sampler: Euler, CFG scale: 7.0, Seed: 1, Size: 8x8, Model: \"a,b: c\"",
                Infotext.of("p", "", 1, "Euler", 7, 1, 8, 8, "a,b: c").format());
    }

    @Test void parsesA1111Infotext() {
        String a1111 = "girl with an artist's beret, determined, blue eyes\n"
                + "Negative prompt: ugly, fat, (((deformed))), [blurry]\n"
                + "Steps: 20, Sampler: Euler a, CFG scale: 7, Seed: 965400086, Size: 512x512, Model hash: 45dee52b, "
                + "Lora hashes: \"add_detail: 7c6bad76eb54\"";
        Map<String, String> f = Infotext.parse(a1111).fields();
        assertEquals("girl with an artist's beret, determined, blue eyes", f.get("Prompt"));
        assertEquals("ugly, fat, (((deformed))), [blurry]", f.get("Negative prompt"));
        assertEquals("20", f.get("Steps"));
        assertEquals("Euler a", f.get("Sampler"));
        assertEquals("7", f.get("CFG scale"));
        assertEquals("965400086", f.get("Seed"));
        assertEquals("512x512", f.get("Size"));
        assertEquals("45dee52b", f.get("Model hash"));
        assertEquals("add_detail: 7c6bad76eb54", f.get("Lora hashes"));
        // a last line with fewer than three settings is prompt text
        assertEquals("x\nSteps: 3", Infotext.parse("x\nSteps: 3").prompt());
    }

    @Test void roundTripsUnicodePromptsAndMultiLineNegatives(@TempDir Path dir) throws IOException {
        String prompt = "ein rotes Auto 🚗 vor dem 猫-Café, \"quoted\"";
        String negative = "blurry, lowres\nwatermark: text\nbad hands";
        Infotext info = Infotext.of(prompt, negative, 25, "DPM++ 2M", 6.5, 1234567890123L, 8, 8, "my,model");
        Request req = new Request(prompt, negative, 25, 6.5, 1234567890123L, List.of(8, 8));
        Path file = dir.resolve("out.png");
        PngParameters.write(file, picture(), info, req);

        PngParameters.Contents c = PngParameters.read(file);
        assertEquals(prompt, c.infotext().prompt());
        assertEquals(negative, c.infotext().negativePrompt());
        assertEquals(info.settings(), c.infotext().settings());
        assertEquals("my,model", c.fields().get("Model"));
        assertEquals(new ObjectMapper().valueToTree(req), c.request());
        assertEquals(req, new ObjectMapper().treeToValue(c.request(), Request.class));

        // the image itself is untouched and still decodes
        BufferedImage back = ImageIO.read(file.toFile());
        for (int y = 0; y < 8; y++) for (int x = 0; x < 8; x++) assertEquals(picture().getRGB(x, y), back.getRGB(x, y));
        // non-Latin-1 parameters go to iTXt (as PIL writes them), Latin-1 ones to tEXt
        List<PngChunks.Chunk> chunks = PngChunks.parse(Files.readAllBytes(file), "f");
        assertEquals("IHDR", chunks.get(0).type());
        assertEquals(List.of("iTXt", "iTXt"), chunks.subList(1, 3).stream().map(PngChunks.Chunk::type).toList());
        byte[] latin = PngParameters.encode(picture(), Infotext.of("café", "", 1, "Euler", 7, 1, 8, 8, null), null);
        assertEquals("tEXt", PngChunks.parse(latin, "l").get(1).type());
        assertEquals("café", PngParameters.read(latin, "l").infotext().prompt());
        assertNull(PngParameters.read(latin, "l").request());
    }

    @Test void acceptsJsonNodesAndPlainPngs(@TempDir Path dir) throws IOException {
        JsonNode node = new ObjectMapper().readTree("{\"a\": [1, 2, {\"b\": \"ü\"}]}");
        Path file = dir.resolve("n.png");
        PngParameters.write(file, picture(), null, node);
        PngParameters.Contents c = PngParameters.read(file);
        assertEquals(node, c.request());
        assertNull(c.infotext());
        assertTrue(c.fields().isEmpty());
        ImageIO.write(picture(), "png", dir.resolve("plain.png").toFile());
        assertTrue(PngParameters.read(dir.resolve("plain.png")).texts().isEmpty());
    }

    @Test void readsCompressedTextChunks() throws IOException {
        byte[] plain = plainPng();
        List<PngChunks.Chunk> chunks = PngChunks.parse(plain, "p");
        byte[] text = "{\"x\": \"✓\"}".getBytes(StandardCharsets.UTF_8);
        ByteArrayOutputStream itxt = new ByteArrayOutputStream();
        itxt.writeBytes("ldm4j".getBytes(StandardCharsets.ISO_8859_1));
        itxt.writeBytes(new byte[]{0, 1, 0, 0, 0});
        itxt.writeBytes(deflate(text));
        byte[] png = PngChunks.serialize(PngChunks.insertAfterHeader(chunks, List.of(new PngChunks.Chunk("iTXt", itxt.toByteArray(), -1))));
        assertEquals("✓", PngParameters.read(png, "z").request().get("x").asText());
    }

    @Test void malformedChunksGiveClearErrors(@TempDir Path dir) throws IOException {
        byte[] good = PngParameters.encode(picture(), Infotext.of("p", "n", 1, "Euler", 7, 1, 8, 8, null), Map.of("k", 1));

        byte[] badCrc = good.clone();
        badCrc[8 + 8 + 13 + 4 + 8 + 2] ^= 0x55;   // a data byte of the first text chunk
        Path f = dir.resolve("bad.png");
        Files.write(f, badCrc);
        MalformedPngException e = assertThrows(MalformedPngException.class, () -> PngParameters.read(f));
        assertTrue(e.getMessage().contains("bad.png") && e.getMessage().contains("CRC"), e.getMessage());

        MalformedPngException cut = assertThrows(MalformedPngException.class,
                () -> PngParameters.read(java.util.Arrays.copyOf(good, good.length - 20), "cut.png"));
        assertTrue(cut.getMessage().contains("cut.png"), cut.getMessage());

        byte[] hugeLength = good.clone();
        hugeLength[33] = 0x7F;   // length field of the chunk after IHDR
        assertThrows(MalformedPngException.class, () -> PngParameters.read(hugeLength, "len.png"));

        assertThrows(MalformedPngException.class, () -> PngParameters.read("GIF89a....".getBytes(), "x.gif"));

        List<PngChunks.Chunk> chunks = PngChunks.parse(plainPng(), "p");
        byte[] noNul = PngChunks.serialize(PngChunks.insertAfterHeader(chunks,
                List.of(new PngChunks.Chunk("tEXt", "parameters-without-separator".getBytes(), -1))));
        MalformedPngException sep = assertThrows(MalformedPngException.class, () -> PngParameters.read(noNul, "t.png"));
        assertTrue(sep.getMessage().contains("tEXt") && sep.getMessage().contains("NUL"), sep.getMessage());

        byte[] badJson = PngChunks.serialize(PngChunks.insertAfterHeader(chunks, List.of(PngChunks.itxt("ldm4j", "{oops"))));
        IOException j = assertThrows(IOException.class, () -> PngParameters.read(badJson, "j.png"));
        assertTrue(j.getMessage().contains("j.png") && j.getMessage().contains("ldm4j"), j.getMessage());
    }

    static byte[] plainPng() throws IOException {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        ImageIO.write(picture(), "png", out);
        return out.toByteArray();
    }

    static byte[] deflate(byte[] data) {
        Deflater d = new Deflater();
        d.setInput(data);
        d.finish();
        byte[] buf = new byte[1024];
        int n = d.deflate(buf);
        d.end();
        return java.util.Arrays.copyOf(buf, n);
    }
}
