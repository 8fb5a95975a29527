package org.ldm4j.nn;

import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.TensorOptional;
import org.bytedeco.pytorch.global.torch;

/** {@code nn.Conv2d} with square kernels, weight (out, in, k, k). */
public final class Conv2d extends Block {
    public final int inChannels, outChannels, kernel, stride, padding;
    public final Param weight;
    public final Param bias;

    public Conv2d(int inChannels, int outChannels, int kernel, int stride, int padding, boolean bias) {
        this.inChannels = inChannels;
        this.outChannels = outChannels;
        this.kernel = kernel;
        this.stride = stride;
        this.padding = padding;
        double bound = 1.0 / Math.sqrt((double) inChannels * kernel * kernel);
        this.weight = param("weight", bound, outChannels, inChannels, kernel, kernel);
        this.bias = bias ? param("bias", bound, outChannels) : null;
    }

    public Conv2d(int inChannels, int outChannels, int kernel, int stride, int padding) {
        this(inChannels, outChannels, kernel, stride, padding, true);
    }

    public Tensor forward(Tensor x) {
        TensorOptional b = bias == null ? new TensorOptional() : new TensorOptional(bias.t());
        return torch.conv2d(x, weight.t(), b, new long[]{stride, stride}, new long[]{padding, padding}, new long[]{1, 1}, 1);
    }
}
