package org.ldm4j.toyworld;

/**
 * Measures single-thread generation speed: {@code java ... ToyWorldBenchmark [size=64] [scenes=5000]}. Prints
 * scenes per second after a warm-up pass, with every map computed (image, seg, depth, sketch, normals, captions).
 */
public final class ToyWorldBenchmark {
    private ToyWorldBenchmark() {}

    public static void main(String[] args) {
        int size = args.length > 0 ? Integer.parseInt(args[0]) : 64;
        int scenes = args.length > 1 ? Integer.parseInt(args[1]) : 5000;
        SceneOptions options = SceneOptions.square(size);
        long checksum = run(0, Math.max(500, scenes / 5), options);   // warm-up: JIT
        java.lang.management.ThreadMXBean threads = java.lang.management.ManagementFactory.getThreadMXBean();
        long t0 = System.nanoTime(), c0 = threads.getCurrentThreadCpuTime();
        checksum += run(1_000_000, scenes, options);
        double seconds = (System.nanoTime() - t0) / 1e9, cpuSeconds = (threads.getCurrentThreadCpuTime() - c0) / 1e9;
        // CPU time is reported too: on a shared machine wall time includes waiting for a core.
        System.out.printf("ToyWorld %dx%d: %d scenes in %.2f s wall = %.0f scenes/s; %.2f s CPU = %.0f scenes/s per core (checksum %d)%n",
                size, size, scenes, seconds, scenes / seconds, cpuSeconds, scenes / cpuSeconds, checksum);
    }

    private static long run(long firstSeed, int count, SceneOptions options) {
        long sum = 0;
        ToyWorldStream stream = new ToyWorldStream(firstSeed, count, options);
        while (stream.hasNext()) {
            Scene s = stream.next();
            sum += s.rgb()[s.rgb().length / 2] + s.objects().size() + s.caption().length();
        }
        return sum;
    }
}
