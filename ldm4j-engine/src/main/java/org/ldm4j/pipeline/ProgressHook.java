package org.ldm4j.pipeline;

import org.bytedeco.pytorch.Tensor;

/** A terminal progress bar over the steps of a run (steps/s and ETA), closed when the last step is done. */
public final class ProgressHook implements StepHook, AutoCloseable {
    private final String task;
    private ProgressCounter counter;   // one per denoising loop: a job may run several, of different lengths

    public ProgressHook(String task) { this.task = task; }

    @Override
    public Tensor afterStep(Tensor latents, Tensor predictedX0, Step step) {
        if (counter == null) counter = new ProgressCounter(task, step.count() - step.first(), "steps");
        counter.accept(step.index() - step.first() + 1);
        if (step.index() == step.count() - 1) close();
        return latents;
    }

    @Override
    public void close() {
        if (counter != null) {
            counter.close();
            counter = null;
        }
    }
}
