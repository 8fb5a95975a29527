package org.ldm4j.train;

import org.bytedeco.pytorch.Scalar;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.ldm4j.nn.Block;
import org.ldm4j.nn.Engine;
import org.ldm4j.nn.Linear;
import org.ldm4j.nn.Param;
import org.ldm4j.nn.Rng;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.*;

class TrainerTest {
    @BeforeAll static void init() { Engine.threads(1); }

    static final class Model extends Block {
        final Linear a = child("a", new Linear(3, 4));
        final Linear b = child("b", new Linear(4, 1));
    }

    /** Regression y = w·x + noise; the data of a step depends only on the step's Rng. */
    static Trainer.Objective regression(Model m) {
        return (step, rng) -> {
            Tensor x = rng.randn(16, 3);
            Tensor y = x.sum(new long[]{1}, true, new org.bytedeco.pytorch.ScalarTypeOptional()).mul(new Scalar(0.5));
            return m.b.forward(torch.tanh(m.a.forward(x))).sub(y).pow(new Scalar(2.0)).mean();
        };
    }

    static Trainer.Options options(Path run, long total, int every) {
        return new Trainer.Options(total, new LrSchedule(0.01, 2, (int) total, true, 0.1), 1.0, 0.9, 0.01, every, 2, 5, run);
    }

    @Test void adamMatchesTheClosedFormOnAQuadratic() {
        // one parameter θ = 1, loss θ², lr 0.1, no decay: torch.optim.AdamW's first steps on this problem
        class One extends Block { final Param p = constant("p", 1.0, 1); }
        One one = new One();
        one.requiresGrad(true);
        AdamW adam = new AdamW(one.namedParameters(), 0.9, 0.999, 1e-8, 0.0);
        double theta = 1, m = 0, v = 0;
        for (int t = 1; t <= 5; t++) {
            one.p.t().pow(new Scalar(2.0)).sum().backward();
            adam.step(0.1);
            adam.zeroGrad();
            double g = 2 * theta;
            m = 0.9 * m + 0.1 * g;
            v = 0.999 * v + 0.001 * g * g;
            theta -= 0.1 / (1 - Math.pow(0.9, t)) * m / (Math.sqrt(v) / Math.sqrt(1 - Math.pow(0.999, t)) + 1e-8);
            assertEquals(theta, one.p.t().item_double(), 1e-6, "step " + t);
        }
    }

    @Test void lossDecreasesAndResumeIsExact(@TempDir Path dir) {
        torch.manual_seed(3);
        Model straight = new Model();
        Map<String, Tensor> init = new java.util.HashMap<>();
        straight.stateDict().forEach((k, t) -> init.put(k, t.clone()));   // stateDict shares storage, like PyTorch's
        Trainer t1 = new Trainer(straight, options(dir.resolve("straight"), 40, 10));
        double first = regression(straight).loss(0, new Rng(5)).item_double();
        double last = t1.run(regression(straight), 40);
        assertTrue(last < first * 0.5, "loss " + first + " -> " + last);

        Model interrupted = new Model();
        interrupted.namedParameters().forEach((k, p) -> p.t().detach().copy_(init.get(k)));
        new Trainer(interrupted, options(dir.resolve("resumed"), 40, 10)).run(regression(interrupted), 20);
        Model resumed = new Model();   // a fresh process: different random init, state comes from the checkpoint
        Trainer t2 = new Trainer(resumed, options(dir.resolve("resumed"), 40, 10));
        assertEquals(20, t2.step());
        t2.run(regression(resumed), 40);
        straight.namedParameters().forEach((k, p) ->
                assertEquals(0.0, p.t().sub(resumed.namedParameters().get(k).t()).abs().max().item_double(), 0.0, k));
        t1.ema().weights().forEach((k, w) ->
                assertEquals(0.0, w.sub(t2.ema().weights().get(k)).abs().max().item_double(), 0.0, "ema " + k));
    }

    @Test void checkpointsAreCompleteAndPruned(@TempDir Path dir) throws Exception {
        Model m = new Model();
        new Trainer(m, options(dir, 30, 5)).run(regression(m), 30);
        Path ckpts = dir.resolve("checkpoints");
        assertEquals("step-00000030", Files.readString(ckpts.resolve("latest")));
        try (var s = Files.list(ckpts)) {
            assertEquals(3, s.count(), "two checkpoints and the latest pointer, no temporaries");
        }
        assertTrue(Files.exists(ckpts.resolve("step-00000030/ema.safetensors")));
        assertTrue(Files.readString(dir.resolve("metrics.jsonl")).lines().count() >= 15);
    }

    /** An objective's own figures are averaged over each log window into the loss's metrics.jsonl row. */
    @Test void stepMetricsAreAveragedIntoTheMetricsLog(@TempDir Path dir) throws Exception {
        Model m = new Model();
        Trainer.Objective plain = regression(m);
        Trainer.Objective withFigures = new Trainer.Objective() {
            long last;
            @Override public Tensor loss(long step, org.ldm4j.nn.Rng rng) { last = step; return plain.loss(step, rng); }
            @Override public java.util.Map<String, Double> stepMetrics() { return java.util.Map.of("step_seen", (double) last); }
        };
        new Trainer(m, options(dir, 4, 4)).run(withFigures, 4);
        java.util.List<String> rows = Files.readAllLines(dir.resolve("metrics.jsonl"));
        com.fasterxml.jackson.databind.ObjectMapper json = new com.fasterxml.jackson.databind.ObjectMapper();
        assertEquals(2, rows.size(), rows.toString());
        assertEquals(0.5, json.readTree(rows.get(0)).get("step_seen").asDouble(), 1e-12, "steps 0 and 1 of the first window");
        assertEquals(2.5, json.readTree(rows.get(1)).get("step_seen").asDouble(), 1e-12, "steps 2 and 3 of the second");
        assertTrue(json.readTree(rows.get(0)).has("loss"));
    }

    @Test void nanLossStopsWithTheStep(@TempDir Path dir) {
        Model m = new Model();
        Trainer t = new Trainer(m, options(dir, 10, 5));
        IllegalStateException e = assertThrows(IllegalStateException.class,
                () -> t.run((step, rng) -> m.b.forward(m.a.forward(rng.randn(2, 3))).sum().mul(new Scalar(Double.NaN)), 10));
        assertTrue(e.getMessage().contains("at step 0"), e.getMessage());
    }
}
