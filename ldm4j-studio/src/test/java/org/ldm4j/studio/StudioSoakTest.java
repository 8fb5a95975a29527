package org.ldm4j.studio;

import com.fasterxml.jackson.databind.JsonNode;
import org.bytedeco.pytorch.global.torch;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.ldm4j.pipeline.GenerationSoakTest;
import org.ldm4j.pipeline.TinyStableDiffusion;

import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Memory soak of the studio (issue #14): consecutive generations through the HTTP API in one server JVM, then a
 * burst of concurrent clients. After a warm-up the resident set must grow less than 5% over the consecutive jobs, and
 * must come back to within 5% of the same baseline once the burst is over (what a server that leaked per request
 * or per queued job would fail).
 *
 * <p>Server and client run in a child JVM with a fixed, pre-touched heap, as {@code GenerationSoakTest} explains: in
 * the shared test JVM the heap's own growth would dominate {@code VmRSS}. 100 jobs and a burst of 8 x 4 by default
 * (seconds, tiny model); {@code -Dldm4j.long=true} (profile fuzz-long) runs 1000 jobs and a burst of 32 x 8.
 * Diagnostics: {@code -Dldm4j.soak.nmt=true} prints the JVM's native-memory diff over the jobs, {@code
 * -Dldm4j.soak.trim=true} returns freed native memory to the OS (malloc_trim) before every measurement.
 */
class StudioSoakTest {
    @TempDir Path dir;

    @Test void residentMemoryStaysFlatOverManyJobsAndReturnsToBaselineAfterABurst() throws Exception {
        String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
        boolean nmt = Boolean.getBoolean("ldm4j.soak.nmt");
        Process p = new ProcessBuilder(java, "-Xms256m", "-Xmx256m", "-XX:+AlwaysPreTouch", "-Djava.awt.headless=true",
                "-XX:NativeMemoryTracking=" + (nmt ? "summary" : "off"), "-Dldm4j.soak.nmt=" + nmt,
                "-Dldm4j.long=" + Boolean.getBoolean("ldm4j.long"), "-Dldm4j.soak.trim=" + Boolean.getBoolean("ldm4j.soak.trim"), "-cp", System.getProperty("java.class.path"),
                StudioSoakTest.class.getName(), dir.toString()).redirectErrorStream(true).start();
        String output = new String(p.getInputStream().readAllBytes());
        assertTrue(p.waitFor() == 0, "studio soak child failed:\n" + output);
        String line = output.lines().filter(l -> l.startsWith("studio soak:")).findFirst()
                .orElseThrow(() -> new AssertionError("no result line:\n" + output));
        System.out.println(nmt ? output : line);
        double growth = Double.parseDouble(line.replaceAll(".*growth over the jobs ([-0-9.]+)%.*", "$1"));
        double afterBurst = Double.parseDouble(line.replaceAll(".*after the burst ([-0-9.]+)%.*", "$1"));
        assertTrue(growth < 5.0, line);
        assertTrue(afterBurst < 5.0, line);
    }

    /** The child: a studio on the tiny model and its client; prints the curve. */
    public static void main(String[] args) throws Exception {
        torch.set_num_threads(1);
        Path dir = Path.of(args[0]);
        boolean big = Boolean.getBoolean("ldm4j.long");
        int jobs = big ? 1000 : 100, warmUp = jobs / 10, clients = big ? 32 : 8, burstJobs = big ? 8 : 4;
        Path model = TinyStableDiffusion.write(dir.resolve("tiny"), 3);
        Limits limits = new Limits(64, 50, 4, 200, 256 * 1024, 4, 2);
        try (StudioFixture studio = new StudioFixture(StudioServer.start(StudioFixture.config(model, dir.resolve("gallery"), limits)))) {
            long t0 = System.nanoTime();
            // warm-up: every path once (sequential jobs and a burst of concurrent clients), so that the JIT's code
            // cache and metaspace, which grew 13 MB between job 10 and job 1000 (-Dldm4j.soak.nmt), are mostly filled
            for (int i = 0; i < warmUp; i++) runJob(studio, i);
            burst(studio, clients, 1, 200_000);
            long base = settledRssKb();
            if (Boolean.getBoolean("ldm4j.soak.nmt")) nativeMemory("baseline");
            List<long[]> curve = new ArrayList<>();
            for (int i = 1; i <= jobs; i++) {
                runJob(studio, warmUp + i);
                if (i % (jobs / 10) == 0) curve.add(new long[]{i, Boolean.getBoolean("ldm4j.soak.trim") ? settledRssKb() : GenerationSoakTest.rssKb()});
            }
            long end = settledRssKb();
            if (Boolean.getBoolean("ldm4j.soak.nmt")) System.out.println(nativeMemory("summary.diff"));
            long burstPeak = burst(studio, clients, burstJobs, 100_000);
            long afterBurst = settledRssKb();
            try (var files = Files.list(studio.server.gallery().dir())) {
                assertEquals(warmUp + clients + jobs + clients * burstJobs, files.filter(f -> f.toString().endsWith(".png")).count(),
                        "one gallery PNG per job");
            }
            StringBuilder s = new StringBuilder(String.format("studio soak: %d jobs + a burst of %d clients x %d in %.1f s; VmRSS (MB) "
                    + "after warm-up (%d jobs and a burst) %.1f, after job", jobs, clients, burstJobs, (System.nanoTime() - t0) / 1e9, warmUp, base / 1024.0));
            for (long[] p : curve) s.append(String.format(" %d:%.1f", p[0], p[1] / 1024.0));
            s.append(String.format("; growth over the jobs %.2f%%; burst peak %.1f MB; after the burst %.2f%% vs the baseline",
                    100.0 * (end - base) / base, burstPeak / 1024.0, 100.0 * (afterBurst - base) / base));
            System.out.println(s);
        }
    }

    /** {@code clients} concurrent clients, {@code jobsEach} jobs each; returns the highest VmRSS seen (kB). */
    static long burst(StudioFixture studio, int clients, int jobsEach, int firstSeed) throws Exception {
        ExecutorService pool = Executors.newFixedThreadPool(clients);
        List<Future<?>> futures = new ArrayList<>();
        for (int c = 0; c < clients; c++) {
            int client = c;
            futures.add(pool.submit(() -> {
                for (int j = 0; j < jobsEach; j++) runJob(studio, firstSeed + client * 100 + j);
                return null;
            }));
        }
        long peak = 0;
        for (Future<?> f : futures) {
            f.get(600, TimeUnit.SECONDS);
            peak = Math.max(peak, GenerationSoakTest.rssKb());
        }
        pool.shutdownNow();
        return peak;
    }

    /** Submits one 2-step txt2img job (retrying a 429) and polls it to done. */
    static void runJob(StudioFixture studio, int seed) throws Exception {
        String body = "{\"mode\":\"txt2img\",\"prompt\":\"a red house " + seed + "\",\"steps\":2,\"seed\":" + seed + "}";
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(120);
        String id = null;
        while (id == null) {
            assertTrue(System.nanoTime() < deadline, "job " + seed + " was never accepted");
            HttpResponse<String> r = studio.postJson("/api/jobs", body);
            if (r.statusCode() == 202) id = StudioFixture.json(r).get("id").asText();
            else {
                StudioFixture.assertError(r, 429, "queue is full");
                Thread.sleep(20);
            }
        }
        while (true) {
            assertTrue(System.nanoTime() < deadline, "job " + id + " did not end");
            JsonNode job = StudioFixture.json(studio.get("/api/jobs/" + id));
            String state = job.get("state").asText();
            if (state.equals("done")) return;
            assertTrue(state.equals("queued") || state.equals("running"), job.toString());
            Thread.sleep(5);
        }
    }

    /** VmRSS after a full GC and a moment for the worker threads to go idle. */
    static long settledRssKb() throws Exception {
        System.gc();
        Thread.sleep(200);
        if (Boolean.getBoolean("ldm4j.soak.trim")) org.bytedeco.javacpp.Pointer.trimMemory();
        return GenerationSoakTest.rssKb();
    }

    /** The JVM's own native memory by category (-Dldm4j.soak.nmt=true): tells JVM-internal growth from libtorch's. */
    static String nativeMemory(String command) throws Exception {
        return (String) java.lang.management.ManagementFactory.getPlatformMBeanServer().invoke(
                new javax.management.ObjectName("com.sun.management:type=DiagnosticCommand"), "vmNativeMemory",
                new Object[]{new String[]{command}}, new String[]{String[].class.getName()});
    }
}
