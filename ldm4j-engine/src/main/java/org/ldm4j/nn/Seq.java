package org.ldm4j.nn;

import java.util.ArrayList;
import java.util.Collections;
import java.util.List;

/** An indexed list of children named "0", "1", ... (diffusers' {@code nn.ModuleList}). */
public final class Seq<B extends Block> extends Block {
    private final List<B> items = new ArrayList<>();

    public B add(B block) {
        child(Integer.toString(items.size()), block);
        items.add(block);
        return block;
    }

    public B get(int i) { return items.get(i); }

    public int size() { return items.size(); }

    public List<B> items() { return Collections.unmodifiableList(items); }
}
