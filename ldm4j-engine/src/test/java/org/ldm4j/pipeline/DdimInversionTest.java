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
    static StableDiffusion sd;

    @BeforeAll static void load() throws Exception {
        Engine.threads(1);
        sd = ModelLoader.loadFolder(Path.of("..", "models", "toyworld-ldm"), Dtypes.device("cpu"), ScalarType.Float);
    }

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

            // edit-friendly with set_alpha_to_one: the last step has sigma 0 and no noise to keep, and stays finite
            DDIMScheduler toOne = (DDIMScheduler) new DDIMScheduler.Config(1000, 0.00085, 0.012, "scaled_linear", null, false,
                    true, 1, "epsilon", false, null, null, null, "leading", false).create(20, new Rng(0));
            EditFriendlyInversion inv = EditFriendlyInversion.invert(z0, toOne, constant, new Rng(3), null);
            assertTrue(torch.isfinite(inv.sample(toOne, constant, null)).all().item_bool(), "finite with a sigma-0 last step");
        }
    }

    /**
     * On the ToyWorld model: invert a generated latent with its prompt (guidance 1), denoise it again: the latent comes
     * back far closer than from fresh noise; and it is the starting point of the FG-DM map edits by text.
     */
    @Test void invertedLatentsRegenerateCloseToTheInputOnTheToyWorldModel() throws Exception {
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

    /**
     * Edit-friendly inversion reproduces the input exactly under the source prompt at any guidance (the kept noises
     * absorb every prediction error), and an edited prompt changes it.
     */
    @Test void editFriendlyInversionReconstructsExactlyAndEdits() {
        try (InferenceMode im = new InferenceMode()) {
            DDIMScheduler ddim = (DDIMScheduler) sd.scheduler("ddim", 0).create(25, new Rng(0));
            PromptConditioning source = sd.encodePrompt("a red house and a green tree on the grass", "", 0);
            Tensor z0 = DenoisingLoop.run(new Rng(5).randn(sd.device(), ScalarType.Float, 1, 4, 16, 16), ddim, 0,
                    new ClassifierFreeGuidance(sd.unet, source, 5.0, null), List.of(), null);
            for (double guidance : new double[]{1.0, 5.0}) {
                Denoiser d = new ClassifierFreeGuidance(sd.unet, source, guidance, null);
                EditFriendlyInversion inv = EditFriendlyInversion.invert(z0, ddim, d, new Rng(9), null);
                assertEquals(25, inv.noises().size());
                double back = relative(inv.sample(ddim, d, null), z0);
                assertTrue(back < 1e-4, "guidance " + guidance + ": round trip " + back);
            }
            Denoiser source5 = new ClassifierFreeGuidance(sd.unet, source, 5.0, null);
            EditFriendlyInversion inv = EditFriendlyInversion.invert(z0, ddim, source5, new Rng(9), null);
            Denoiser edited = new ClassifierFreeGuidance(sd.unet, sd.encodePrompt("a blue boat on a lake", "", 0), 5.0, null);
            double change = relative(inv.sample(ddim, edited, null), z0);
            assertTrue(change > 0.05, "an edited prompt changes the latent: " + change);
        }
    }
}
