package org.ldm4j.toyworld;

import java.util.Iterator;
import java.util.NoSuchElementException;
import java.util.Spliterator;
import java.util.Spliterators;
import java.util.stream.LongStream;
import java.util.stream.Stream;
import java.util.stream.StreamSupport;

/**
 * Scenes for training, one per seed from {@code firstSeed} upwards: an Iterator (sequential, allocation of the
 * scene arrays only) or a Stream that may be parallel, since every scene depends on its seed alone.
 */
public final class ToyWorldStream implements Iterator<Scene> {
    private final SceneOptions options;
    private final long end;
    private long next;

    /** Scenes for seeds firstSeed, firstSeed + 1, ..., firstSeed + count - 1. */
    public ToyWorldStream(long firstSeed, long count, SceneOptions options) {
        if (count < 0) throw new IllegalArgumentException("scene count must be >= 0, got " + count);
        if (options == null) throw new IllegalArgumentException("SceneOptions must not be null");
        this.options = options;
        this.next = firstSeed;
        this.end = firstSeed + count;
    }

    /** An endless stream of scenes from firstSeed on. */
    public static ToyWorldStream endless(long firstSeed, SceneOptions options) {
        return new ToyWorldStream(firstSeed, Long.MAX_VALUE - firstSeed, options);
    }

    @Override
    public boolean hasNext() { return next < end; }

    @Override
    public Scene next() {
        if (!hasNext()) throw new NoSuchElementException("ToyWorld stream ended at seed " + end);
        return ToyWorld.sample(next++, options);
    }

    /** The scenes of the remaining seeds as a Stream; call {@code .parallel()} to use all cores. */
    public Stream<Scene> stream() {
        long from = next;
        next = end;
        return LongStream.range(from, end).mapToObj(seed -> ToyWorld.sample(seed, options));
    }

    /** A sequential stream of this iterator (consumes it). */
    public Stream<Scene> sequential() {
        return StreamSupport.stream(Spliterators.spliteratorUnknownSize(this, Spliterator.ORDERED | Spliterator.NONNULL), false);
    }
}
