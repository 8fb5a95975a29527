package org.ldm4j.models.clip;

import org.bytedeco.pytorch.Scalar;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.TensorOptions;
import org.bytedeco.pytorch.global.torch;
import org.bytedeco.pytorch.global.torch.ScalarType;
import org.ldm4j.nn.Block;
import org.ldm4j.nn.Dtypes;
import org.ldm4j.nn.Embedding;

/**
 * transformers {@code CLIPTextEmbeddings}: token embedding plus a learned absolute position embedding for positions
 * 0..T-1. Older saves also hold the constant {@code position_ids} buffer (arange(77)); it is not a weight here.
 */
public final class CLIPTextEmbeddings extends Block {
    public final Embedding tokenEmbedding;
    public final Embedding positionEmbedding;

    public CLIPTextEmbeddings(CLIPTextConfig config) {
        tokenEmbedding = child("token_embedding", new Embedding(config.vocabSize(), config.hiddenSize()));
        positionEmbedding = child("position_embedding", new Embedding(config.maxPositionEmbeddings(), config.hiddenSize()));
    }

    /** ids: (B, T) integer -> (B, T, hidden). */
    public Tensor forward(Tensor inputIds) {
        long t = inputIds.size(1);
        if (t > positionEmbedding.num) {
            throw new IllegalArgumentException("CLIP: sequence of " + t + " tokens exceeds max_position_embeddings " + positionEmbedding.num);
        }
        Tensor positions = torch.arange(new Scalar(t), new TensorOptions().dtype(Dtypes.optional(ScalarType.Long))
                .device(new org.bytedeco.pytorch.DeviceOptional(inputIds.device())));
        return tokenEmbedding.forward(inputIds).add(positionEmbedding.forward(positions).unsqueeze(0));
    }
}
