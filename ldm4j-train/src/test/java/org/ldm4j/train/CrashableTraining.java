package org.ldm4j.train;

import org.bytedeco.pytorch.Scalar;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch;
import org.ldm4j.nn.Block;
import org.ldm4j.nn.Engine;
import org.ldm4j.nn.Linear;

import java.nio.file.Path;

/**
 * Child-process main for {@link CheckpointCrashTest}: trains a small regression model with a checkpoint after every
 * step (about 2 MB each, so most of the time is spent writing checkpoints and a kill usually lands mid-write).
 * Prints {@code RESUMED n} at start and {@code STEP n} as each step's loss is computed. With {@code lockstep} it then
 * waits for a line on stdin before computing the step, so the parent decides when a step runs and a fast child cannot
 * run ahead of a slow (loaded) parent's reader.
 * Usage: {@code CrashableTraining RUN_DIR TOTAL_STEPS [lockstep]}.
 */
public final class CrashableTraining {
    static final class Model extends Block {
        final Linear a = child("a", new Linear(64, 256));
        final Linear b = child("b", new Linear(256, 256));
        final Linear c = child("c", new Linear(256, 1));
    }

    public static void main(String[] args) {
        Engine.threads(1);
        torch.manual_seed(3);
        Path run = Path.of(args[0]);
        long total = Long.parseLong(args[1]);
        boolean lockstep = args.length > 2 && args[2].equals("lockstep");
        java.io.BufferedReader go = new java.io.BufferedReader(new java.io.InputStreamReader(System.in));
        Model m = new Model();
        Trainer trainer = new Trainer(m, new Trainer.Options(total, new LrSchedule(0.01, 2, (int) total, true, 0.1),
                1.0, 0.9, 0.01, 1, 5, 5, run));
        System.out.println("RESUMED " + trainer.step());
        System.out.flush();
        trainer.run((step, rng) -> {
            System.out.println("STEP " + step);
            System.out.flush();
            if (lockstep) {
                try {
                    if (go.readLine() == null) System.exit(3);
                } catch (java.io.IOException e) {
                    throw new java.io.UncheckedIOException(e);
                }
            }
            Tensor x = rng.randn(8, 64);
            Tensor y = x.sum(new long[]{1}, true, new org.bytedeco.pytorch.ScalarTypeOptional()).mul(new Scalar(0.1));
            return m.c.forward(torch.tanh(m.b.forward(torch.tanh(m.a.forward(x))))).sub(y).pow(new Scalar(2.0)).mean();
        }, total);
        System.out.println("DONE " + trainer.step());
    }
}
