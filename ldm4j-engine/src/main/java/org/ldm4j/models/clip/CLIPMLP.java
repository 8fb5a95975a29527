package org.ldm4j.models.clip;

import org.bytedeco.pytorch.Scalar;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch;
import org.ldm4j.nn.Block;
import org.ldm4j.nn.Linear;

/** transformers {@code CLIPMLP}: fc1, activation, fc2. */
public final class CLIPMLP extends Block {
    public final Linear fc1, fc2;
    private final boolean quickGelu;

    public CLIPMLP(CLIPEncoderSpec config) {
        fc1 = child("fc1", new Linear(config.hiddenSize(), config.intermediateSize()));
        fc2 = child("fc2", new Linear(config.intermediateSize(), config.hiddenSize()));
        quickGelu = config.hiddenAct().equals("quick_gelu");
    }

    public Tensor forward(Tensor x) {
        Tensor h = fc1.forward(x);
        return fc2.forward(quickGelu ? quickGelu(h) : torch.gelu(h));
    }

    /** OpenAI CLIP's GELU approximation x·σ(1.702x) (transformers {@code QuickGELUActivation}). */
    public static Tensor quickGelu(Tensor x) {
        return x.mul(torch.sigmoid(x.mul(new Scalar(1.702))));
    }
}
