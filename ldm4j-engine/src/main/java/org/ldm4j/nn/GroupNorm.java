package org.ldm4j.nn;

import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.TensorOptional;
import org.bytedeco.pytorch.global.torch;

/** {@code nn.GroupNorm(numGroups, numChannels, eps, affine=True)}. */
public final class GroupNorm extends Block {
    public final int numGroups, numChannels;
    public final double eps;
    public final Param weight, bias;

    public GroupNorm(int numGroups, int numChannels, double eps) {
        if (numChannels % numGroups != 0) {
            throw new IllegalArgumentException("GroupNorm: " + numChannels + " channels are not divisible into " + numGroups + " groups");
        }
        this.numGroups = numGroups;
        this.numChannels = numChannels;
        this.eps = eps;
        this.weight = constant("weight", 1.0, numChannels);
        this.bias = constant("bias", 0.0, numChannels);
    }

    public Tensor forward(Tensor x) {
        return torch.group_norm(x, numGroups, new TensorOptional(weight.t()), new TensorOptional(bias.t()), eps, false);
    }
}
