package org.ldm4j.methods.guidance;

import org.bytedeco.pytorch.Scalar;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch;

import java.util.List;

/** A differentiable segmenter: per-pixel class logits of images, with a graph back to the images. */
@FunctionalInterface
public interface Segmenter {
    /**
     * @param images (B, 3, H, W) in [-1, 1]
     * @return (B, classes, H, W) logits
     */
    Tensor logits(Tensor images);

    /**
     * This segmenter reading the image moved by (dx, dy) pixels (wrapping at the borders), its logits moved back: the
     * same classes at the same pixels for a segmenter that reads every position alike, a different network's view
     * for one that does not. Members of an {@link #ensemble} over small shifts, a guide's move has to hold under
     * each of them, not exploit one pixel grid.
     */
    default Segmenter shifted(int dx, int dy) {
        if (dx == 0 && dy == 0) return this;
        return images -> logits(images.roll(new long[] {dy, dx}, new long[] {2, 3})).roll(new long[] {-dy, -dx}, new long[] {2, 3});
    }

    /** This segmenter and its {@link #shifted} copies by 1 .. {@code radius} pixels left, right, up and down, as one. */
    default Segmenter jittered(int radius) {
        if (radius < 0 || radius > 8) throw new IllegalArgumentException("jitter radius must be in 0..8, got " + radius);
        List<Segmenter> members = new java.util.ArrayList<>(List.of(this));
        for (int r = 1; r <= radius; r++) {
            members.addAll(List.of(shifted(r, 0), shifted(-r, 0), shifted(0, r), shifted(0, -r)));
        }
        return ensemble(members);
    }

    /**
     * Several segmenters read as one: the mean of their log-probabilities, i.e. the normalised geometric mean of
     * their class probabilities (log-linear pooling). A pixel then scores well only where every member agrees, so a
     * guide steering with the ensemble cannot please one network with a pattern the others do not read as the class:
     * the image has to change in a way they share.
     */
    static Segmenter ensemble(List<Segmenter> members) {
        if (members.isEmpty()) throw new IllegalArgumentException("an ensemble needs at least one segmenter");
        if (members.size() == 1) return members.get(0);
        List<Segmenter> copy = List.copyOf(members);
        return images -> {
            Tensor sum = null;
            for (Segmenter member : copy) {
                Tensor logProbabilities = torch.log_softmax(member.logits(images), 1);
                sum = sum == null ? logProbabilities : sum.add(logProbabilities);
            }
            return sum.div(new Scalar((double) copy.size()));
        };
    }
}
