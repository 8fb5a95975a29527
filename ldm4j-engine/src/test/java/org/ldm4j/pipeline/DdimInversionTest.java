package org.ldm4j.pipeline;

import org.bytedeco.pytorch.InferenceMode;
import org.bytedeco.pytorch.Scalar;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch;
import org.bytedeco.pytorch.global.torch.ScalarType;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.ldm4j.nn.Dtypes;
import org.ldm4j.nn.Engine;
import org.ldm4j.nn.Rng;
import org.ldm4j.schedulers.DDIMScheduler;

import java.nio.file.Path;
import java.util.List;

import static org.junit.jupiter.api.Assertions.*;

class DdimInversionTest {
    @BeforeAll static void threads() { Engine.threads(1); }

    static double relative(Tensor a, Tensor b) {
        return a.sub(b).norm().item_double() / b.norm().item_double();
    }

    /** With an ε that does not depend on z, each inverted step is the exact inverse of the forward DDIM step. */
    @Test void invertingAndDenoisingWithTheSameEpsilonIsTheIdentity() {
        try (InferenceMode im = new InferenceMode()) {
            DDIMScheduler ddim = (DDIMScheduler) new DDIMScheduler.Config(1000, 0.00085, 0.012, "scaled_linear", null, false,
                    false, 1, "epsilon", false, null, null, null, "leading", false).create(20, new Rng(0));
            Tensor z0 = new Rng(1).randn(Dtypes.device("cpu"), ScalarType.Float, 1, 4, 8, 8);
            Tensor eps = new Rng(2).randn(Dtypes.device("cpu"), ScalarType.Float, 1, 4, 8, 8);
            Denoiser constant = (z, step) -> eps;
            Tensor zT = DdimInversion.invert(z0, ddim, constant, null);
            assertTrue(relative(zT, z0) > 0.5, "the inverted latent is noise, not the input");
            Tensor back = DenoisingLoop.run(zT, ddim, 0, constant, List.of(), null);
            assertTrue(relative(back, z0) < 1e-4, "round trip error " + relative(back, z0));
        }
    }

    /**
     * On the ToyWorld model: invert a generated latent with its prompt (guidance 1), denoise it again: the latent comes
     * back far closer than from fresh noise; and it is the starting point of the FG-DM map edits by text.
     */
    @Test void invertedLatentsRegenerateCloseToTheInputOnTheToyWorldModel() throws Exception {
        StableDiffusion sd = ModelLoader.loadFolder(Path.of("..", "models", "toyworld-ldm"), Dtypes.device("cpu"), ScalarType.Float);
        try (InferenceMode im = new InferenceMode()) {
            PromptConditioning text = sd.encodePrompt("a red house and a green tree on the grass", "", 0);
            Denoiser plain = new ClassifierFreeGuidance(sd.unet, text, 1.0, null);
            DDIMScheduler ddim = (DDIMScheduler) sd.scheduler("ddim", 0).create(25, new Rng(0));
            Tensor noise = new Rng(5).randn(sd.device(), ScalarType.Float, 1, 4, 16, 16);
            Tensor z0 = DenoisingLoop.run(noise, ddim, 0, plain, List.of(), null);
            Tensor zT = DdimInversion.invert(z0, ddim, plain, null);
            Tensor again = DenoisingLoop.run(zT, ddim, 0, plain, List.of(), null);
            Tensor other = DenoisingLoop.run(new Rng(6).randn(sd.device(), ScalarType.Float, 1, 4, 16, 16), ddim, 0, plain, List.of(), null);
            double inverted = relative(again, z0), fresh = relative(other, z0);
            System.out.printf("DDIM inversion round trip: %.4f relative error (fresh noise: %.4f); z_T vs the noise drawn: %.4f%n",
                    inverted, fresh, relative(zT, noise));
            assertTrue(inverted < 0.25 * fresh, "inversion " + inverted + " vs fresh noise " + fresh);
        }
    }
}
