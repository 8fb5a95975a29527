package org.ldm4j.train.toyworld;

import org.bytedeco.pytorch.global.torch;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;

import static org.junit.jupiter.api.Assertions.*;

class LabelledPoolTest {
    static List<LabelledPool.Example> examples(int n, int pixels) {
        List<LabelledPool.Example> out = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            int[] rgb = new int[pixels], labels = new int[pixels];
            java.util.Arrays.fill(rgb, i * 0x010101);
            java.util.Arrays.fill(labels, i == 0 ? SegmenterRecipe.IGNORED : i);
            out.add(new LabelledPool.Example(rgb, labels));
        }
        return out;
    }

    @Test void batchesDependOnTheStepOnlyAndCoverThePool() {
        LabelledPool pool = new LabelledPool(examples(5, 4), 2, 2, 3, 9);
        List<Integer> first = pool.examples(7).stream().map(e -> e.labels()[0]).toList();
        assertEquals(first, new LabelledPool(examples(5, 4), 2, 2, 3, 9).examples(7).stream().map(e -> e.labels()[0]).toList(), "same step, same batch");
        Set<Integer> seen = new HashSet<>();
        for (long step = 0; step < 40; step++) for (LabelledPool.Example e : pool.examples(step)) seen.add(e.labels()[1]);
        assertEquals(Set.of(SegmenterRecipe.IGNORED, 1, 2, 3, 4), seen);
        SegmenterRecipe.Batch b = pool.batch(3);
        assertArrayEquals(new long[]{3, 3, 2, 2}, b.images().sizes().vec().get());
        assertArrayEquals(new long[]{3, 2, 2}, b.targets().sizes().vec().get());
        assertEquals(torch.ScalarType.Long.value, b.targets().scalar_type().value);
        assertTrue(torch.equal(b.targets(), pool.batch(3).targets()));
    }

    @Test void examplesOfTheWrongSizeAreRefused() {
        var e = assertThrows(IllegalArgumentException.class, () -> new LabelledPool(examples(2, 5), 2, 2, 1, 0));
        assertTrue(e.getMessage().contains("2x2"), e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> new LabelledPool(List.of(), 2, 2, 1, 0));
    }
}
