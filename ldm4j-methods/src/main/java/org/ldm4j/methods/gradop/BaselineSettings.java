package org.ldm4j.methods.gradop;

import static org.ldm4j.methods.gradop.GradOpPlusSettings.require;

/**
 * Settings of the stroke-to-image baselines ({@link Stroke2ImgBaselines}), official defaults: SDEdit at strength 0.8
 * with 50 DDIM steps and CFG 7.5 ({@code sdedit_img2img}; {@code run.py} ignores its {@code --strength} for SDEdit,
 * here it is honoured).
 *
 * @param scheduler  a scheduler alias read from the model's config; {@code ddim} (default) is the official DDIM for
 *                   SD 1.x, whose scheduler config carries clip_sample/set_alpha_to_one off and steps_offset 1
 * @param iterations rounds of iterative SDEdit (3)
 */
public record BaselineSettings(int steps, double guidanceScale, double strength, String scheduler, int iterations)
        implements Stroke2ImgSettings {
    public static BaselineSettings official() { return new BaselineSettings(50, 7.5, 0.8, "ddim", 3); }

    public BaselineSettings validate() {
        require(steps >= 1 && steps <= 1000, "steps must be in 1..1000, got " + steps);
        require(Double.isFinite(guidanceScale) && guidanceScale >= 0, "guidance scale must be >= 0, got " + guidanceScale);
        require(strength >= 0 && strength <= 1, "strength must be in [0, 1], got " + strength);
        require(scheduler != null, "scheduler is missing");
        require(iterations >= 1 && iterations <= 100, "iterations must be in 1..100, got " + iterations);
        return this;
    }

    public BaselineSettings withSteps(int s) { return new BaselineSettings(s, guidanceScale, strength, scheduler, iterations); }
    public BaselineSettings withGuidanceScale(double w) { return new BaselineSettings(steps, w, strength, scheduler, iterations); }
    public BaselineSettings withStrength(double s) { return new BaselineSettings(steps, guidanceScale, s, scheduler, iterations); }
    public BaselineSettings withScheduler(String s) { return new BaselineSettings(steps, guidanceScale, strength, s, iterations); }
    public BaselineSettings withIterations(int n) { return new BaselineSettings(steps, guidanceScale, strength, scheduler, n); }
}
