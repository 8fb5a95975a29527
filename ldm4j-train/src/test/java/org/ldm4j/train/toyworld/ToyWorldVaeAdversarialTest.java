package org.ldm4j.train.toyworld;

import org.bytedeco.pytorch.NoGradGuard;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch;
import org.junit.jupiter.api.Test;
import org.ldm4j.models.vae.AutoencoderKL;
import org.ldm4j.models.vae.AutoencoderKLConfig;
import org.ldm4j.nn.Engine;
import org.ldm4j.nn.Param;
import org.ldm4j.nn.Rng;

import java.util.LinkedHashMap;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.*;

/** The patch-GAN term of a decoder fine-tune: who gets which gradient, and what the loss adds. */
class ToyWorldVaeAdversarialTest {
    private static AutoencoderKL tinyVae() {
        torch.manual_seed(3);
        return new AutoencoderKL(AutoencoderKLConfig.parse("{\"block_out_channels\": [8], \"down_block_types\": [\"DownEncoderBlock2D\"],"
                + " \"up_block_types\": [\"UpDecoderBlock2D\"], \"norm_num_groups\": 4, \"layers_per_block\": 1}"));
    }

    @Test void patchLogitsCoverTheImageInOverlappingPatches() {
        Engine.threads(1);
        Tensor logits = new PatchDiscriminator(3, 16).forward(torch.zeros(2, 3, 64, 64));
        assertArrayEquals(new long[]{2, 1, 15, 15}, logits.sizes().vec().get());
    }

    @Test void theDiscriminatorLearnsFromItsOwnLossOnlyAndTheDecoderFromTheGeneratorTerm() {
        Engine.threads(1);
        AutoencoderKL vae = tinyVae();
        PatchDiscriminator d = new PatchDiscriminator(3, 16);
        ToyWorldVae.DecoderHalf trained = new ToyWorldVae.DecoderHalf(vae, d);
        assertTrue(trained.namedParameters().containsKey("discriminator.conv0.weight"), "checkpoints carry the discriminator");
        trained.requiresGrad(true);
        SceneBatches batches = new SceneBatches(2, 16);
        ToyWorldVae adversarial = new ToyWorldVae(vae, batches, 0, true).withAdversarial(new ToyWorldVae.Adversarial(d, 0.5, 0));
        Tensor loss = adversarial.loss(0, new Rng(7));

        Map<String, Tensor> discriminatorGrads = new LinkedHashMap<>();
        d.namedParameters().forEach((k, p) -> {
            Tensor g = p.t().grad();
            assertTrue(g != null && !g.isNull() && g.defined(), k + ": the discriminator's hinge loss left its gradient");
            discriminatorGrads.put(k, g.clone());
        });
        Param convOut = vae.decoder.convOut.weight;
        assertFalse(convOut.t().grad() != null && !convOut.t().grad().isNull() && convOut.t().grad().defined(),
                "the discriminator's loss sees detached decodes: no decoder gradient before the trainer's backward");

        loss.backward();
        d.namedParameters().forEach((k, p) -> assertTrue(torch.equal(p.t().grad(), discriminatorGrads.get(k)),
                k + ": the generator term must not train the discriminator"));
        assertTrue(convOut.t().grad().defined() && convOut.t().grad().abs().sum().item_double() > 0);

        // the same step without the adversarial term is the reconstruction alone (same batch and latent sample);
        // the difference is λ times the generator's loss, λ > 0
        ToyWorldVae plain = new ToyWorldVae(vae, batches, 0, true);
        double reconstruction;
        try (NoGradGuard g = new NoGradGuard()) {
            reconstruction = plain.loss(0, new Rng(7)).item_double();
        }
        assertNotEquals(reconstruction, loss.item_double(), 1e-7);
        Map<String, Double> metrics = adversarial.stepMetrics();
        assertTrue(metrics.containsKey("discriminator_loss") && metrics.containsKey("discriminator_accuracy"), metrics.toString());
        assertTrue(metrics.get("lambda") > 0, "λ > 0 from the first step when adversarial_start is 0: " + metrics);
        assertTrue(plain.stepMetrics().isEmpty(), "no adversarial figures without the term");
    }

    @Test void beforeTheStartOnlyTheDiscriminatorLearns() {
        Engine.threads(1);
        AutoencoderKL vae = tinyVae();
        PatchDiscriminator d = new PatchDiscriminator(3, 16);
        new ToyWorldVae.DecoderHalf(vae, d).requiresGrad(true);
        SceneBatches batches = new SceneBatches(2, 16);
        ToyWorldVae adversarial = new ToyWorldVae(vae, batches, 0, true).withAdversarial(new ToyWorldVae.Adversarial(d, 0.5, 10));
        double withTerm = adversarial.loss(3, new Rng(7)).item_double();
        double plain = new ToyWorldVae(vae, batches, 0, true).loss(3, new Rng(7)).item_double();
        assertEquals(plain, withTerm, 1e-7, "before adversarial_start the decoder's loss is the reconstruction");
    }

    @Test void onlyADecoderFineTuneOnImagesTakesTheTerm() {
        AutoencoderKL vae = tinyVae();
        PatchDiscriminator d = new PatchDiscriminator(3, 16);
        var full = assertThrows(IllegalArgumentException.class,
                () -> new ToyWorldVae(vae, new SceneBatches(1, 16), 0, false).withAdversarial(new ToyWorldVae.Adversarial(d, 0.5, 0)));
        assertTrue(full.getMessage().contains("decoder-only"), full.getMessage());
        var maps = assertThrows(IllegalArgumentException.class, () -> new ToyWorldVae(vae, new SceneBatches(1, 16), 0, true, ToyWorldVae.Data.MAPS, 8)
                .withAdversarial(new ToyWorldVae.Adversarial(d, 0.5, 0)));
        assertTrue(maps.getMessage().contains("on images"), maps.getMessage());
        assertTrue(assertThrows(IllegalArgumentException.class, () -> new ToyWorldVae.Adversarial(d, 0, 0))
                .getMessage().contains("adversarial_weight"));
    }
}
