package org.ldm4j.toyworld.eval;

import java.util.Arrays;

/**
 * A confusion matrix accumulated over many images, and the IoU figures derived from it.
 *
 * <p>IoU of class c = TP / (TP + FP + FN) summed over the whole set (not averaged per image), and mIoU is the mean
 * over classes that occur in the ground truth or the prediction — the PASCAL VOC / Cityscapes convention. A class
 * absent from both is skipped rather than counted as 1 or 0.
 */
public final class SegmentationMetrics {
    private final int numClasses;
    private final long[][] confusion;
    private int images;

    public SegmentationMetrics(int numClasses) {
        this.numClasses = numClasses;
        this.confusion = new long[numClasses][numClasses];
    }

    /** Adds one image: truth and prediction are class indices per pixel. */
    public SegmentationMetrics add(int[] truth, int[] predicted) {
        if (truth.length != predicted.length) {
            throw new IllegalArgumentException("truth has " + truth.length + " pixels, prediction " + predicted.length);
        }
        for (int i = 0; i < truth.length; i++) {
            int t = truth[i], p = predicted[i];
            if (t < 0 || t >= numClasses || p < 0 || p >= numClasses) {
                throw new IllegalArgumentException("class index out of range 0.." + (numClasses - 1) + " at pixel " + i + ": truth " + t + ", predicted " + p);
            }
            confusion[t][p]++;
        }
        images++;
        return this;
    }

    /** Adds another set's confusion matrix (e.g. one shard of a long evaluation) over {@code images} images. */
    public SegmentationMetrics addConfusion(long[][] other, int images) {
        if (other.length != numClasses) throw new IllegalArgumentException("confusion matrix of " + other.length + " classes, expected " + numClasses);
        for (int t = 0; t < numClasses; t++) {
            if (other[t].length != numClasses) throw new IllegalArgumentException("confusion row " + t + " has " + other[t].length + " entries, expected " + numClasses);
            for (int p = 0; p < numClasses; p++) {
                if (other[t][p] < 0) throw new IllegalArgumentException("negative count in the confusion matrix at " + t + "," + p);
                confusion[t][p] += other[t][p];
            }
        }
        this.images += images;
        return this;
    }

    public int images() { return images; }

    public long[][] confusion() {
        long[][] out = new long[numClasses][];
        for (int i = 0; i < numClasses; i++) out[i] = confusion[i].clone();
        return out;
    }

    /** IoU per class; NaN for classes absent from both truth and prediction. */
    public double[] iou() {
        double[] out = new double[numClasses];
        for (int c = 0; c < numClasses; c++) {
            long tp = confusion[c][c], fn = 0, fp = 0;
            for (int k = 0; k < numClasses; k++) {
                if (k == c) continue;
                fn += confusion[c][k];
                fp += confusion[k][c];
            }
            long union = tp + fp + fn;
            out[c] = union == 0 ? Double.NaN : (double) tp / union;
        }
        return out;
    }

    /**
     * Where the pixels of each true class went: row {@code t} holds the share of class {@code t}'s pixels predicted as
     * each class (the row sums to 1; a row of NaN for a class absent from the truth). Its off-diagonal entries say
     * what a low IoU is made of: a class drawn as another one, rather than misplaced edges.
     */
    public double[][] predictedShares() {
        double[][] out = new double[numClasses][numClasses];
        for (int t = 0; t < numClasses; t++) {
            long all = 0;
            for (int p = 0; p < numClasses; p++) all += confusion[t][p];
            for (int p = 0; p < numClasses; p++) out[t][p] = all == 0 ? Double.NaN : (double) confusion[t][p] / all;
        }
        return out;
    }

    /** Mean IoU over the classes present (NaN if nothing was added). */
    public double meanIou() {
        return Arrays.stream(iou()).filter(v -> !Double.isNaN(v)).average().orElse(Double.NaN);
    }

    /** Fraction of pixels classified correctly. */
    public double pixelAccuracy() {
        long right = 0, all = 0;
        for (int t = 0; t < numClasses; t++) {
            for (int p = 0; p < numClasses; p++) {
                all += confusion[t][p];
                if (t == p) right += confusion[t][p];
            }
        }
        return all == 0 ? Double.NaN : (double) right / all;
    }
}
