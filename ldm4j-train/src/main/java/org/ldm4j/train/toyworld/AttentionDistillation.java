package org.ldm4j.train.toyworld;

import org.bytedeco.pytorch.LongOptional;
import org.bytedeco.pytorch.Scalar;
import org.bytedeco.pytorch.ScalarTypeOptional;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch;
import org.ldm4j.models.attention.AttentionMaps;
import org.ldm4j.models.attention.AttentionSite;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * FG-DM's attention distillation loss (Sridhar et al. 2024, eq. 7; shared/design/fgdm.md section 5):
 * L_KL = sum over j in {self, cross} of KL(teacher_j || student_j), where a map set j is the layers' head-averaged
 * attention scores q kᵀ/√d brought to a common grid and averaged over the layers, then softmaxed over the whole
 * flattened map (the official code's form of the paper's F and g). The teacher is the frozen UNet without the
 * adapter, the student the same UNet with it.
 *
 * <p>Three fixes over the released code: the student maps keep their gradient (record them with
 * {@code new AttentionMaps(site -> true, true, What.SCORES)}); query and key grids are resized <b>spatially</b> (a
 * teacher self-attention map at twice the size is pooled 2x2 over the query grid and over the key grid, so a teacher
 * map that is an upsampled student map pools back onto it exactly; the official pooling of the flattened matrix
 * averaged 4 horizontally adjacent pixels); and the caller draws fresh noise for a teacher at another size.
 *
 * <p>Common grid: the student's finest attention grid. Coarser maps are upsampled bilinearly (the paper's g), finer
 * ones (the teacher's at a larger size) are average-pooled when the ratio is whole, else resized bilinearly.
 */
public final class AttentionDistillation {
    private AttentionDistillation() {}

    /** One recorded layer: where it ran and its scores (B, heads, N, M). */
    public record Layer(AttentionSite site, Tensor scores) {}

    /** The layers an {@link AttentionMaps} recorded, in call order. */
    public static List<Layer> layers(AttentionMaps maps) {
        List<Layer> out = new ArrayList<>();
        Map<String, Tensor> all = maps.maps();
        for (AttentionSite s : maps.sites()) out.add(new Layer(s, all.get(s.path())));
        return out;
    }

    /**
     * KL(teacher || student) summed over self- and cross-attention, averaged over the first {@code samples} examples.
     * Layers are matched by path; a kind with no student layer contributes nothing.
     */
    public static Tensor kl(List<Layer> teacher, List<Layer> student, int samples) {
        Tensor total = null;
        for (AttentionSite.Kind kind : AttentionSite.Kind.values()) {
            List<Layer> s = student.stream().filter(l -> l.site().kind() == kind).toList();
            if (s.isEmpty()) continue;
            int h = 0, w = 0;
            for (Layer l : s) {
                h = Math.max(h, l.site().height());
                w = Math.max(w, l.site().width());
            }
            Tensor studentMean = null, teacherMean = null;
            for (Layer l : s) {
                Layer t = teacher.stream().filter(x -> x.site().path().equals(l.site().path())).findFirst()
                        .orElseThrow(() -> new IllegalArgumentException("the teacher recorded no attention at " + l.site().path()));
                Tensor sm = toGrid(headMean(l.scores(), samples), l.site(), h, w);
                Tensor tm = toGrid(headMean(t.scores(), samples), t.site(), h, w);
                studentMean = studentMean == null ? sm : studentMean.add(sm);
                teacherMean = teacherMean == null ? tm : teacherMean.add(tm);
            }
            Scalar layers = new Scalar((double) s.size());
            Tensor term = klFlat(teacherMean.div(layers), studentMean.div(layers));
            total = total == null ? term : total.add(term);
        }
        if (total == null) throw new IllegalArgumentException("no attention layers were recorded for the student");
        return total;
    }

    /** KL(softmax(t) || softmax(s)) over each example's whole flattened map, averaged over the batch. */
    static Tensor klFlat(Tensor teacherScores, Tensor studentScores) {
        long b = teacherScores.size(0);
        Tensor logT = torch.log_softmax(teacherScores.reshape(b, -1).detach(), 1);
        Tensor logS = torch.log_softmax(studentScores.reshape(b, -1), 1);
        return logT.exp().mul(logT.sub(logS)).sum().div(new Scalar((double) b));
    }

    /** (B, heads, N, M) -> (B, N, M) float32, the first {@code samples} examples. */
    static Tensor headMean(Tensor scores, int samples) {
        Tensor x = scores.size(0) > samples ? scores.narrow(0, 0, samples) : scores;
        return x.to(torch.ScalarType.Float).mean(new long[]{1}, false, new ScalarTypeOptional());
    }

    /**
     * A head-averaged map (B, N, M) of a layer on an h x w grid, resized to H x W: both grids for self-attention
     * (N = M = h·w), the query grid only for cross-attention (M text tokens).
     */
    static Tensor toGrid(Tensor map, AttentionSite site, int height, int width) {
        int h = site.height(), w = site.width();
        if (h == height && w == width) return map;
        long b = map.size(0);
        if (site.isCross()) return resizeQueries(map, b, h, w, height, width);
        Tensor keysResized = resizeQueries(map.transpose(1, 2), b, h, w, height, width).transpose(1, 2);   // (B, h·w -> H·W over keys)
        return resizeQueries(keysResized, b, h, w, height, width);
    }

    /** Resizes dimension 1 of (B, h·w, M), a row-major h x w grid, to H x W. */
    private static Tensor resizeQueries(Tensor map, long b, int h, int w, int height, int width) {
        long m = map.size(2);
        Tensor grid = map.transpose(1, 2).reshape(b * m, 1, h, w);
        Tensor resized = resize(grid, h, w, height, width);
        return resized.reshape(b, m, (long) height * width).transpose(1, 2);
    }

    private static Tensor resize(Tensor x, int h, int w, int height, int width) {
        if (height <= h && width <= w && h % height == 0 && w % width == 0) {
            long[] k = {h / height, w / width};
            return torch.avg_pool2d(x, k, k, new long[]{0, 0}, false, true, new LongOptional());
        }
        return torch.upsample_bilinear2d(x, new long[]{height, width}, false);
    }
}
