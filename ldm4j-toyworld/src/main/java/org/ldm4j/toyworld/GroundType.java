package org.ldm4j.toyworld;

/** What the ground below the horizon is made of; each is its own segmentation class. */
public enum GroundType {
    GRASS(ToyClass.GRASS), SAND(ToyClass.SAND), SNOW(ToyClass.SNOW);

    private final ToyClass toyClass;

    GroundType(ToyClass toyClass) { this.toyClass = toyClass; }

    public ToyClass toyClass() { return toyClass; }
}
