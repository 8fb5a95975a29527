package org.ldm4j.models.attention;

import org.bytedeco.pytorch.Tensor;

/**
 * The computation of one attention layer; the {@link Attention} module only owns the weights (diffusers
 * {@code attention_processor.py}: the module holds {@code to_q/to_k/to_v/to_out}, the processor does the rest).
 *
 * <p>Processors travel with each call (in {@code UNetExtras}), never on the model, so one loaded UNet serves
 * concurrent jobs with different hooks. Implementations: {@link SdpaProcessor} (default, fused, no maps),
 * {@link AttentionMaps} (records softmax maps), {@link ScoreBiasProcessor} (edits scores before the softmax).
 */
@FunctionalInterface
public interface AttentionProcessor {
    /**
     * @param attn    the layer: projections ({@link Attention#query}, {@link Attention#key}, {@link Attention#value},
     *                {@link Attention#output}), heads and scale
     * @param hidden  (B, N, C) normalised hidden states (queries)
     * @param context (B, M, Cc) text context for cross-attention, or null for self-attention
     * @param site    where this call happens
     * @return (B, N, C) the attention output after {@code to_out}
     */
    Tensor apply(Attention attn, Tensor hidden, Tensor context, AttentionSite site);
}
