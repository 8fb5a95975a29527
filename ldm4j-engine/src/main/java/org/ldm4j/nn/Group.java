package org.ldm4j.nn;

/**
 * A container whose children have arbitrary names, for diffusers lists with gaps such as
 * {@code ff.net = [GEGLU, Dropout, Linear]} where only "0" and "2" hold weights.
 */
public final class Group extends Block {
    public <B extends Block> B add(String name, B block) {
        return child(name, block);
    }
}
