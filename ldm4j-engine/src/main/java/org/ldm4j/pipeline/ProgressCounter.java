package org.ldm4j.pipeline;

import me.tongfei.progressbar.ProgressBar;
import me.tongfei.progressbar.ProgressBarBuilder;
import me.tongfei.progressbar.ProgressBarStyle;

import java.util.function.IntConsumer;

/**
 * A terminal progress bar over a loop that is not a denoising run (an optimization's steps), fed the count of steps
 * done: opened at the first report, closed at the last step or by {@link #close()}.
 */
public final class ProgressCounter implements IntConsumer, AutoCloseable {
    private final String task;
    private final String unit;
    private final int total;
    private ProgressBar bar;

    public ProgressCounter(String task, int total, String unit) {
        this.task = task;
        this.total = total;
        this.unit = unit;
    }

    @Override
    public void accept(int done) {
        if (bar == null) {
            bar = new ProgressBarBuilder().setTaskName(task).setInitialMax(total)
                    .setStyle(ProgressBarStyle.ASCII).setUnit(" " + unit, 1).showSpeed().continuousUpdate().build();
        }
        bar.stepTo(done);
        if (done >= total) close();
    }

    @Override
    public void close() {
        if (bar != null) {
            bar.close();
            bar = null;
        }
    }
}
