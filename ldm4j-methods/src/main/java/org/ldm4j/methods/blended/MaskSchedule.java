package org.ldm4j.methods.blended;

import org.bytedeco.pytorch.Tensor;
import org.ldm4j.nn.Scopes;

import java.util.ArrayList;
import java.util.Collections;
import java.util.List;

/**
 * Progressive mask shrinking for thin masks (paper sec. 4.3; LDM code {@code --mask_dilation_iterations N}): early,
 * coarse steps blend with a dilated latent mask, so a thin region is wide enough for the model to draw into; the mask
 * then shrinks to the true one, which holds for the remaining steps.
 *
 * <p>Masks: N dilations of the latent mask by squares of side 3 + 2i, i = N-1..0, then the mask itself (N = 3: 7×7,
 * 5×5, 3×3, none: the paper's choice). Schedule over the executed steps e = 0..E-1:
 * <ul>
 *   <li>default (the LDM code): interval = E / (N + 1) + 1, step e uses mask[e / interval]
 *       (50 steps, N = 3: 13, 13, 13, 11 steps);</li>
 *   <li>{@code shrinkUntil} = S (a step index of the whole schedule): the N dilated masks share the steps from the
 *       first executed one up to S equally, and the true mask holds from S on.</li>
 * </ul>
 */
public final class MaskSchedule {
    private final List<Tensor> masks;   // widest first, the true mask last; each (1, 1, h, w)
    private final int first;
    private final int interval;         // default schedule
    private final Integer shrinkUntil;

    private MaskSchedule(List<Tensor> masks, int first, int interval, Integer shrinkUntil) {
        this.masks = masks;
        this.first = first;
        this.interval = interval;
        this.shrinkUntil = shrinkUntil;
    }

    /**
     * @param mLat the true latent mask (1, 1, h, w)
     * @param dilate N, the number of dilated masks (0: the true mask throughout)
     * @param shrinkUntil step index at which the true mask takes over, or null for the LDM code's schedule
     * @param first index of the first executed step
     * @param steps length of the whole schedule
     */
    public static MaskSchedule of(Tensor mLat, int dilate, Integer shrinkUntil, int first, int steps) {
        if (shrinkUntil != null && (shrinkUntil <= first || shrinkUntil > steps)) {
            throw new IllegalArgumentException("shrink-until " + shrinkUntil + " must be a step after the first executed one ("
                    + first + ") and at most the step count (" + steps + ")");
        }
        List<Tensor> masks = new ArrayList<>();
        for (int i = dilate - 1; i >= 0; i--) masks.add(Scopes.keep(Masks.dilate(mLat, 3 + 2 * i)));
        masks.add(Scopes.keep(mLat));
        int executed = steps - first;
        return new MaskSchedule(Collections.unmodifiableList(masks), first, executed / (dilate + 1) + 1, shrinkUntil);
    }

    /** Which of {@link #masks()} step {@code index} (of the whole schedule) uses. */
    public int maskIndex(int index) {
        int n = masks.size() - 1;
        if (n == 0) return 0;
        int e = index - first;
        if (shrinkUntil == null) return Math.min(n, e / interval);
        if (index >= shrinkUntil) return n;
        return (int) ((long) e * n / (shrinkUntil - first));
    }

    /** The latent mask of step {@code index}. */
    public Tensor at(int index) { return masks.get(maskIndex(index)); }

    /** The undilated latent mask. */
    public Tensor trueMask() { return masks.get(masks.size() - 1); }

    /** Widest first, the true mask last. */
    public List<Tensor> masks() { return masks; }
}
