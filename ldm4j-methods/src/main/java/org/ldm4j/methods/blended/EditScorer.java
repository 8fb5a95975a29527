package org.ldm4j.methods.blended;

import org.bytedeco.pytorch.Tensor;

/**
 * Ranks the samples of one edit (paper sec. 4.4: generate a batch, keep the best). Higher scores rank first.
 *
 * <p>The official code ranks with CLIP ViT-B/16 on the masked sample (background blacked out, score 1 − cosine to
 * the prompt); ldm4j's default is {@link BackgroundPsnr}, which needs no extra weights. A CLIP scorer (CLIP vision
 * weights) and the ToyWorld evaluator's recall of the prompted class inside the mask plug in here.
 */
@FunctionalInterface
public interface EditScorer {
    /**
     * @param edited the sample (1, 3, H, W) in [-1, 1] (decoded with the original decoder, before repair)
     * @param source the input image (1, 3, H, W) in [-1, 1]
     * @param mask (1, 1, H, W), 1 = edit
     */
    double score(Tensor edited, Tensor source, Tensor mask, String prompt);

    /** Short name written into the request JSON. */
    default String name() { return getClass().getSimpleName(); }
}
