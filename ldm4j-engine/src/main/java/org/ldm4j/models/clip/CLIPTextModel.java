package org.ldm4j.models.clip;

import org.bytedeco.pytorch.Tensor;
import org.ldm4j.nn.Block;

import java.util.List;

/**
 * transformers {@code CLIPTextModel} (models/clip/modeling_clip.py), the text encoder of Stable Diffusion 1.x
 * (Radford et al. 2021, "Learning Transferable Visual Models From Natural Language Supervision"; SD uses ViT-L/14's
 * text tower). Weight names are the transformers keys under {@code text_model.}; the {@code position_ids} buffer of
 * older saves is not a parameter.
 */
public final class CLIPTextModel extends Block {
    /**
     * @param lastHiddenState (B, T, C) after the final layer norm: SD's prompt embeddings
     * @param pooledOutput    (B, C) the last state at each end token
     * @param hiddenStates    embeddings output, then each layer's output before the final norm (numLayers + 1 entries)
     */
    public record Output(Tensor lastHiddenState, Tensor pooledOutput, List<Tensor> hiddenStates) {}

    private final CLIPTextConfig config;
    public final CLIPTextTransformer textModel;

    public CLIPTextModel(CLIPTextConfig config) {
        this.config = config;
        textModel = child("text_model", new CLIPTextTransformer(config));
    }

    public CLIPTextConfig config() { return config; }

    /** ids: (B, T) token ids (T ≤ 77), no attention mask (as SD 1.x pipelines call it). */
    public Output forward(Tensor inputIds) {
        return textModel.forward(inputIds, null);
    }

    /** ids with a padding mask (B, T), 1 for real tokens; null means none. */
    public Output forward(Tensor inputIds, Tensor attentionMask) {
        return textModel.forward(inputIds, attentionMask);
    }

    /**
     * Prompt embeddings with diffusers' {@code clip_skip} (pipeline_stable_diffusion.py {@code encode_prompt}): 0 gives
     * the last hidden state; k > 0 takes {@code hidden_states[-(k + 1)]}, the output of the layer k before the last,
     * and applies the final layer norm to it.
     */
    public Tensor promptEmbeds(Tensor inputIds, int clipSkip) {
        return promptEmbeds(forward(inputIds), clipSkip);
    }

    /** {@link #promptEmbeds(Tensor, int)} on an existing output. */
    public Tensor promptEmbeds(Output out, int clipSkip) {
        int layers = out.hiddenStates().size() - 1;
        if (clipSkip < 0 || clipSkip >= layers) {
            throw new IllegalArgumentException("clip_skip must be in [0, " + (layers - 1) + "], got " + clipSkip);
        }
        if (clipSkip == 0) return out.lastHiddenState();
        Tensor h = out.hiddenStates().get(out.hiddenStates().size() - 1 - clipSkip);
        return textModel.finalLayerNorm.forward(h);
    }
}
