package org.ldm4j.toyworld;

/**
 * Train/validation/test splits as disjoint seed ranges: scene i of a split has seed {@code firstSeed() + i}.
 * Train uses seeds 0 .. 999,999, validation 1,000,000 .., test 2,000,000 .., so no scene is in two splits as
 * long as a split holds fewer than a million scenes (the writer refuses more).
 */
public enum DatasetSplit {
    TRAIN("train", 0L), VALIDATION("validation", 1_000_000L), TEST("test", 2_000_000L);

    public static final long MAX_SCENES = 1_000_000L;

    private final String folder;
    private final long firstSeed;

    DatasetSplit(String folder, long firstSeed) {
        this.folder = folder;
        this.firstSeed = firstSeed;
    }

    public String folder() { return folder; }

    public long firstSeed() { return firstSeed; }

    public long seed(long index) {
        if (index < 0 || index >= MAX_SCENES) throw new IllegalArgumentException("scene index " + index + " outside 0.." + (MAX_SCENES - 1) + " for split " + folder);
        return firstSeed + index;
    }
}
