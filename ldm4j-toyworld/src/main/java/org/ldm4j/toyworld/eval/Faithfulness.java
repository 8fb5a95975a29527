package org.ldm4j.toyworld.eval;

/**
 * How faithful a guided-synthesis output is to the stroke painting it was asked to follow, in GradOP's terms: the
 * mean squared distance between the output and the painting after the painting function f
 * ({@link PaintingFunction}), on [0, 1] pixels over all channels.
 *
 * <p>GradOP's optimisation target compares f(x) with the raw painting y (shared/design/gradop.md sec. 3.3). As a
 * metric both sides are passed through f, so a painting is at distance 0 from itself and the painting's hard stroke
 * edges (which no realistic image has) do not add a constant floor to every method's score.
 */
public final class Faithfulness {
    private Faithfulness() {}

    /** MSE(f(output), f(painting)); 0 means the output reproduces the painting's colours at the blur's scale. */
    public static double distance(int[] output, int[] painting, int width, int height) {
        if (output.length != painting.length || output.length != width * height) {
            throw new IllegalArgumentException("output (" + output.length + " px) and painting (" + painting.length
                    + " px) must both be " + width + "x" + height);
        }
        PaintingFunction f = PaintingFunction.forWidth(width);
        return ImageQuality.mse(f.apply(output, width, height), f.apply(painting, width, height), null);
    }

    /** GradOP's own objective value: MSE(f(output), painting) with the painting unblurred. */
    public static double gradopObjective(int[] output, int[] painting, int width, int height) {
        PaintingFunction f = PaintingFunction.forWidth(width);
        return ImageQuality.mse(f.apply(output, width, height), ImageQuality.planes(painting), null);
    }
}
