package org.ldm4j.cli;

import org.bytedeco.pytorch.global.torch.ScalarType;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.ldm4j.nn.Dtypes;
import org.ldm4j.nn.Engine;
import org.ldm4j.pipeline.ModelLoader;
import org.ldm4j.pipeline.StableDiffusion;
import org.ldm4j.pipeline.TinyStableDiffusion;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.junit.jupiter.api.Assertions.*;

/** The GradOP+ cost benchmark on the tiny model: every figure printed, every ratio finite and above 1 where it must be. */
class GradOpCostBenchmarkTest {
    @TempDir Path dir;

    @Test void printsEndToEndRatiosAndTheCostModel() throws Exception {
        Engine.threads(1);
        StableDiffusion sd = ModelLoader.load(TinyStableDiffusion.write(dir.resolve("tiny"), 1).toString(), Dtypes.device("cpu"), ScalarType.Float);
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        new GradOpCostBenchmark(new PrintStream(bytes, true, StandardCharsets.UTF_8)).run(sd, 16, 3, 1);
        String out = bytes.toString(StandardCharsets.UTF_8);
        List<Double> endToEnd = ratios("loss scale \\d\\): [0-9.]+ s = ([0-9.]+)x SDEdit", out);
        assertEquals(2, endToEnd.size(), out);
        for (double r : endToEnd) assertTrue(r > 0, out);
        // GradOP+ runs all 50 steps plus 36 decoder passes against SDEdit's 40 steps: the model's ratio exceeds 1.
        List<Double> model = ratios("official settings .*? cost ([0-9.]+)x SDEdit", out);
        assertEquals(2, model.size(), out);
        for (double r : model) assertTrue(r > 1, out);
        ByteArrayOutputStream only = new ByteArrayOutputStream();
        new GradOpCostBenchmark(new PrintStream(only, true, StandardCharsets.UTF_8)).run(sd, 16, 0, 1);
        assertFalse(only.toString(StandardCharsets.UTF_8).contains("end to end"), "--gradop-steps 0: components only");
    }

    /** Group 1 of every match of {@code regex} in {@code text}, as numbers. */
    private static List<Double> ratios(String regex, String text) {
        List<Double> out = new ArrayList<>();
        Matcher m = Pattern.compile(regex).matcher(text);
        while (m.find()) out.add(Double.parseDouble(m.group(1)));
        return out;
    }
}
