package org.ldm4j.studio;

import org.bytedeco.pytorch.Tensor;
import org.ldm4j.image.Images;
import org.ldm4j.pipeline.StableDiffusion;
import org.ldm4j.pipeline.Step;
import org.ldm4j.pipeline.StepHook;

import javax.imageio.ImageIO;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;

/**
 * Reports a job's progress after every step and, every {@code every} steps and at the last, a preview: the
 * scheduler's predicted x0 decoded by the VAE (what the image would be if denoising stopped here), as a PNG data URL.
 * Observes only: returns the latents unchanged.
 *
 * <p>A job runs {@code loopsPerImage} denoising loops per image (GradOP: a text-only pass then a projection;
 * iterative SDEdit: one per round); a loop starts when a step is the loop's first, so the fraction counts loops
 * (and the phases the job reports after them, {@link Job#phase}).
 */
final class PreviewHook implements StepHook {
    private final Job job;
    private final StableDiffusion sd;
    private final int every;
    private final int images;
    private final int loopsPerImage;
    private int loop = -1;

    PreviewHook(Job job, StableDiffusion sd, int every) {
        this.job = job;
        this.sd = sd;
        this.every = every;
        this.images = job.request.count();
        this.loopsPerImage = Math.max(1, job.loopsPerImage);
    }

    @Override
    public Tensor afterStep(Tensor latents, Tensor predictedX0, Step step) {
        if (step.index() == step.first() || loop < 0) loop++;
        int total = step.count() - step.first();
        int done = step.index() - step.first() + 1;
        String preview = null;
        if (predictedX0 != null && (done % every == 0 || done == total)) preview = DataUrls.png(png(sd.decodeLatents(predictedX0)));
        int loops = images * loopsPerImage;
        double fraction = Math.min(1.0, (Math.min(loop, loops - 1) + (double) done / total) / job.units());
        job.progress(done, total, Math.min(loop / loopsPerImage, images - 1), images, fraction, preview);
        return latents;
    }

    static byte[] png(Tensor image) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        try {
            ImageIO.write(Images.toImage(image), "png", out);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return out.toByteArray();
    }
}
