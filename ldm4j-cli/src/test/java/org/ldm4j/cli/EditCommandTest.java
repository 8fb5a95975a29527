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
