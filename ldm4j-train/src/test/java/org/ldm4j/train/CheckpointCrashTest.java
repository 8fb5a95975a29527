package org.ldm4j.train;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.ldm4j.weights.SafetensorsFile;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Random;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * A training run ({@link CrashableTraining} in a child JVM, a checkpoint every step) is killed with SIGKILL three
 * times at random moments, mostly in the middle of writing a checkpoint. After each kill the {@code latest}
 * checkpoint must be complete and readable; each rerun must resume from exactly that step; the finished run must
 * end with the same weights, byte for byte, as a run that was never interrupted; and the checkpoints folder must hold
 * the two newest complete checkpoints and no temporary leftovers.
 */
class CheckpointCrashTest {
    static final long TOTAL = 24;

    static Process child(Path run, String... extra) throws IOException {
        String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
        List<String> command = new java.util.ArrayList<>(List.of(java, "-Xmx256m", "-cp",
                System.getProperty("java.class.path"), CrashableTraining.class.getName(), run.toString(),
                Long.toString(TOTAL)));
        command.addAll(List.of(extra));
        return new ProcessBuilder(command).redirectErrorStream(true).start();
    }

    /**
     * Runs a child in lock step (it waits for a line before each step) until it reaches step {@code killAt}, lets
     * that step go and kills the child after a random delay, so the kill lands during that step or its checkpoint
     * write (saved as checkpoint {@code killAt + 1}), never later: the newest complete checkpoint is then
     * {@code killAt} or {@code killAt + 1}.
     */
    static long runAndKill(Path run, long killAt, Random random) throws Exception {
        Process p = child(run, "lockstep");
        long resumed = -1;
        try (BufferedReader out = new BufferedReader(new InputStreamReader(p.getInputStream()));
             java.io.Writer go = new java.io.OutputStreamWriter(p.getOutputStream())) {
            for (String line; (line = out.readLine()) != null; ) {
                // stderr (the progress bar, \r-separated) is merged in, so a marker may end a longer line
                int r = line.indexOf("RESUMED ");
                if (r >= 0) resumed = Long.parseLong(line.substring(r + 8).trim());
                int s = line.indexOf("STEP ");
                if (s < 0) continue;
                go.write("\n");
                go.flush();
                if (line.endsWith("STEP " + killAt)) {
                    Thread.sleep(random.nextInt(30));
                    p.destroyForcibly();
                    break;
                }
            }
        }
        assertTrue(p.waitFor(60, TimeUnit.SECONDS));
        return resumed;
    }

    static long completeStep(Path checkpoint) throws IOException {
        try (SafetensorsFile model = SafetensorsFile.open(checkpoint.resolve("model.safetensors"));
             SafetensorsFile opt = SafetensorsFile.open(checkpoint.resolve("optimizer.safetensors"));
             SafetensorsFile ema = SafetensorsFile.open(checkpoint.resolve("ema.safetensors"))) {
            assertEquals(model.names(), ema.names());
            assertTrue(opt.names().size() >= model.names().size());
            return Long.parseLong(model.metadata().get("step"));
        }
    }

    @Test void killedRunsResumeFromTheLastCompleteCheckpoint(@TempDir Path dir) throws Exception {
        Path run = dir.resolve("crashed");
        Random random = new Random(7);
        long expectedResume = 0;
        for (long killAt : new long[]{5, 11, 17}) {
            long resumed = runAndKill(run, killAt, random);
            assertEquals(expectedResume, resumed, "resumed from the last complete checkpoint");
            Path latest = new Checkpoints(run).latest();
            assertNotNull(latest, "a complete checkpoint exists after the kill at step " + killAt);
            expectedResume = completeStep(latest);
            assertTrue(expectedResume == killAt || expectedResume == killAt + 1, "latest is step " + expectedResume);
        }
        Process finish = child(run);
        String output = new String(finish.getInputStream().readAllBytes());
        assertTrue(finish.waitFor(120, TimeUnit.SECONDS) && finish.exitValue() == 0, output);
        assertTrue(output.contains("RESUMED " + expectedResume) && output.contains("DONE " + TOTAL), output);

        Path straight = dir.resolve("straight");
        Process clean = child(straight);
        String cleanOut = new String(clean.getInputStream().readAllBytes());
        assertTrue(clean.waitFor(120, TimeUnit.SECONDS) && clean.exitValue() == 0, cleanOut);
        Path last = new Checkpoints(run).latest(), reference = new Checkpoints(straight).latest();
        for (String f : List.of("model.safetensors", "ema.safetensors", "optimizer.safetensors")) {
            assertArrayEquals(Files.readAllBytes(reference.resolve(f)), Files.readAllBytes(last.resolve(f)), f);
        }
        try (Stream<Path> s = Files.list(run.resolve("checkpoints"))) {
            List<String> names = s.map(p -> p.getFileName().toString()).sorted().toList();
            assertEquals(List.of("latest", String.format("step-%08d", TOTAL - 1), String.format("step-%08d", TOTAL)),
                    names.stream().filter(n -> !n.equals("latest.tmp")).toList());
        }
    }

    /** The defect the crash runs exposed: a killed save's temporary folder must neither count as a checkpoint nor stay. */
    @Test void aLeftoverTemporaryFolderDoesNotEvictACompleteCheckpoint(@TempDir Path run) throws IOException {
        TrainerTest.Model m = new TrainerTest.Model();
        AdamW adam = new AdamW(m.namedParameters(), 0.9, 0.999, 1e-8, 0.0);
        Checkpoints checkpoints = new Checkpoints(run);
        checkpoints.save(2, m, adam, null);
        Files.createDirectories(run.resolve("checkpoints/step-00000003.tmp12345"));   // as a SIGKILL mid-save leaves it
        checkpoints.save(3, m, adam, null);
        try (Stream<Path> s = Files.list(run.resolve("checkpoints"))) {
            assertEquals(List.of("latest", "step-00000002", "step-00000003"),
                    s.map(p -> p.getFileName().toString()).filter(n -> !n.equals("latest.tmp")).sorted().toList());
        }
    }

    /** A damaged pointer is an error naming it, never a silent fresh start that would overwrite the checkpoints. */
    @Test void aLatestPointerThatNamesNoCheckpointIsAnError(@TempDir Path run) throws IOException {
        TrainerTest.Model m = new TrainerTest.Model();
        AdamW adam = new AdamW(m.namedParameters(), 0.9, 0.999, 1e-8, 0.0);
        Checkpoints checkpoints = new Checkpoints(run);
        assertEquals(null, checkpoints.latest(), "no checkpoint yet");
        checkpoints.save(1, m, adam, null);
        assertEquals(run.resolve("checkpoints/step-00000001"), checkpoints.latest());
        for (String damaged : List.of("garbage", "step-00000009", "../../etc", "")) {
            Files.writeString(run.resolve("checkpoints/latest"), damaged);
            String message = org.junit.jupiter.api.Assertions.assertThrows(IllegalArgumentException.class, checkpoints::latest).getMessage();
            assertTrue(message.contains("latest names '" + damaged + "'") && message.contains("not a checkpoint folder"), message);
        }
    }
}
