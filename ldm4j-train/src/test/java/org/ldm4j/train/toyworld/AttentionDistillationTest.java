package org.ldm4j.train.toyworld;

import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch;
import org.junit.jupiter.api.Test;
import org.ldm4j.models.attention.AttentionSite;
import org.ldm4j.nn.Rng;
import org.ldm4j.nn.Tensors;

import java.util.List;

import static org.junit.jupiter.api.Assertions.*;

/** The distillation KL on synthetic maps: spatially aligned resizing of query and key grids. */
class AttentionDistillationTest {
    static AttentionSite site(String path, AttentionSite.Kind kind, int side) {
        return new AttentionSite(path, kind, side, side, AttentionSite.Stage.DOWN, 0, 2, 8);
    }

    /** A self-attention map on a side x side grid upsampled nearest to 2·side over both the query and the key grid. */
    static Tensor upsampleSelf(float[] s, int heads, int side) {
        int n = side * side, big = 2 * side, bn = big * big;
        float[] out = new float[heads * bn * bn];
        for (int h = 0; h < heads; h++)
            for (int q = 0; q < bn; q++)
                for (int k = 0; k < bn; k++) {
                    int sq = (q / big / 2) * side + (q % big) / 2, sk = (k / big / 2) * side + (k % big) / 2;
                    out[(h * bn + q) * bn + k] = s[(h * n + sq) * n + sk];
                }
        return Tensors.ofFloats(out, 1, heads, bn, bn);
    }

    @Test void aTeacherAtTwiceTheSizePoolsBackOntoTheStudent() {
        torch.set_num_threads(1);
        int heads = 2, side = 4, n = side * side;
        Tensor student = new Rng(1).randn(1, heads, n, n);
        float[] s = Tensors.toFloats(student);
        Tensor teacher = upsampleSelf(s, heads, side);
        Tensor cross = new Rng(2).randn(1, heads, n, 5);
        // cross: nearest-upsampled queries only
        Tensor crossBig = torch.upsample_nearest2d(cross.transpose(2, 3).reshape(heads * 5, 1, side, side), new long[]{8, 8})
                .reshape(1, heads, 5, 64).transpose(2, 3);
        List<AttentionDistillation.Layer> st = List.of(new AttentionDistillation.Layer(site("a1", AttentionSite.Kind.SELF, side), student),
                new AttentionDistillation.Layer(site("a2", AttentionSite.Kind.CROSS, side), cross));
        List<AttentionDistillation.Layer> te = List.of(new AttentionDistillation.Layer(site("a1", AttentionSite.Kind.SELF, 8), teacher),
                new AttentionDistillation.Layer(site("a2", AttentionSite.Kind.CROSS, 8), crossBig));
        assertEquals(0.0, AttentionDistillation.kl(te, st, 8).item_double(), 1e-6, "aligned pooling recovers the student map");

        // the same teacher with its key grid transposed (x <-> y) is a different map: the loss must see it
        Tensor swapped = teacher.reshape(1, heads, 64, 8, 8).transpose(3, 4).reshape(1, heads, 64, 64);
        List<AttentionDistillation.Layer> te2 = List.of(new AttentionDistillation.Layer(site("a1", AttentionSite.Kind.SELF, 8), swapped),
                new AttentionDistillation.Layer(site("a2", AttentionSite.Kind.CROSS, 8), crossBig));
        assertTrue(AttentionDistillation.kl(te2, st, 8).item_double() > 1e-3);
    }

    @Test void coarseLayersAreUpsampledToTheFinestStudentGrid() {
        Tensor fine = new Rng(3).randn(2, 2, 16, 7), coarse = new Rng(4).randn(2, 2, 4, 7);
        List<AttentionDistillation.Layer> st = List.of(new AttentionDistillation.Layer(site("f", AttentionSite.Kind.CROSS, 4), fine),
                new AttentionDistillation.Layer(site("c", AttentionSite.Kind.CROSS, 2), coarse));
        assertEquals(0.0, AttentionDistillation.kl(st, st, 2).item_double(), 1e-6);
        long[] shape = AttentionDistillation.toGrid(AttentionDistillation.headMean(coarse, 2), site("c", AttentionSite.Kind.CROSS, 2), 4, 4)
                .sizes().vec().get();
        assertArrayEquals(new long[]{2, 16, 7}, shape);
        assertThrows(IllegalArgumentException.class, () -> AttentionDistillation.kl(List.of(), st, 2));
    }
}
