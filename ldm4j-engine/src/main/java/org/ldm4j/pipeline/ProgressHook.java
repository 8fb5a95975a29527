package org.ldm4j.pipeline;

import me.tongfei.progressbar.ProgressBar;
import me.tongfei.progressbar.ProgressBarBuilder;
import me.tongfei.progressbar.ProgressBarStyle;
import org.bytedeco.pytorch.Tensor;

/** A terminal progress bar over the steps of a run (steps/s and ETA), closed when the last step is done. */
public final class ProgressHook implements StepHook, AutoCloseable {
    private final String task;
    private ProgressBar bar;

    public ProgressHook(String task) { this.task = task; }

    @Override
    public Tensor afterStep(Tensor latents, Tensor predictedX0, Step step) {
        if (bar == null) {
            bar = new ProgressBarBuilder().setTaskName(task).setInitialMax(step.count() - step.first())
                    .setStyle(ProgressBarStyle.ASCII).setUnit(" steps", 1).showSpeed().continuousUpdate().build();
        }
        bar.step();
        if (step.index() == step.count() - 1) close();
        return latents;
    }

    @Override
    public void close() {
        if (bar != null) {
            bar.close();
            bar = null;
        }
    }
}
