package org.ldm4j.pipeline;

import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch.ScalarType;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.ldm4j.image.Images;
import org.ldm4j.image.Infotext;
import org.ldm4j.image.PngParameters;
import org.ldm4j.nn.Dtypes;
import org.ldm4j.nn.Engine;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Memory soak: consecutive generations in one JVM through the library loop the CLI batch and the studio call
 * (Txt2Img.run, decode to images, PNG with parameters written atomically), on the tiny model. After a warm-up the
 * resident set ({@code VmRSS} of /proc/self/status: Java heap plus libtorch's native memory) must grow less than 5%.
 * 100 generations by default (a few seconds); {@code -Dldm4j.long=true} (profile fuzz-long) runs 1000.
 *
 * <p>The generations run in a child JVM with a fixed, pre-touched heap: in the shared test JVM the Java heap itself
 * grows as garbage accumulates and shows up in VmRSS (measured 25-40% "growth" with other test classes around it,
 * while native memory was flat), so only a fixed heap makes the resident set measure the native side.
 */
public class GenerationSoakTest {
    @TempDir Path dir;

    @Test void residentMemoryStaysFlatOverManyGenerations() throws Exception {
        String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
        Process p = new ProcessBuilder(java, "-Xms256m", "-Xmx256m", "-XX:+AlwaysPreTouch",
                "-Dldm4j.long=" + Boolean.getBoolean("ldm4j.long"), "-cp", System.getProperty("java.class.path"),
                GenerationSoakTest.class.getName(), dir.toString()).redirectErrorStream(true).start();
        String output = new String(p.getInputStream().readAllBytes());
        assertTrue(p.waitFor() == 0, "soak child failed:\n" + output);
        String line = output.lines().filter(l -> l.startsWith("soak:")).findFirst().orElseThrow();
        System.out.println(line);
        double growth = Double.parseDouble(line.replaceAll(".*growth after warm-up \\(\\d+\\) ([-0-9.]+)%.*", "$1"));
        assertTrue(growth < 5.0, line);
    }

    /** The child: runs the generations and prints the curve. */
    public static void main(String[] args) throws Exception {
        GenerationSoakTest t = new GenerationSoakTest();
        t.dir = Path.of(args[0]);
        t.soak();
    }

    /** VmRSS of this process in kB (also the studio soak's measure). */
    public static long rssKb() throws IOException {
        for (String line : Files.readAllLines(Path.of("/proc/self/status"))) {
            if (line.startsWith("VmRSS:")) return Long.parseLong(line.replaceAll("\\D", ""));
        }
        throw new IllegalStateException("no VmRSS in /proc/self/status");
    }

    void soak() throws Exception {
        Engine.threads(1);
        int total = Boolean.getBoolean("ldm4j.long") ? 1000 : 100, warmUp = total / 10;
        TinyStableDiffusion.write(dir.resolve("tiny"), 0);
        StableDiffusion sd = ModelLoader.load(dir.resolve("tiny").toString(), Dtypes.device("cpu"), ScalarType.Float);
        Path out = Files.createDirectories(dir.resolve("out"));
        List<long[]> curve = new ArrayList<>();
        long base = 0;
        long t0 = System.nanoTime();
        for (int i = 1; i <= total; i++) {
            GenerationRequest r = new GenerationRequest("txt2img", "tiny", "a red house " + i, "", 16, 16, 4, 5.0, "ddim",
                    i, 1, 0, 0, null, null);
            try (PointerScope scope = new PointerScope()) {
                Tensor image = Txt2Img.run(sd, r, List.of(), null).get(0);
                PngParameters.write(out.resolve("image-" + (i % 10) + ".png"), Images.toImage(image),
                        Infotext.of(r.prompt(), "", 4, "DDIM", 5.0, i, 16, 16, "tiny"), r);
            }
            if (i == warmUp) {
                System.gc();
                base = rssKb();
            }
            if (i % (total / 10) == 0) curve.add(new long[]{i, rssKb()});
        }
        System.gc();
        long end = rssKb();
        double growth = (end - base) / (double) base;
        StringBuilder s = new StringBuilder(String.format("soak: %d generations in %.1f s; VmRSS (MB) after generation",
                total, (System.nanoTime() - t0) / 1e9));
        for (long[] p : curve) s.append(String.format(" %d:%.1f", p[0], p[1] / 1024.0));
        s.append(String.format("; growth after warm-up (%d) %.2f%%", warmUp, 100 * growth));
        System.out.println(s);
    }
}
