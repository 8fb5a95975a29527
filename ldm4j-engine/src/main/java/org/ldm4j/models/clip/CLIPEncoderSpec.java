package org.ldm4j.models.clip;

/**
 * What the transformer layers shared by CLIP's two towers ({@link CLIPEncoderLayer}) read from a config: the text
 * tower attends causally, the vision tower to every patch.
 */
public interface CLIPEncoderSpec {
    Integer hiddenSize();

    Integer intermediateSize();

    Integer numAttentionHeads();

    String hiddenAct();

    Double layerNormEps();

    /** Whether position i may attend only to positions j ≤ i. */
    boolean causal();

    default int headDim() { return hiddenSize() / numAttentionHeads(); }
}
