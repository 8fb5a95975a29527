package org.ldm4j.toyworld.eval;

import org.ldm4j.toyworld.Mask;
import org.ldm4j.toyworld.ToyClass;

import java.util.Set;

/**
 * Whether an edit stayed where it was asked to (Blended Latent Diffusion's requirement, Avrahami et al. 2023): the
 * region outside the mask should be unchanged (PSNR and SSIM of output vs input there) and the requested object
 * should appear inside it (object recall counted on the mask's pixels only, with {@link ObjectRecall}'s threshold).
 */
public final class EditLocality {
    private EditLocality() {}

    public record Result(double psnrOutside, double ssimOutside, double recallInside, Set<ToyClass> foundInside) {}

    /**
     * @param input     the image before the edit
     * @param output    the edited image
     * @param outputMap the segmenter's class map of the output
     * @param requested the object classes the edit prompt asks for
     */
    public static Result measure(int[] input, int[] output, int[] outputMap, Mask mask, Set<ToyClass> requested, ObjectRecall recall) {
        int n = mask.width() * mask.height();
        if (input.length != n || output.length != n || outputMap.length != n) {
            throw new IllegalArgumentException("input, output and class map must match the " + mask.width() + "x" + mask.height() + " mask");
        }
        boolean[] outside = new boolean[n];
        for (int i = 0; i < n; i++) outside[i] = !mask.bits()[i];
        double psnr = ImageQuality.psnr(input, output, outside);
        double ssim = ImageQuality.ssim(input, output, mask.width(), mask.height(), outside);
        ObjectRecall.Result inside = recall.recall(requested, outputMap, mask.bits());
        return new Result(psnr, ssim, inside.recall(), inside.found());
    }
}
