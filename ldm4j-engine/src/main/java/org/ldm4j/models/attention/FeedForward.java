package org.ldm4j.models.attention;

import org.bytedeco.pytorch.Tensor;
import org.ldm4j.nn.Block;
import org.ldm4j.nn.Group;
import org.ldm4j.nn.Linear;

/**
 * diffusers {@code FeedForward} with {@code activation_fn="geglu"}, mult 4: {@code net.0} = GEGLU(dim → 4·dim),
 * {@code net.1} = Dropout (no weights, identity at inference), {@code net.2} = Linear(4·dim → dimOut).
 */
public final class FeedForward extends Block {
    public final GEGLU geglu;     // net.0
    public final Linear out;      // net.2: (dimOut, 4*dim)

    public FeedForward(int dim, int dimOut) {
        int inner = dim * 4;
        Group net = child("net", new Group());
        geglu = net.add("0", new GEGLU(dim, inner));
        out = net.add("2", new Linear(inner, dimOut));
    }

    public Tensor forward(Tensor x) { return out.forward(geglu.forward(x)); }
}
