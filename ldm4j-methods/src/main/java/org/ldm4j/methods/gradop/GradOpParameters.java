package org.ldm4j.methods.gradop;

import java.util.List;
import java.util.Locale;

/**
 * The stroke-to-image parameters a user gives (CLI options, studio fields, batch spec keys), each null when left out,
 * and their one mapping onto a method's settings: the method's defaults (GradOP+: the {@code preset}), then every
 * parameter given. The apps check which parameters apply to which method, in their own words, before calling
 * {@link #toSettings}; a parameter that does not apply to the chosen method is ignored here.
 *
 * @param preset           GradOP+ only: {@code official} (null), {@code recommended} or {@code fast}, see {@link GradOpPlusSettings}
 * @param scheduler        a scheduler alias; null = each method's default (GradOP: the official DDIM, baselines: {@code ddim})
 * @param steps            DDIM steps
 * @param guidanceScale    CFG w
 * @param strength         GradOP+ strength, GradOP projection strength, SDEdit strength
 * @param iterations       GradOP+ iterations, rounds of iterative SDEdit
 * @param gradSteps        Adam steps (per iteration for GradOP+)
 * @param lr               Adam learning rate
 * @param lambda           GradOP's proximity weight λ
 * @param lossScale        GradOP/GradOP+ loss on an s× downsampled decode
 * @param paintingFunction see {@link PaintingSettings#FUNCTIONS}
 * @param blurKernel       Gaussian kernel side
 * @param blurSigma        Gaussian sigma
 * @param medianSize       median window side
 * @param paletteColours   at most this many palette colours
 */
public record GradOpParameters(String preset, String scheduler, Integer steps, Double guidanceScale, Double strength,
                               Integer iterations, Integer gradSteps, Double lr, Double lambda, Integer lossScale,
                               String paintingFunction, Integer blurKernel, Double blurSigma, Integer medianSize,
                               Integer paletteColours) {
    /** What {@link #toSettings} knows: GradOP+, GradOP and the baselines of {@link Stroke2ImgBaselines}. */
    public static final List<String> METHODS = List.of("gradop+", "gradop", "sdedit", "iterative-sdedit", "text");

    /**
     * {@link GradOpPlusSettings} for {@code gradop+}, {@link GradOpSettings} for {@code gradop}, {@link BaselineSettings}
     * for {@code sdedit}, {@code iterative-sdedit} and {@code text}; validated. Each problem is an
     * IllegalArgumentException naming the parameter.
     */
    public Stroke2ImgSettings toSettings(String method) {
        return switch (method) {
            case "gradop+" -> gradOpPlus();
            case "gradop" -> gradOp();
            case "sdedit", "iterative-sdedit", "text" -> baseline();
            default -> throw new IllegalArgumentException("unknown stroke2img method '" + method + "' (expected one of " + METHODS + ")");
        };
    }

    /** The preset's settings, then every parameter given. */
    public GradOpPlusSettings gradOpPlus() {
        String p = preset == null ? "official" : preset.toLowerCase(Locale.ROOT);
        GradOpPlusSettings s = switch (p) {
            case "official" -> GradOpPlusSettings.official();
            case "recommended" -> GradOpPlusSettings.recommended();
            case "fast" -> GradOpPlusSettings.fast();
            default -> throw new IllegalArgumentException("unknown preset '" + preset + "' (expected official, recommended or fast)");
        };
        s = s.withPainting(painting()).withScheduler(scheduler);
        if (steps != null) s = s.withSteps(steps);
        if (guidanceScale != null) s = s.withGuidanceScale(guidanceScale);
        if (strength != null) s = s.withStrength(strength);
        if (iterations != null) s = s.withIterations(iterations);
        if (gradSteps != null) s = s.withGradSteps(gradSteps);
        if (lr != null) s = s.withLr(lr);
        if (lossScale != null) s = s.withLossScale(lossScale);
        return s.validate();
    }

    /** GradOP's defaults, then every parameter given ({@code strength} is the projection strength). */
    public GradOpSettings gradOp() {
        GradOpSettings s = GradOpSettings.defaults().withPainting(painting()).withScheduler(scheduler);
        if (steps != null) s = s.withSteps(steps);
        if (guidanceScale != null) s = s.withGuidanceScale(guidanceScale);
        if (strength != null) s = s.withProjectionStrength(strength);
        if (gradSteps != null) s = s.withGradSteps(gradSteps);
        if (lr != null) s = s.withLr(lr);
        if (lambda != null) s = s.withLambda(lambda);
        if (lossScale != null) s = s.withLossScale(lossScale);
        return s.validate();
    }

    /** The baselines' official settings, then every parameter given. */
    public BaselineSettings baseline() {
        BaselineSettings s = BaselineSettings.official();
        if (scheduler != null) s = s.withScheduler(scheduler);
        if (steps != null) s = s.withSteps(steps);
        if (guidanceScale != null) s = s.withGuidanceScale(guidanceScale);
        if (strength != null) s = s.withStrength(strength);
        if (iterations != null) s = s.withIterations(iterations);
        return s.validate();
    }

    /** The official painting function f, then every painting parameter given; validated. */
    public PaintingSettings painting() {
        PaintingSettings paint = PaintingSettings.official();
        if (paintingFunction != null) paint = paint.withFunction(paintingFunction.toLowerCase(Locale.ROOT));
        if (blurKernel != null || blurSigma != null) {
            paint = paint.withBlur(blurKernel != null ? blurKernel : paint.blurKernel(), blurSigma != null ? blurSigma : paint.blurSigma());
        }
        if (medianSize != null || paletteColours != null) {
            paint = paint.withMedian(medianSize != null ? medianSize : paint.medianSize(),
                    paletteColours != null ? paletteColours : paint.paletteColours());
        }
        return paint.validate();
    }

    /** Whether a parameter only GradOP and GradOP+ use is given: the Adam steps, the loss and the painting function. */
    public boolean hasGradOpOnly() {
        return gradSteps != null || lr != null || lambda != null || lossScale != null || paintingFunction != null
                || blurKernel != null || blurSigma != null || medianSize != null || paletteColours != null;
    }

    /**
     * The strength a settings object from {@link #toSettings} runs at, for the request record: GradOP+'s strength,
     * GradOP's projection strength, SDEdit's strength; null for the text-only preview, which has none.
     */
    public static Double strengthOf(String method, Stroke2ImgSettings settings) {
        if (settings instanceof GradOpPlusSettings s) return s.strength();
        if (settings instanceof GradOpSettings s) return s.projectionStrength();
        return method.equals("text") ? null : ((BaselineSettings) settings).strength();
    }
}
