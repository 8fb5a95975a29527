package org.ldm4j.studio;

import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.InferenceMode;
import org.ldm4j.image.Images;
import org.ldm4j.pipeline.StableDiffusion;
import org.ldm4j.pipeline.StepHook;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.Semaphore;

/**
 * The one thread that runs a loaded model's jobs, in submission order. At most {@code queueCapacity} jobs may be
 * queued or running; a submission beyond that is refused with 429 rather than queued without bound.
 * libtorch runs on this thread only, so a model's weights are never used by two jobs at once.
 */
public final class ModelWorker implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(ModelWorker.class);

    public final StableDiffusion sd;
    public final ModelInfo info;
    private final Gallery gallery;
    private final Limits limits;
    private final Semaphore slots;
    private final LinkedBlockingQueue<Job> queue = new LinkedBlockingQueue<>();
    private final Thread thread;
    private volatile boolean closed;
    private volatile Job current;

    public ModelWorker(StableDiffusion sd, ModelInfo info, Gallery gallery, Limits limits) {
        this.sd = sd;
        this.info = info;
        this.gallery = gallery;
        this.limits = limits;
        this.slots = new Semaphore(limits.queueCapacity());
        this.thread = new Thread(this::loop, "studio-worker-" + info.name());
        thread.setDaemon(true);
        thread.start();
    }

    /** Queues the job, or throws 429 when {@code queueCapacity} jobs are already queued or running. */
    public void submit(Job job) {
        if (closed) throw new ApiError(503, "the server is shutting down");
        if (!slots.tryAcquire()) {
            throw new ApiError(429, "the queue is full: " + limits.queueCapacity()
                    + " jobs are queued or running; try again when one has finished");
        }
        queue.add(job);
    }

    /** Cancels a job of this worker; a queued one gives its slot back at once. */
    public boolean cancel(Job job) {
        boolean accepted = job.cancel();
        if (accepted && queue.remove(job)) slots.release();
        return accepted;
    }

    private void loop() {
        while (!closed) {
            Job job;
            try {
                job = queue.take();
            } catch (InterruptedException e) {
                return;
            }
            try {
                current = job;
                if (job.start()) execute(job);
            } finally {
                current = null;
                slots.release();
            }
        }
    }

    private void execute(Job job) {
        try (PointerScope scope = new PointerScope(); InferenceMode inference = new InferenceMode()) {
            PreviewHook preview = new PreviewHook(job, job.previews != null ? job.previews : sd, limits.previewEvery());
            List<Mode.Output> outputs = job.run.generate(sd, List.of(preview), job::cancelRequested, job::phase);
            if (job.cancelRequested()) throw new StepHook.Cancelled("cancelled after the last step");
            List<Gallery.Picture> pictures = new ArrayList<>();
            List<String> labels = new ArrayList<>();
            List<Object> details = new ArrayList<>();
            for (Mode.Output o : outputs) {
                pictures.add(new Gallery.Picture(Images.toImage(o.image()), o.request(), o.embedded()));
                labels.add(o.label());
                details.add(o.details());
            }
            List<String> files = gallery.write(job.id, pictures, Gallery.samplerLabel(job.request, info));
            job.finish(Job.State.DONE, null, files, labels, details);
        } catch (StepHook.Cancelled c) {
            job.finish(Job.State.CANCELLED, "cancelled", List.of());
        } catch (IllegalArgumentException | ApiError e) {
            job.finish(Job.State.FAILED, e.getMessage(), List.of());
        } catch (Throwable t) {
            LOG.error("job {} failed", job.id, t);
            job.finish(Job.State.FAILED, "internal error: " + t.getClass().getSimpleName()
                    + (t.getMessage() == null ? "" : ": " + t.getMessage()), List.of());
        }
    }

    @Override
    public void close() {
        closed = true;
        Job running = current;
        if (running != null) running.cancel();
        thread.interrupt();
        for (Job j; (j = queue.poll()) != null; ) {
            j.cancel();
            slots.release();
        }
    }
}
