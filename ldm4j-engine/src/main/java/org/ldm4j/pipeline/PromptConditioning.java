package org.ldm4j.pipeline;

import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.TensorVector;
import org.bytedeco.pytorch.global.torch;

/**
 * Text-encoder states of one prompt and its negative ("" = unconditional), each (1, 77, D), plus the tokenizer's
 * view of the prompt (which words sit at which token positions: region-control methods need it).
 */
public record PromptConditioning(Tensor cond, Tensor uncond, org.ldm4j.models.clip.CLIPTokenizer.Encoding encoding) {
    /** [uncond; cond] along the batch, the layout diffusers uses for classifier-free guidance. */
    public Tensor uncondAndCond() { return torch.cat(new TensorVector(uncond, cond), 0); }
}
