package org.ldm4j.models.attention;

import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch;
import org.ldm4j.nn.Block;
import org.ldm4j.nn.Linear;

/**
 * diffusers {@code GEGLU} (models/activations.py; Shazeer 2020, "GLU Variants Improve Transformer"):
 * {@code proj} maps to 2 x dimOut channels, split into (hidden, gate); output = hidden * GELU(gate), exact erf GELU.
 */
public final class GEGLU extends Block {
    public final Linear proj;   // (2*dimOut, dimIn): first half hidden, second half gate

    public GEGLU(int dimIn, int dimOut) {
        proj = child("proj", new Linear(dimIn, dimOut * 2));
    }

    public Tensor forward(Tensor x) {
        Tensor[] halves = org.ldm4j.nn.Tensors.halves(proj.forward(x), -1);
        return halves[0].mul(torch.gelu(halves[1]));
    }
}
