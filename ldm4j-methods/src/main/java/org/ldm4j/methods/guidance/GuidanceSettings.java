package org.ldm4j.methods.guidance;

/**
 * When and how hard {@link SegmentationGuidance} steers.
 *
 * @param from      first step guided, as a fraction of the run (0 = the noisiest step)
 * @param until     steps before this fraction are guided ({@code from <= progress < until})
 * @param gradSteps Adam steps on the x0 prediction per guided step
 * @param lr        Adam learning rate (latent units per step, roughly)
 * @param balance   class balance b of the loss: a pixel of a class covering n pixels weighs n^−b; 0 = every pixel the
 *                  same, 1 = every class the same ({@link SegmentationLoss})
 */
public record GuidanceSettings(double from, double until, int gradSteps, double lr, double balance) {
    public GuidanceSettings {
        if (!(from >= 0 && from < 1)) throw new IllegalArgumentException("guidance start must be in [0, 1), got " + from);
        if (!(until > from && until <= 1)) throw new IllegalArgumentException("guidance end must be in (" + from + ", 1], got " + until);
        if (gradSteps < 1 || gradSteps > 1000) throw new IllegalArgumentException("guidance gradient steps must be in 1..1000, got " + gradSteps);
        if (!(lr > 0 && lr < 100)) throw new IllegalArgumentException("guidance learning rate must be in (0, 100), got " + lr);
        if (!(balance >= 0 && balance <= 1)) throw new IllegalArgumentException("guidance class balance must be in [0, 1], got " + balance);
    }

    /**
     * The setting measured best on held-out FG-DM captions (docs/results-fgdm.md, session 33): the second half of the
     * run, 3 Adam steps at lr 0.05, every pixel the same weight. {@code --guide}'s defaults.
     */
    public static final GuidanceSettings RECOMMENDED = new GuidanceSettings(0.5, 1, 3, 0.05, 0);

    /** True when the step at this fraction of the run is guided. */
    public boolean guides(double progress) { return progress >= from && progress < until; }

    public GuidanceSettings withWindow(double f, double u) { return new GuidanceSettings(f, u, gradSteps, lr, balance); }
    public GuidanceSettings withGradSteps(int n) { return new GuidanceSettings(from, until, n, lr, balance); }
    public GuidanceSettings withLr(double r) { return new GuidanceSettings(from, until, gradSteps, r, balance); }
    public GuidanceSettings withBalance(double b) { return new GuidanceSettings(from, until, gradSteps, lr, b); }
}
