package org.ldm4j.cli;

import org.junit.jupiter.api.Test;
import org.ldm4j.methods.fgdm.ClassMap;
import org.ldm4j.toyworld.ToyClass;
import org.ldm4j.toyworld.eval.FrechetDistance;
import org.ldm4j.toyworld.eval.SegmentationMetrics;

import java.util.List;

import static org.junit.jupiter.api.Assertions.*;

/** The layout statistic and the agreement mIoU of {@link FgdmEvaluation}. */
class FgdmEvaluationTest {
    static final int K = ToyClass.count();

    /** Sky over grass, the horizon at {@code row} of an 8x8 map. */
    static ClassMap horizon(int size, int row) {
        int[] l = new int[size * size];
        for (int p = 0; p < l.length; p++) l[p] = p / size < row ? ToyClass.SKY.ordinal() : ToyClass.GRASS.ordinal();
        return new ClassMap(size, size, l);
    }

    @Test void layoutFeaturesAreCellClassFractions() {
        double[] f = FgdmEvaluation.layoutFeatures(horizon(8, 4), 4, K);
        assertEquals(16 * K, f.length);
        for (int cell = 0; cell < 16; cell++) {
            boolean top = cell / 4 < 2;
            assertEquals(top ? 1.0 : 0.0, f[cell * K + ToyClass.SKY.ordinal()], 0.0, "cell " + cell);
            assertEquals(top ? 0.0 : 1.0, f[cell * K + ToyClass.GRASS.ordinal()], 0.0, "cell " + cell);
        }
        // resolution independent: the same layout at 32x32 has the same features
        assertArrayEquals(f, FgdmEvaluation.layoutFeatures(horizon(32, 16), 4, K), 1e-12);
        // unlabeled pixels count for no class: a half-unlabeled cell sums to 1/2
        int[] l = horizon(8, 4).labels().clone();
        l[0] = ClassMap.UNLABELED;
        l[1] = ClassMap.UNLABELED;
        double[] g = FgdmEvaluation.layoutFeatures(new ClassMap(8, 8, l), 4, K);
        double sum = 0;
        for (int c = 0; c < K; c++) sum += g[c];
        assertEquals(0.5, sum, 1e-12);
    }

    @Test void layoutDistanceIsZeroForTheSameSetAndGrowsWithTheShift() {
        List<ClassMap> real = List.of(horizon(8, 2), horizon(8, 3), horizon(8, 4), horizon(8, 5));
        List<ClassMap> near = List.of(horizon(8, 3), horizon(8, 4), horizon(8, 5), horizon(8, 6));
        List<ClassMap> far = List.of(horizon(8, 5), horizon(8, 6), horizon(8, 7), horizon(8, 8));
        FrechetDistance.Statistics ref = FgdmEvaluation.layoutStatistics(real);
        assertEquals(0.0, FrechetDistance.distance(FgdmEvaluation.layoutStatistics(real), ref), 1e-6);   // eigen round-off
        double dNear = FrechetDistance.distance(FgdmEvaluation.layoutStatistics(near), ref);
        double dFar = FrechetDistance.distance(FgdmEvaluation.layoutStatistics(far), ref);
        assertTrue(dNear > 1e-6 && dFar > dNear, dNear + " " + dFar);
    }

    @Test void agreementSkipsUnlabeledPixels() {
        ClassMap map = horizon(4, 2);
        int[] predicted = map.labels().clone();
        int[] labels = map.labels().clone();
        labels[0] = ClassMap.UNLABELED;
        predicted[0] = ToyClass.WATER.ordinal();   // where the map says nothing, the segmenter's class does not count
        SegmentationMetrics m = new SegmentationMetrics(K);
        FgdmEvaluation.addAgreement(m, new ClassMap(4, 4, labels), predicted);
        assertEquals(1.0, m.meanIou(), 0.0);
        predicted[15] = ToyClass.SKY.ordinal();    // one grass pixel read as sky: IoU sky 7/8, grass 7/8
        SegmentationMetrics m2 = new SegmentationMetrics(K);
        FgdmEvaluation.addAgreement(m2, new ClassMap(4, 4, labels), predicted);
        assertEquals(7.0 / 8, m2.meanIou(), 1e-12);
    }
}
