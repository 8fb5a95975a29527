package org.ldm4j.models.attention;

import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.TensorVector;
import org.bytedeco.pytorch.global.torch;

/**
 * Attention written out, softmax(q kᵀ · scale + edit) v, for processors that must see or change the scores.
 * It runs in float32 and over blocks of queries, so at most {@code maxScoreElements} scores exist at once: a 64x64
 * self-attention at batch 2 with 8 heads would otherwise need 1 GiB (cpu-performance.md, recommendation 4).
 * Works under autograd (the chunks are concatenated, so gradients reach q, k and v).
 */
public final class ChunkedAttention {
    /** 16 Mi floats = 64 MiB of scores per chunk: cross-attention maps fit in one chunk, 64x64 self-attention takes 4. */
    public static final long DEFAULT_MAX_SCORE_ELEMENTS = 1L << 24;

    /** Edits one block of scaled scores before the softmax. */
    @FunctionalInterface
    public interface ScoreEdit {
        /**
         * @param scores     (B, heads, rows, M) float32 scores q kᵀ · scale for queries firstQuery ... firstQuery+rows-1
         * @param firstQuery index of the first query row of this block
         * @return the scores to softmax, same shape (may be a new tensor or {@code scores} edited in place)
         */
        Tensor edit(Tensor scores, long firstQuery);
    }

    private ChunkedAttention() {}

    /**
     * @param q    (B, heads, N, d)
     * @param k    (B, heads, M, d)
     * @param v    (B, heads, M, d)
     * @param edit score edit, or null for plain attention
     * @return (B, heads, N, d) float32
     */
    public static Tensor attend(Tensor q, Tensor k, Tensor v, double scale, ScoreEdit edit, long maxScoreElements) {
        Tensor qf = Attention.float32(q), vf = Attention.float32(v);
        Tensor kT = Attention.float32(k).transpose(2, 3);                        // (B, heads, d, M)
        long n = qf.size(2);
        long perRow = qf.size(0) * qf.size(1) * kT.size(3);
        long rows = Math.max(1, Math.min(n, maxScoreElements / Math.max(1, perRow)));
        if (rows >= n) return block(qf, kT, vf, scale, edit, 0);
        TensorVector parts = new TensorVector();
        for (long start = 0; start < n; start += rows) {
            long len = Math.min(rows, n - start);
            parts.push_back(block(qf.narrow(2, start, len), kT, vf, scale, edit, start));
        }
        return torch.cat(parts, 2);
    }

    private static Tensor block(Tensor q, Tensor kT, Tensor v, double scale, ScoreEdit edit, long firstQuery) {
        Tensor scores = torch.matmul(q, kT).mul(new org.bytedeco.pytorch.Scalar(scale));   // (B, heads, rows, M)
        if (edit != null) scores = edit.edit(scores, firstQuery);
        return torch.matmul(torch.softmax(scores, -1), v);
    }
}
