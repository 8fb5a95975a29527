package org.ldm4j.batch;

import org.bytedeco.pytorch.InferenceMode;
import org.bytedeco.pytorch.global.torch;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.ldm4j.image.Images;
import org.ldm4j.image.PngParameters;
import org.ldm4j.pipeline.GenerationRequest;
import org.ldm4j.pipeline.StableDiffusion;
import org.ldm4j.pipeline.TinyStableDiffusion;
import org.ldm4j.pipeline.Txt2Img;

import javax.imageio.ImageIO;
import java.awt.image.BufferedImage;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The in-process runner on the tiny model: every method, workers, and the single-image path's bytes. */
class BatchRunnerTest {
    @TempDir static Path dir;
    static Path model;

    @BeforeAll
    static void setUp() throws Exception {
        torch.set_num_threads(1);
        model = TinyStableDiffusion.write(dir.resolve("tiny"), 3);
    }

    static BatchSpec spec(String method, String fixed, String grid, Path out) {
        return BatchSpec.parse("""
                {"model": "%s", "method": "%s", "prompts": ["a red house", "a boat"],
                 "parameters": {"steps": 3, "scheduler": "ddim"%s}, "grid": {%s}, "seeds": [5, 6], "output": "%s"}
                """.formatted(model, method, fixed, grid, out), method);
    }

    @Test
    void txt2imgItemIsTheSingleImagePathsPngAndWorkersDoNotMatter() throws Exception {
        BatchSpec one = spec("txt2img", "", "\"cfg\": [2.0, 4.0]", dir.resolve("w1"));
        BatchRunner.Summary s1 = BatchRunner.run(one, new LocalBatchStore(dir.resolve("w1")), 1, null);
        BatchRunner.Summary s2 = BatchRunner.run(one, new LocalBatchStore(dir.resolve("w2")), 2, null);
        assertEquals(8, s1.generated());
        assertEquals(8, s2.generated());
        for (BatchItem item : one.items()) {
            assertArrayEquals(Files.readAllBytes(dir.resolve("w1").resolve(item.imagePath())),
                    Files.readAllBytes(dir.resolve("w2").resolve(item.imagePath())), item.id());
        }
        // item 5 = prompt 1, cfg 2.0, seed 6: the PNG Txt2Img + PngParameters make for that request
        BatchItem item = one.item(5);
        StableDiffusion sd = ModelCache.get(ModelCache.key(one, null)).sd();
        GenerationRequest r = new GenerationRequest("txt2img", sd.name, "a boat", "", 16, 16, 3, 2.0, "ddim", 6, 1, 0, 0.0, null, null);
        byte[] direct;
        try (InferenceMode im = new InferenceMode()) {
            BufferedImage img = Images.toImage(Txt2Img.run(sd, r, List.of(), null).get(0));
            direct = PngParameters.encode(img, PngParameters.read(dir.resolve("w1").resolve(item.imagePath())).infotext(), r);
        }
        assertArrayEquals(direct, Files.readAllBytes(dir.resolve("w1").resolve(item.imagePath())));
        assertEquals(8, Files.readAllLines(dir.resolve("w1").resolve(BatchRunner.INDEX)).size());

        BatchRunner.Summary again = BatchRunner.run(one, new LocalBatchStore(dir.resolve("w1")), 1, null);
        assertEquals(8, again.reused());
    }

    static String errors(BatchRunner.Summary s) {
        return s.rows().stream().filter(r -> !r.ok()).map(BatchRow::error).distinct().toList().toString();
    }

    @Test
    void strokeAndEditMethodsRunAsItems() throws Exception {
        BufferedImage paint = new BufferedImage(16, 16, BufferedImage.TYPE_INT_RGB);
        BufferedImage mask = new BufferedImage(16, 16, BufferedImage.TYPE_INT_RGB);
        for (int y = 0; y < 16; y++) for (int x = 0; x < 16; x++) {
            paint.setRGB(x, y, y < 8 ? 0x3366ff : 0x22aa33);
            mask.setRGB(x, y, x >= 4 && x < 12 && y >= 4 && y < 12 ? 0xffffff : 0);
        }
        Path p = dir.resolve("paint.png"), m = dir.resolve("mask.png");
        ImageIO.write(paint, "png", p.toFile());
        ImageIO.write(mask, "png", m.toFile());
        BatchSpec stroke = spec("stroke2img", ", \"painting\": \"" + p + "\", \"iterations\": 1, \"gradSteps\": 1, \"blurKernel\": 5, \"blurSigma\": 1.0",
                "\"variant\": [\"gradop+\", \"sdedit\"]", dir.resolve("stroke"));
        BatchRunner.Summary s = BatchRunner.run(stroke, new LocalBatchStore(dir.resolve("stroke")), 1, null);
        assertEquals(8, s.generated(), errors(s));
        BatchSpec edit = spec("edit", ", \"image\": \"" + p + "\", \"mask\": \"" + m + "\", \"repair\": false", "", dir.resolve("edit"));
        BatchRunner.Summary e = BatchRunner.run(edit, new LocalBatchStore(dir.resolve("edit")), 1, null);
        assertEquals(4, e.generated(), errors(e));
        BufferedImage out = Images.readImage(dir.resolve("edit").resolve(edit.item(0).imagePath()));
        assertEquals(paint.getRGB(0, 0) & 0xffffff, out.getRGB(0, 0) & 0xffffff, "outside the mask the input is kept");
        assertTrue(PngParameters.read(dir.resolve("stroke").resolve(stroke.item(0).imagePath())).request().has("settings"));
    }
}
