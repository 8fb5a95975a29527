package org.ldm4j.pipeline;

import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.TensorVector;
import org.bytedeco.pytorch.global.torch;
import org.ldm4j.nn.Tensors;

/**
 * Text-encoder states of one prompt and its negative ("" = unconditional), each (1, 77, D), plus the tokenizer's
 * view of the prompt (which words sit at which token positions: region-control methods need it).
 */
public record PromptConditioning(Tensor cond, Tensor uncond, org.ldm4j.models.clip.CLIPTokenizer.Encoding encoding) {
    /** [uncond; cond] along the batch, the layout diffusers uses for classifier-free guidance. */
    public Tensor uncondAndCond() { return torch.cat(new TensorVector(uncond, cond), 0); }

    /** The same states once per element of a batch of {@code count} latents (itself when count is 1). */
    public PromptConditioning repeat(int count) {
        if (count == 1) return this;
        return new PromptConditioning(Tensors.repeatBatch(cond, count, "text states"),
                uncond == null ? null : Tensors.repeatBatch(uncond, count, "text states"), encoding);
    }
}
