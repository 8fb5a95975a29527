package org.ldm4j.methods.blended;

import org.ldm4j.methods.gradop.RegionSemantics;

import java.util.Arrays;
import java.util.List;
import java.util.Locale;

/**
 * Every choice of a Blended Latent Diffusion edit, as named options rather than copies of the loop (design brief
 * {@code blended.md}, sec. 8). Written into the PNG's request JSON, so an edit can be reproduced.
 *
 * <p>The official code has three paths that disagree (brief sec. 2). {@link #official()} reproduces the diffusers
 * script {@code scripts/text_editing_SD2.py}; {@link #recommended()} is the paper's Algorithm 1 as the LDM path runs
 * it (background and foreground at the same noise level), plus a clean latent paste after the last step, decoder
 * repair and a final pixel paste. The differences, option by option:
 * <pre>
 *                      recommended()                       official() (SD2 script)
 *   start              SOURCE: z_src noised to step k      NOISE: pure N(0,1) at step k (the source is ignored)
 *   blendStart         0 (k = 0)                           0.25 (k = int(0.25 · steps), t = 740 at 50 steps)
 *   blendPoint         BEFORE_STEP at t                     AFTER_STEP at the current t (background one step noisier)
 *   noise              FRESH per step                       FRESH per step (one randn_like per step, same generator)
 *   source             MEAN of q(z|x)                       MEAN
 *   downsampling       NEAREST_CENTRE (PIL NEAREST)         NEAREST_CENTRE, threshold 0.5
 *   finalLatentPaste   yes                                  no (the background drifts: 0.99957 z_src + 0.0292 eps)
 *   scheduler          the request's                        its own DDIM: scaled_linear 0.00085..0.012, "leading",
 *                                                           steps_offset 0, no clipping, alphaBar_final = alphaBar_0
 *   repair             decoder, 75 Adam steps, lr 1e-4,     none
 *                      per-region means, background w 4
 *   pixelBlend         yes                                  no
 *   maskAttention      0, 2 alternating over the samples    0
 *                      (ldm4j's addition)
 *   zoom               0 (ldm4j's addition, off)            0
 *   resampling         off (RePaint's, an option)           off
 *   maskAttentionPooling AREA (a cell's coverage)          AREA (mask attention is off)
 * </pre>
 *
 * @param start where the latents start: pure noise or the noised source latents
 * @param blendStart fraction of the schedule skipped: the run starts at index {@code int(steps · blendStart)}
 * @param blendPoint when in a step the background is put back, and at which noise level
 * @param noise fresh noise for the background at every step, or one tensor drawn once
 * @param source which latent of the VAE posterior stands for the input: its mean or a sample
 * @param downsampling how the pixel mask becomes a latent mask
 * @param threshold binarise the latent mask at this value ({@code null}: keep soft values, AREA only matters)
 * @param dilate progressive mask shrinking: N dilated masks (squares of side 3 + 2i, i = N-1..0) before the true one
 * @param shrinkUntil step index by which the true mask is reached ({@code null}: the LDM code's schedule, N + 1
 *                    equal parts of the executed steps)
 * @param finalLatentPaste after the last step, paste the clean source latents outside the mask
 * @param officialScheduler use the SD2 script's own DDIM instead of the request's scheduler
 * @param repair decoder fine-tuning of the selected sample ({@code steps == 0}: off)
 * @param pixelBlend finally paste the input pixels outside the mask (edit-locality figures are measured without it)
 * @param maskAttention ldm4j's addition, 0 = off (official); the recommended preset alternates 0 and 2 over
 *                      the samples (on the 4-channel ToyWorld model 2 alone raised the recall of added objects from
 *                      0.41 to 0.81 and of replacements from 0.69 to 0.81, 32 scenes, at 0.3 dB of background; on the
 *                      8-channel default 0 and 2 give 0.75 / 0.75 / 0.81 for additions / replacements / thin masks
 *                      against 2's 0.80 / 0.64, 64 scenes, docs/results-blended.md session 23): w' of a
 *                      cross-attention bias toward the prompt's tokens inside the mask (GradOP's region semantics,
 *                      {@code RegionSemantics}, with the mask as the region and the whole prompt as its phrase),
 *                      strongest early when the layout is decided; it asks the model to put the prompt's object
 *                      where the mask is, not anywhere in the frame. One weight per sample, cycled over the samples
 *                      of an edit (sample k uses element k mod size), so a ranked batch can mix strengths: the
 *                      object a class needs differs (on the 8-channel ToyWorld model rocks came at 0 and trees at 2,
 *                      docs/results-blended.md session 22)
 * @param zoom ldm4j's addition for small masks, 0 = off: edit a box {@code zoom} times the mask's bounding box,
 *             enlarged to the image size, and shrink the result back ({@link MaskZoom}); masks whose box would cover
 *             3/4 of the image side or more are edited as they are
 * @param maskAttentionPooling how the mask reaches mask attention's coarser layers: AREA (each cell's coverage) or
 *                             MAX (full weight wherever the mask touches a cell)
 * @param resampling RePaint's resampling of the first steps ({@link Resampling}), {@link Resampling#OFF} = off
 */
public record BlendSettings(Start start, double blendStart, BlendPoint blendPoint, NoiseMode noise,
                            SourceLatents source, Masks.Downsampling downsampling, Double threshold, int dilate,
                            Integer shrinkUntil, boolean finalLatentPaste, boolean officialScheduler,
                            BackgroundRepair.Settings repair, boolean pixelBlend, List<Double> maskAttention, double zoom,
                            Resampling.Settings resampling, RegionSemantics.Pooling maskAttentionPooling) {

    public enum Start { NOISE, SOURCE }

    public enum BlendPoint {
        /** LDM path: before each step, z_t outside ← noise(z_src, t); the model then sees matching noise levels. */
        BEFORE_STEP,
        /** SD2 script: after each step (z is now at t_prev), background noised to the step's own t. */
        AFTER_STEP,
        /** diffusers inpainting (after PR 3749): after each step, background at t_prev; clean after the last. */
        AFTER_STEP_NEXT_T
    }

    public enum NoiseMode { FRESH, FIXED }

    public enum SourceLatents { MEAN, SAMPLE }

    public BlendSettings {
        if (start == null || blendPoint == null || noise == null || source == null || downsampling == null || repair == null
                || resampling == null || maskAttentionPooling == null) {
            throw new IllegalArgumentException("blended settings: every option needs a value");
        }
        if (!(blendStart >= 0 && blendStart < 1)) throw new IllegalArgumentException("blend start must be in [0, 1), got " + blendStart);
        if (threshold != null && !(threshold > 0 && threshold <= 1)) {
            throw new IllegalArgumentException("mask threshold must be in (0, 1], got " + threshold);
        }
        if (maskAttention == null || maskAttention.isEmpty()) {
            throw new IllegalArgumentException("mask attention needs at least one weight (0 = off)");
        }
        for (Double w : maskAttention) {
            if (w == null || !(Double.isFinite(w) && w >= 0)) throw new IllegalArgumentException("mask attention must be >= 0, got " + w);
        }
        maskAttention = List.copyOf(maskAttention);
        MaskZoom.checkContext(zoom);
        if (dilate < 0 || dilate > 16) throw new IllegalArgumentException("dilate must be in 0..16, got " + dilate);
        if (shrinkUntil != null && shrinkUntil < 1) throw new IllegalArgumentException("shrink-until must be >= 1, got " + shrinkUntil);
        if (shrinkUntil != null && dilate == 0) {
            throw new IllegalArgumentException("shrink-until needs dilate > 0 (there is nothing to shrink)");
        }
    }

    /** The paper's Algorithm 1 as the LDM code runs it, plus the add-ons; see the class comment. */
    public static BlendSettings recommended() {
        return new BlendSettings(Start.SOURCE, 0.0, BlendPoint.BEFORE_STEP, NoiseMode.FRESH, SourceLatents.MEAN,
                Masks.Downsampling.NEAREST_CENTRE, null, 0, null, true, false, BackgroundRepair.Settings.recommended(), true, List.of(0.0, 2.0), 0.0,
                Resampling.OFF, RegionSemantics.Pooling.AREA);
    }

    /**
     * The official diffusers script {@code text_editing_SD2.py} exactly (run it with 50 steps and CFG 7.5, as the
     * script does). Parity holds per image: the script draws a batch from one generator, ldm4j image k from seed + k.
     */
    public static BlendSettings official() {
        return new BlendSettings(Start.NOISE, 0.25, BlendPoint.AFTER_STEP, NoiseMode.FRESH, SourceLatents.MEAN,
                Masks.Downsampling.NEAREST_CENTRE, 0.5, 0, null, false, true, BackgroundRepair.Settings.off(), false, List.of(0.0), 0.0, Resampling.OFF, RegionSemantics.Pooling.AREA);
    }

    /** A preset by name, {@code recommended} or {@code official} (any case), as the apps' {@code preset} parameter. */
    public static BlendSettings preset(String name) {
        return switch (name.toLowerCase(Locale.ROOT)) {
            case "recommended" -> recommended();
            case "official" -> official();
            default -> throw new IllegalArgumentException("unknown preset '" + name + "' (expected recommended or official)");
        };
    }

    /**
     * The background repair on: this preset's repair, or the official one where the preset has it off (official),
     * with {@code steps} Adam steps if given.
     */
    public BlendSettings withRepairOn(Integer steps) {
        BackgroundRepair.Settings base = repair.enabled() ? repair : BackgroundRepair.Settings.official();
        return withRepair(steps != null ? base.withSteps(steps) : base);
    }

    /** Index of the first executed step for a run of {@code steps}: Python's {@code int(steps * blendStart)}. */
    public int firstStep(int steps) { return (int) (steps * blendStart); }

    public BlendSettings withBlendStart(double s) {
        return new BlendSettings(start, s, blendPoint, noise, source, downsampling, threshold, dilate, shrinkUntil,
                finalLatentPaste, officialScheduler, repair, pixelBlend, maskAttention, zoom, resampling, maskAttentionPooling);
    }

    public BlendSettings withStart(Start s) {
        return new BlendSettings(s, blendStart, blendPoint, noise, source, downsampling, threshold, dilate, shrinkUntil,
                finalLatentPaste, officialScheduler, repair, pixelBlend, maskAttention, zoom, resampling, maskAttentionPooling);
    }

    public BlendSettings withBlendPoint(BlendPoint p) {
        return new BlendSettings(start, blendStart, p, noise, source, downsampling, threshold, dilate, shrinkUntil,
                finalLatentPaste, officialScheduler, repair, pixelBlend, maskAttention, zoom, resampling, maskAttentionPooling);
    }

    public BlendSettings withNoise(NoiseMode n) {
        return new BlendSettings(start, blendStart, blendPoint, n, source, downsampling, threshold, dilate, shrinkUntil,
                finalLatentPaste, officialScheduler, repair, pixelBlend, maskAttention, zoom, resampling, maskAttentionPooling);
    }

    public BlendSettings withDownsampling(Masks.Downsampling d) {
        return new BlendSettings(start, blendStart, blendPoint, noise, source, d, threshold, dilate, shrinkUntil,
                finalLatentPaste, officialScheduler, repair, pixelBlend, maskAttention, zoom, resampling, maskAttentionPooling);
    }

    public BlendSettings withShrinking(int n, Integer until) {
        return new BlendSettings(start, blendStart, blendPoint, noise, source, downsampling, threshold, n, until,
                finalLatentPaste, officialScheduler, repair, pixelBlend, maskAttention, zoom, resampling, maskAttentionPooling);
    }

    public BlendSettings withFinalLatentPaste(boolean on) {
        return new BlendSettings(start, blendStart, blendPoint, noise, source, downsampling, threshold, dilate, shrinkUntil,
                on, officialScheduler, repair, pixelBlend, maskAttention, zoom, resampling, maskAttentionPooling);
    }

    public BlendSettings withRepair(BackgroundRepair.Settings r) {
        return new BlendSettings(start, blendStart, blendPoint, noise, source, downsampling, threshold, dilate, shrinkUntil,
                finalLatentPaste, officialScheduler, r, pixelBlend, maskAttention, zoom, resampling, maskAttentionPooling);
    }

    public BlendSettings withPixelBlend(boolean on) {
        return new BlendSettings(start, blendStart, blendPoint, noise, source, downsampling, threshold, dilate, shrinkUntil,
                finalLatentPaste, officialScheduler, repair, on, maskAttention, zoom, resampling, maskAttentionPooling);
    }

    /** w' for every sample, or one per sample cycled over the samples ({@code withMaskAttention(0, 2)}: 0, 2, 0, 2, ...). */
    public BlendSettings withMaskAttention(double... weights) {
        return withMaskAttention(Arrays.stream(weights).boxed().toList());
    }

    /** As {@link #withMaskAttention(double...)}, from a list (the apps' comma-separated option). */
    public BlendSettings withMaskAttention(List<Double> weights) {
        return new BlendSettings(start, blendStart, blendPoint, noise, source, downsampling, threshold, dilate, shrinkUntil,
                finalLatentPaste, officialScheduler, repair, pixelBlend, weights, zoom, resampling, maskAttentionPooling);
    }

    /** Small masks edited in an enlarged box {@code context} times their size ({@link MaskZoom}); 0 = off. */
    public BlendSettings withZoom(double context) {
        return new BlendSettings(start, blendStart, blendPoint, noise, source, downsampling, threshold, dilate, shrinkUntil,
                finalLatentPaste, officialScheduler, repair, pixelBlend, maskAttention, context, resampling, maskAttentionPooling);
    }

    /** RePaint's resampling of the first steps ({@link Resampling}); {@link Resampling#OFF} in both presets. */
    public BlendSettings withResampling(Resampling.Settings r) {
        return new BlendSettings(start, blendStart, blendPoint, noise, source, downsampling, threshold, dilate, shrinkUntil,
                finalLatentPaste, officialScheduler, repair, pixelBlend, maskAttention, zoom, r, maskAttentionPooling);
    }

    /** How the mask reaches the coarser cross-attention layers for mask attention (AREA in both presets). */
    public BlendSettings withMaskAttentionPooling(RegionSemantics.Pooling p) {
        return new BlendSettings(start, blendStart, blendPoint, noise, source, downsampling, threshold, dilate, shrinkUntil,
                finalLatentPaste, officialScheduler, repair, pixelBlend, maskAttention, zoom, resampling, p);
    }

    /** The mask-attention weight of sample {@code k} (0-based) of an edit. */
    public double maskAttention(int k) {
        return maskAttention.get(Math.floorMod(k, maskAttention.size()));
    }
}
