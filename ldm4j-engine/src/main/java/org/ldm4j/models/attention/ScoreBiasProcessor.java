package org.ldm4j.models.attention;

import org.bytedeco.pytorch.Tensor;

import java.util.function.Function;
import java.util.function.Predicate;

/**
 * Attention whose scores are changed before the softmax at chosen sites: softmax(q kᵀ/√d + bias) v, or any edit of
 * the scores. This is how paint-with-words / GradOP region semantics add per-token spatial biases to cross-attention
 * (eDiff-I; shared/design/gradop.md §4.2). Sites not selected run the default {@link SdpaProcessor}.
 *
 * <p>Scores are the scaled logits q kᵀ · scale in float32, shape (B, heads, rows, M), computed over blocks of query
 * rows ({@link ChunkedAttention}); a bias meant to be added before the 1/√d scaling must be multiplied by
 * {@link AttentionSite#scale()}. With CFG the batch holds [uncond, cond]; an edit for the conditional half only
 * touches rows B/2..B-1 itself.
 */
public final class ScoreBiasProcessor implements AttentionProcessor {
    /** Edits the scores of one block of query rows at a site. */
    @FunctionalInterface
    public interface ScoreFunction {
        /**
         * @param scores     (B, heads, rows, M) float32 scaled scores for queries firstQuery ... firstQuery+rows-1
         * @return the scores to softmax, same shape
         */
        Tensor apply(AttentionSite site, Tensor scores, long firstQuery);
    }

    private final Predicate<AttentionSite> where;
    private final ScoreFunction scores;                // one of these two is set
    private final Function<AttentionSite, Tensor> bias;
    private final long maxScoreElements;

    private ScoreBiasProcessor(Predicate<AttentionSite> where, ScoreFunction scores, Function<AttentionSite, Tensor> bias,
                               long maxScoreElements) {
        if (maxScoreElements < 1) throw new IllegalArgumentException("maxScoreElements must be >= 1, got " + maxScoreElements);
        this.where = where;
        this.scores = scores;
        this.bias = bias;
        this.maxScoreElements = maxScoreElements;
    }

    /**
     * Adds {@code bias.apply(site)} to the scaled scores. The bias is computed once per call and must broadcast to
     * (B, heads, N, M), e.g. (1, 1, N, 77) for a spatial per-token bias; null skips the site.
     */
    public static ScoreBiasProcessor withBias(Predicate<AttentionSite> where, Function<AttentionSite, Tensor> bias) {
        return new ScoreBiasProcessor(where, null, bias, ChunkedAttention.DEFAULT_MAX_SCORE_ELEMENTS);
    }

    /** Replaces the scaled scores by {@code edit.apply(site, scores, firstQuery)} at selected sites. */
    public static ScoreBiasProcessor editingScores(Predicate<AttentionSite> where, ScoreFunction edit) {
        return new ScoreBiasProcessor(where, edit, null, ChunkedAttention.DEFAULT_MAX_SCORE_ELEMENTS);
    }

    /** The same processor with another bound on the scores held at once (smaller = less memory, more chunks). */
    public ScoreBiasProcessor maxScoreElements(long max) {
        return new ScoreBiasProcessor(where, scores, bias, max);
    }

    @Override
    public Tensor apply(Attention attn, Tensor hidden, Tensor context, AttentionSite site) {
        if (!where.test(site)) return SdpaProcessor.INSTANCE.apply(attn, hidden, context, site);
        ChunkedAttention.ScoreEdit edit;
        if (scores != null) {
            edit = (s, q0) -> scores.apply(site, s, q0);
        } else {
            Tensor b = bias.apply(site);
            if (b == null) return SdpaProcessor.INSTANCE.apply(attn, hidden, context, site);
            Tensor bf = Attention.float32(b);
            long n = site.tokens();
            boolean perQuery = bf.dim() >= 2 && bf.size(bf.dim() - 2) == n && n > 1;
            edit = (s, q0) -> s.add(perQuery ? bf.narrow(bf.dim() - 2, q0, s.size(2)) : bf);
        }
        Tensor kv = context != null ? context : hidden;
        Tensor out = ChunkedAttention.attend(attn.query(hidden), attn.key(kv), attn.value(kv), attn.scale, edit, maxScoreElements);
        return attn.output(out);
    }
}
