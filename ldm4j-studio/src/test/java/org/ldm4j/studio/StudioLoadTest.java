package org.ldm4j.studio;

import com.fasterxml.jackson.databind.JsonNode;
import org.bytedeco.pytorch.global.torch;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.ldm4j.pipeline.TinyStableDiffusion;

import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The studio under load, on loopback with the tiny model: many clients submit txt2img jobs and poll them to the
 * end (every third client cancels one of its jobs). The bounded queue must answer 429 when full; every accepted job
 * must end done or cancelled, exactly once (no job lost, none duplicated: unique ids, one result and one gallery PNG
 * per done job, none for cancelled ones). Every loop is bounded in count and by a deadline.
 * Default: 8 clients x 4 jobs (seconds); {@code -Dldm4j.long=true} (profile fuzz-long): 32 clients x 25 jobs.
 * Prints requests/s, p50/p99 API latency and the job counts (docs/reliability.md).
 */
class StudioLoadTest {
    @TempDir Path dir;

    @Test void concurrentClientsNeitherLoseNorDuplicateJobs() throws Exception {
        torch.set_num_threads(1);
        boolean big = Boolean.getBoolean("ldm4j.long");
        int clients = big ? 32 : 8, jobsPerClient = big ? 25 : 4;
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(big ? 600 : 90);
        Path model = TinyStableDiffusion.write(dir.resolve("tiny"), 7);
        Limits limits = new Limits(64, 50, 4, 200, 256 * 1024, 4, 2);
        try (StudioFixture studio = new StudioFixture(StudioServer.start(StudioFixture.config(model, dir.resolve("gallery"), limits)))) {
            List<Long> latencies = Collections.synchronizedList(new ArrayList<>());
            Set<String> accepted = ConcurrentHashMap.newKeySet();
            AtomicInteger rejected = new AtomicInteger(), done = new AtomicInteger(), cancelled = new AtomicInteger(), duplicates = new AtomicInteger();
            ExecutorService pool = Executors.newFixedThreadPool(clients);
            long t0 = System.nanoTime();
            List<Future<?>> futures = new ArrayList<>();
            for (int c = 0; c < clients; c++) {
                int client = c;
                futures.add(pool.submit(() -> {
                    for (int j = 0; j < jobsPerClient && System.nanoTime() < deadline; j++) {
                        String body = "{\"mode\":\"txt2img\",\"prompt\":\"a red house " + client + "\",\"steps\":2,\"seed\":" + (client * 100 + j) + "}";
                        String id = null;
                        while (id == null && System.nanoTime() < deadline) {   // a 429 is retried after a pause
                            HttpResponse<String> r = timed(latencies, () -> studio.postJson("/api/jobs", body));
                            if (r.statusCode() == 202) id = StudioFixture.json(r).get("id").asText();
                            else {
                                StudioFixture.assertError(r, 429, "queue is full");
                                rejected.incrementAndGet();
                                Thread.sleep(20);
                            }
                        }
                        if (id == null) break;
                        String jobId = id;
                        if (!accepted.add(id)) duplicates.incrementAndGet();
                        if (client % 3 == 0 && j == 0) timed(latencies, () -> studio.delete("/api/jobs/" + jobId));
                        JsonNode end = null;
                        while (end == null && System.nanoTime() < deadline) {
                            JsonNode job = StudioFixture.json(timed(latencies, () -> studio.get("/api/jobs/" + jobId)));
                            String state = job.get("state").asText();
                            if (state.equals("done") || state.equals("cancelled") || state.equals("failed")) end = job;
                            else Thread.sleep(10);
                        }
                        assertTrue(end != null, "job " + id + " did not end before the deadline");
                        String state = end.get("state").asText();
                        if (state.equals("done")) {
                            assertEquals(1, end.get("results").size(), end.toString());
                            done.incrementAndGet();
                        } else {
                            assertEquals("cancelled", state, end.toString());
                            assertEquals(0, end.get("results").size());
                            cancelled.incrementAndGet();
                        }
                    }
                    return null;
                }));
            }
            for (Future<?> f : futures) f.get(big ? 700 : 120, TimeUnit.SECONDS);
            pool.shutdownNow();
            double seconds = (System.nanoTime() - t0) / 1e9;
            List<Long> sorted = new ArrayList<>(latencies);
            Collections.sort(sorted);
            int lost = accepted.size() - done.get() - cancelled.get();
            System.out.printf("studio load: %d clients x %d jobs, %.1f s, %d requests (%.0f req/s), latency p50 %.1f ms p99 %.1f ms;"
                            + " accepted %d, done %d, cancelled %d, rejected (429) %d, lost %d, duplicated %d%n",
                    clients, jobsPerClient, seconds, sorted.size(), sorted.size() / seconds, sorted.get(sorted.size() / 2) / 1e6,
                    sorted.get((int) (sorted.size() * 0.99)) / 1e6, accepted.size(), done.get(), cancelled.get(), rejected.get(), lost, duplicates.get());
            assertEquals(clients * jobsPerClient, accepted.size(), "every submission was eventually accepted");
            assertEquals(0, lost);
            assertEquals(0, duplicates.get());
            assertTrue(rejected.get() > 0, "with " + clients + " clients and room for 4 jobs the queue must have been full");
            Set<String> galleryIds = new HashSet<>();
            try (Stream<Path> files = Files.list(studio.server.gallery().dir())) {
                for (Path p : files.filter(p -> p.toString().endsWith(".png")).toList()) {
                    String name = p.getFileName().toString();
                    String owner = accepted.stream().filter(name::contains).findFirst().orElseThrow(() -> new AssertionError("stray file " + name));
                    assertTrue(galleryIds.add(owner), "two gallery files for job " + owner);
                }
            }
            assertEquals(done.get(), galleryIds.size(), "one gallery PNG per done job");
        }
    }

    interface Call<T> { T call() throws Exception; }

    static <T> T timed(List<Long> latencies, Call<T> call) throws Exception {
        long t = System.nanoTime();
        T r = call.call();
        latencies.add(System.nanoTime() - t);
        return r;
    }
}
