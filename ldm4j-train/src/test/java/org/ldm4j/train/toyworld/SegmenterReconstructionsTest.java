package org.ldm4j.train.toyworld;

import org.bytedeco.pytorch.NoGradGuard;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch;
import org.junit.jupiter.api.Test;
import org.ldm4j.models.vae.AutoencoderKL;
import org.ldm4j.models.vae.AutoencoderKLConfig;
import org.ldm4j.nn.Engine;
import org.ldm4j.toyworld.eval.EvalImages;

import static org.junit.jupiter.api.Assertions.*;

/** Segmenter batches with part of the scenes seen through a VAE, labelled with the scenes' exact maps. */
class SegmenterReconstructionsTest {
    @Test void theFirstFractionOfEachBatchIsTheVaesDecodeAndTheLabelsStayExact() {
        Engine.threads(1);
        torch.manual_seed(5);
        AutoencoderKL vae = new AutoencoderKL(AutoencoderKLConfig.parse("{\"block_out_channels\": [8], \"down_block_types\": [\"DownEncoderBlock2D\"],"
                + " \"up_block_types\": [\"UpDecoderBlock2D\"], \"norm_num_groups\": 4, \"layers_per_block\": 1}"));
        SceneBatches batches = new SceneBatches(4, 16, 300);
        SegmenterRecipe.Batch b = SegmenterRecipe.withReconstructions(batches, vae, 0.5).apply(2);
        Tensor real = EvalImages.scenes(batches.scenes(2));
        assertArrayEquals(real.sizes().vec().get(), b.images().sizes().vec().get());
        assertTrue(torch.equal(b.targets(), EvalImages.segTargets(batches.scenes(2))), "labels are the scenes' exact class maps");
        assertTrue(torch.equal(b.images().narrow(0, 2, 2), real.narrow(0, 2, 2)), "the second half is the scenes as rendered");
        Tensor expected;
        try (NoGradGuard g = new NoGradGuard()) {
            expected = vae.decode(vae.encode(real.narrow(0, 0, 2)).mode()).clamp(new org.bytedeco.pytorch.ScalarOptional(new org.bytedeco.pytorch.Scalar(-1.0)),
                    new org.bytedeco.pytorch.ScalarOptional(new org.bytedeco.pytorch.Scalar(1.0)));
        }
        assertTrue(b.images().narrow(0, 0, 2).allclose(expected, 1e-5, 1e-6, false), "the first half is the VAE's decode");
        assertFalse(expected.allclose(real.narrow(0, 0, 2), 1e-3, 1e-3, false));
        assertEquals(4, SegmenterRecipe.withReconstructions(batches, vae, 1.0).apply(0).images().size(0));
        assertTrue(assertThrows(IllegalArgumentException.class, () -> SegmenterRecipe.withReconstructions(batches, vae, 0))
                .getMessage().contains("reconstruction_fraction"));
    }
}
