package org.ldm4j.cli;

import org.ldm4j.toyworld.ToyClass;
import org.ldm4j.toyworld.eval.SegmenterConfig;
import org.ldm4j.toyworld.eval.ToyWorldSegmenter;

import java.io.IOException;
import java.nio.file.Path;
import java.util.Map;

/** The evaluation tests' segmenter: tiny, random (seeded by the caller's torch.manual_seed), written to {@code dir}. */
final class TinySegmenter {
    private TinySegmenter() {}

    static Path write(Path dir) throws IOException {
        new ToyWorldSegmenter(new SegmenterConfig(new int[]{8, 16}, ToyClass.count(), 4)).save(dir, Map.of());
        return dir;
    }
}
