package org.ldm4j.models.adapter;

import org.bytedeco.pytorch.LongOptional;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.TensorOptional;
import org.bytedeco.pytorch.global.torch;
import org.bytedeco.pytorch.global.torch.ScalarType;
import org.ldm4j.nn.Block;
import org.ldm4j.nn.Conv2d;
import org.ldm4j.nn.Dtypes;
import org.ldm4j.nn.GroupNorm;
import org.ldm4j.nn.Group;
import org.ldm4j.nn.Linear;
import org.ldm4j.nn.Param;

/**
 * The LDM {@code ResBlock} (openaimodel.py) as FG-DM's {@code TimeAdapter} uses it, under its original names:
 * h = in_layers(x) = Conv3x3(SiLU(GroupNorm(x))) (average-pooled 2x2 between the SiLU and the conv when {@code down}),
 * h += emb_layers(emb) = Linear(SiLU(emb)), h = out_layers(h) = Conv3x3(Dropout(SiLU(GroupNorm(h)))) with the conv
 * zero-initialised, out = skip_connection(x) + h (identity, or a 1x1 conv when the width changes; x pooled too when
 * {@code down}). GroupNorm runs in float32 as LDM's {@code GroupNorm32}.
 */
public final class TimeAdapterResBlock extends Block {
    public final boolean down;
    public final GroupNorm inNorm, outNorm;
    public final Conv2d inConv, outConv;
    public final Linear embProj;
    public final Conv2d skipConnection;   // null when in == out

    public TimeAdapterResBlock(int inChannels, int outChannels, int embChannels, int groups, boolean down) {
        this.down = down;
        Group in = child("in_layers", new Group());
        inNorm = in.add("0", new GroupNorm(groups, inChannels, 1e-5));
        inConv = in.add("2", new Conv2d(inChannels, outChannels, 3, 1, 1));
        Group emb = child("emb_layers", new Group());
        embProj = emb.add("1", new Linear(embChannels, outChannels));
        Group out = child("out_layers", new Group());
        outNorm = out.add("0", new GroupNorm(groups, outChannels, 1e-5));
        outConv = out.add("3", new Conv2d(outChannels, outChannels, 3, 1, 1));
        if (initialising()) for (Param p : outConv.namedParameters().values()) p.set(torch.zeros_like(p.t()));
        skipConnection = inChannels != outChannels ? child("skip_connection", new Conv2d(inChannels, outChannels, 1, 1, 0)) : null;
    }

    /** @param emb (B, embChannels) */
    public Tensor forward(Tensor x, Tensor emb) {
        Tensor h = torch.silu(norm32(inNorm, x));
        if (down) {
            h = avgPool(h);
            x = avgPool(x);
        }
        h = inConv.forward(h);
        Tensor e = embProj.forward(torch.silu(Dtypes.to(emb, emb.device(), h.scalar_type())));
        h = h.add(e.unsqueeze(2).unsqueeze(3));
        h = outConv.forward(torch.silu(norm32(outNorm, h)));   // dropout 0
        Tensor skip = skipConnection != null ? skipConnection.forward(x) : x;
        return skip.add(h);
    }

    /** LDM's {@code GroupNorm32}: normalise in float32, return in the input's dtype. */
    private static Tensor norm32(GroupNorm norm, Tensor x) {
        if (Dtypes.isFloat32(x)) return norm.forward(x);
        Tensor y = torch.group_norm(x.to(ScalarType.Float), norm.numGroups, new TensorOptional(norm.weight.t().to(ScalarType.Float)),
                new TensorOptional(norm.bias.t().to(ScalarType.Float)), norm.eps, false);
        return y.to(x.scalar_type());
    }

    /** LDM's {@code avg_pool_nd(2, kernel_size=2, stride=2)} (floor mode). */
    static Tensor avgPool(Tensor x) {
        return torch.avg_pool2d(x, new long[]{2, 2}, new long[]{2, 2}, new long[]{0, 0}, false, true, new LongOptional());
    }
}
