package org.ldm4j.train.toyworld;

import org.bytedeco.pytorch.Tensor;
import org.ldm4j.nn.Tensors;
import org.ldm4j.toyworld.Scene;

import java.util.Arrays;
import java.util.List;

/**
 * Per-object loss balancing for ToyWorld objectives. A plain mean weighs every cell alike, so an object covering two
 * cells of the 16x16 latent (a ToyWorld rock: ~40 pixels) adds ~1% of the LDM's loss and the UNet learns to leave it
 * out; a house covers ten times more. With weighting on, every cell an object touches gets an extra weight
 * {@code strength · referenceCells / cellsOfThatObject}, so each object adds the same extra loss whatever its size;
 * objectives take the weighted mean, so the loss keeps the plain mean's scale. A "cell" is a latent cell for the LDM
 * and a pixel for the VAE decoder.
 *
 * @param strength       0 = the plain mean (SD's objectives)
 * @param referenceCells the object footprint (in cells) whose cells get exactly {@code strength} extra
 */
public record ObjectWeighting(double strength, double referenceCells) {
    public static final ObjectWeighting NONE = new ObjectWeighting(0, 16);

    public ObjectWeighting {
        if (!(strength >= 0) || !Double.isFinite(strength)) throw new IllegalArgumentException("object loss weight must be >= 0, got " + strength);
        if (!(referenceCells > 0) || !Double.isFinite(referenceCells)) throw new IllegalArgumentException("object reference cells must be > 0, got " + referenceCells);
    }

    /** The (B, 1, h, w) weights of the scenes' cells (h, w divide the scene size); a cell is touched by an object if any of its pixels is. */
    public Tensor weights(List<Scene> scenes, int latentHeight, int latentWidth) {
        float[] w = new float[scenes.size() * latentHeight * latentWidth];
        Arrays.fill(w, 1f);
        for (int b = 0; b < scenes.size(); b++) {
            Scene s = scenes.get(b);
            if (s.height() % latentHeight != 0 || s.width() % latentWidth != 0) {
                throw new IllegalArgumentException("object weights at " + latentWidth + "x" + latentHeight + " need a scene whose side is a multiple of it, got "
                        + s.width() + "x" + s.height());
            }
            int fy = s.height() / latentHeight, fx = s.width() / latentWidth;
            int base = b * latentHeight * latentWidth;
            int[] instances = s.instances();
            for (var object : s.objects()) {
                boolean[] touched = new boolean[latentHeight * latentWidth];
                int cells = 0;
                for (int y = 0; y < s.height(); y++) {
                    for (int x = 0; x < s.width(); x++) {
                        if (instances[y * s.width() + x] != object.instanceId()) continue;
                        int cell = (y / fy) * latentWidth + x / fx;
                        if (!touched[cell]) { touched[cell] = true; cells++; }
                    }
                }
                if (cells == 0) continue;
                float extra = (float) (strength * referenceCells / cells);
                for (int c = 0; c < touched.length; c++) if (touched[c]) w[base + c] += extra;
            }
        }
        return Tensors.ofFloats(w, scenes.size(), 1, latentHeight, latentWidth);
    }

    /** The weighted mean of {@code perElement} (B, C, h, w) under {@link #weights} (broadcast over channels). */
    public Tensor weightedMean(Tensor perElement, List<Scene> scenes) {
        if (strength == 0) return perElement.mean();
        Tensor w = weights(scenes, (int) perElement.size(2), (int) perElement.size(3)).to(perElement.device(), perElement.dtype());
        return perElement.mul(w).sum().div(w.sum().mul(new org.bytedeco.pytorch.Scalar(perElement.size(1))));
    }
}
