package org.ldm4j.models.clip;

import org.bytedeco.pytorch.DeviceOptional;
import org.bytedeco.pytorch.LongOptional;
import org.bytedeco.pytorch.Scalar;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.TensorOptions;
import org.bytedeco.pytorch.global.torch;
import org.bytedeco.pytorch.global.torch.ScalarType;
import org.ldm4j.nn.Block;
import org.ldm4j.nn.Dtypes;
import org.ldm4j.nn.LayerNorm;
import org.ldm4j.nn.Seq;

import java.util.ArrayList;
import java.util.List;

/**
 * transformers {@code CLIPTextTransformer} (the {@code text_model} of {@link CLIPTextModel}): embeddings, the stack of
 * causal {@link CLIPEncoderLayer}s ({@code encoder.layers.N}), final layer norm, and pooling at the end token.
 */
public final class CLIPTextTransformer extends Block {
    /** transformers' {@code CLIPEncoder}: only a list of layers. */
    public static final class CLIPEncoder extends Block {
        public final Seq<CLIPEncoderLayer> layers = child("layers", new Seq<>());
    }

    private final CLIPTextConfig config;
    public final CLIPTextEmbeddings embeddings;
    public final CLIPEncoder encoder;
    public final LayerNorm finalLayerNorm;

    public CLIPTextTransformer(CLIPTextConfig config) {
        this.config = config;
        embeddings = child("embeddings", new CLIPTextEmbeddings(config));
        encoder = child("encoder", new CLIPEncoder());
        for (int i = 0; i < config.numHiddenLayers(); i++) encoder.layers.add(new CLIPEncoderLayer(config));
        finalLayerNorm = child("final_layer_norm", new LayerNorm(config.hiddenSize(), config.layerNormEps()));
    }

    /**
     * @param inputIds      (B, T) integer token ids
     * @param attentionMask null (SD 1.x passes none), or (B, T) with 1 for real tokens and 0 for padding
     */
    public CLIPTextModel.Output forward(Tensor inputIds, Tensor attentionMask) {
        if (inputIds.dim() != 2) {
            throw new IllegalArgumentException("CLIP expects input ids (B, T), got " + java.util.Arrays.toString(inputIds.sizes().vec().get()));
        }
        Tensor ids = inputIds.to(ScalarType.Long);
        Tensor mask = attentionMask == null ? null : additiveCausalMask(attentionMask, ids.size(1));
        List<Tensor> hiddenStates = new ArrayList<>();
        Tensor h = embeddings.forward(ids);
        hiddenStates.add(h);
        for (CLIPEncoderLayer layer : encoder.layers.items()) {
            h = layer.forward(h, mask);
            hiddenStates.add(h);
        }
        Tensor last = finalLayerNorm.forward(h);
        return new CLIPTextModel.Output(last, pool(last, ids), List.copyOf(hiddenStates));
    }

    /**
     * The state at each sequence's end token. Configs written before transformers fixed {@code eos_token_id} say 2;
     * transformers then takes the largest id (the end token is the largest in CLIP's vocabulary), and so do we.
     */
    private Tensor pool(Tensor last, Tensor ids) {
        long b = ids.size(0), t = ids.size(1);
        Tensor position = config.eosTokenId() == 2
                ? ids.argmax(new LongOptional(-1), false)
                : ids.eq(new Scalar(config.eosTokenId())).to(ScalarType.Long).argmax(new LongOptional(-1), false);
        Tensor rowStart = torch.arange(new Scalar(b), new TensorOptions().dtype(Dtypes.optional(ScalarType.Long))
                .device(new DeviceOptional(ids.device()))).mul(new Scalar(t));
        return last.reshape(b * t, last.size(2)).index_select(0, rowStart.add(position));
    }

    /** (B, 1, T, T) fp32: 0 where key j ≤ query i and j is a real token, the most negative float elsewhere. */
    static Tensor additiveCausalMask(Tensor attentionMask, long t) {
        long b = attentionMask.size(0);
        TensorOptions boolOpts = new TensorOptions().dtype(Dtypes.optional(ScalarType.Bool)).device(new DeviceOptional(attentionMask.device()));
        Tensor causal = torch.ones(new long[]{t, t}, boolOpts).tril();
        Tensor keys = attentionMask.ne(new Scalar(0)).view(b, 1, t);
        Tensor allowed = causal.unsqueeze(0).logical_and(keys).unsqueeze(1);   // (B, 1, T, T)
        TensorOptions floatOpts = new TensorOptions().dtype(Dtypes.optional(ScalarType.Float)).device(new DeviceOptional(attentionMask.device()));
        return torch.zeros(new long[]{b, 1, t, t}, floatOpts).masked_fill(allowed.logical_not(), new Scalar(-Float.MAX_VALUE));
    }
}
