package org.ldm4j.pipeline;

import org.bytedeco.pytorch.Tensor;
import org.ldm4j.models.unet.UNetExtras;

import java.util.ArrayList;
import java.util.List;

/** Summing the residuals of several sources into one {@link UNetExtras}. */
public final class ControlSources {
    private ControlSources() {}

    /**
     * Element-wise sum of two extras (either may be null); the attention processor of {@code base} is kept.
     * Lists of different lengths cannot be summed and are an error naming both lengths.
     */
    public static UNetExtras merge(UNetExtras base, UNetExtras add) {
        if (add == null) return base;
        if (base == null) return add;
        return new UNetExtras(sum(base.downBlockAdditionalResiduals(), add.downBlockAdditionalResiduals(), "ControlNet residuals"),
                sum(base.midBlockAdditionalResidual(), add.midBlockAdditionalResidual()),
                sum(base.downIntrablockAdditionalResiduals(), add.downIntrablockAdditionalResiduals(), "adapter features"),
                base.attention() != null ? base.attention() : add.attention());
    }

    private static List<Tensor> sum(List<Tensor> a, List<Tensor> b, String what) {
        if (a == null) return b;
        if (b == null) return a;
        if (a.size() != b.size()) throw new IllegalArgumentException("cannot sum " + what + ": " + a.size() + " vs " + b.size() + " tensors");
        List<Tensor> out = new ArrayList<>(a.size());
        for (int i = 0; i < a.size(); i++) out.add(a.get(i).add(b.get(i)));
        return out;
    }

    private static Tensor sum(Tensor a, Tensor b) {
        if (a == null) return b;
        if (b == null) return a;
        return a.add(b);
    }
}
