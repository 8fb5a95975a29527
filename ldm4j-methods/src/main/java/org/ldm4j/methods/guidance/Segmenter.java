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
