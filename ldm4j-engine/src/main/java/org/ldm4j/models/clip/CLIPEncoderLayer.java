package org.ldm4j.models.clip;

import org.bytedeco.pytorch.Tensor;
import org.ldm4j.nn.Block;
import org.ldm4j.nn.LayerNorm;

/** transformers {@code CLIPEncoderLayer}: pre-norm transformer block, x + attn(ln1(x)), then + mlp(ln2(·)). */
public final class CLIPEncoderLayer extends Block {
    public final CLIPAttention selfAttn;
    public final LayerNorm layerNorm1;
    public final CLIPMLP mlp;
    public final LayerNorm layerNorm2;

    public CLIPEncoderLayer(CLIPEncoderSpec config) {
        selfAttn = child("self_attn", new CLIPAttention(config));
        layerNorm1 = child("layer_norm1", new LayerNorm(config.hiddenSize(), config.layerNormEps()));
        mlp = child("mlp", new CLIPMLP(config));
        layerNorm2 = child("layer_norm2", new LayerNorm(config.hiddenSize(), config.layerNormEps()));
    }

    /** @param additiveMask see {@link CLIPAttention#forward} */
    public Tensor forward(Tensor x, Tensor additiveMask) {
        Tensor h = x.add(selfAttn.forward(layerNorm1.forward(x), additiveMask));
        return h.add(mlp.forward(layerNorm2.forward(h)));
    }
}
