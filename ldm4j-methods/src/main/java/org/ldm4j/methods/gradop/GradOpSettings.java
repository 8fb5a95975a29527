package org.ldm4j.methods.gradop;

import static org.ldm4j.methods.gradop.GradOpPlusSettings.require;

/**
 * Settings of the two-pass {@link GradOp}. No official code exists (a stub {@code gradop_stroke2img(...,
 * num_grad_steps=50, gamma=1e-3)} with an empty body was deleted); the defaults take that stub's numbers as the step
 * count and λ, and the rest from GradOP+.
 *
 * @param steps              DDIM steps of each pass (50)
 * @param guidanceScale      CFG w of both passes (7.5)
 * @param gradSteps          Adam steps on the text-only latent (50, the stub's {@code num_grad_steps})
 * @param lambda             proximity weight λ of λ·mean((z − z_τ)²) (1e-3, the stub's {@code gamma})
 * @param lr                 Adam learning rate (0.1, as GradOP+)
 * @param projectionStrength SDEdit strength of the projection back to S_τ (0.8, the level GradOP+ injects at)
 * @param painting           the painting function f
 * @param lossScale          1 = loss at full resolution; s = on an s× downsampled decode
 * @param scheduler          null = the official DDIM ({@link GradOpScheduling#officialDdim}); or a scheduler alias
 */
public record GradOpSettings(int steps, double guidanceScale, int gradSteps, double lambda, double lr,
                             double projectionStrength, PaintingSettings painting, int lossScale, String scheduler) implements Stroke2ImgSettings {

    public static GradOpSettings defaults() {
        return new GradOpSettings(50, 7.5, 50, 1e-3, 0.1, 0.8, PaintingSettings.official(), 1, null);
    }

    public GradOpSettings validate() {
        require(steps >= 1 && steps <= 1000, "steps must be in 1..1000, got " + steps);
        require(Double.isFinite(guidanceScale) && guidanceScale >= 0, "guidance scale must be >= 0, got " + guidanceScale);
        require(gradSteps >= 0, "grad steps must be >= 0, got " + gradSteps);
        require(Double.isFinite(lambda) && lambda >= 0, "lambda must be >= 0, got " + lambda);
        require(lr > 0 && Double.isFinite(lr), "lr must be > 0, got " + lr);
        require(projectionStrength >= 0 && projectionStrength <= 1, "projection strength must be in [0, 1], got " + projectionStrength);
        require(painting != null, "painting settings are missing");
        require(lossScale >= 1 && lossScale <= 16, "loss scale must be in 1..16, got " + lossScale);
        painting.validate();
        return this;
    }

    public GradOpSettings withSteps(int s) { return new GradOpSettings(s, guidanceScale, gradSteps, lambda, lr, projectionStrength, painting, lossScale, scheduler); }
    public GradOpSettings withGuidanceScale(double w) { return new GradOpSettings(steps, w, gradSteps, lambda, lr, projectionStrength, painting, lossScale, scheduler); }
    public GradOpSettings withGradSteps(int n) { return new GradOpSettings(steps, guidanceScale, n, lambda, lr, projectionStrength, painting, lossScale, scheduler); }
    public GradOpSettings withLambda(double l) { return new GradOpSettings(steps, guidanceScale, gradSteps, l, lr, projectionStrength, painting, lossScale, scheduler); }
    public GradOpSettings withLr(double r) { return new GradOpSettings(steps, guidanceScale, gradSteps, lambda, r, projectionStrength, painting, lossScale, scheduler); }
    public GradOpSettings withProjectionStrength(double s) { return new GradOpSettings(steps, guidanceScale, gradSteps, lambda, lr, s, painting, lossScale, scheduler); }
    public GradOpSettings withPainting(PaintingSettings p) { return new GradOpSettings(steps, guidanceScale, gradSteps, lambda, lr, projectionStrength, p, lossScale, scheduler); }
    public GradOpSettings withLossScale(int s) { return new GradOpSettings(steps, guidanceScale, gradSteps, lambda, lr, projectionStrength, painting, s, scheduler); }
    public GradOpSettings withScheduler(String s) { return new GradOpSettings(steps, guidanceScale, gradSteps, lambda, lr, projectionStrength, painting, lossScale, s); }
}
