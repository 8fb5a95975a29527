package org.ldm4j.train.toyworld;

import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch;
import org.junit.jupiter.api.Test;
import org.ldm4j.models.vae.AutoencoderKL;
import org.ldm4j.models.vae.AutoencoderKLConfig;
import org.ldm4j.nn.Engine;
import org.ldm4j.toyworld.Scene;

import java.util.List;

import static org.junit.jupiter.api.Assertions.*;

/** What the ToyWorld VAE objective reconstructs: images, or FG-DM maps for a map decoder. */
class ToyWorldVaeDataTest {
    @Test void mapBatchesAlternateSegmentationAndDepthAtTheMapSize() {
        Engine.threads(1);
        List<Scene> scenes = new SceneBatches(2, 64).scenes(3);
        Tensor seg = ToyWorldVae.Data.MAPS.batch(scenes, 32, 0), depth = ToyWorldVae.Data.MAPS.batch(scenes, 32, 1);
        assertArrayEquals(new long[]{2, 3, 32, 32}, seg.sizes().vec().get());
        assertTrue(torch.equal(seg, ToyWorldMaps.segmentation(scenes, 32)), "even steps: palette segmentation maps");
        assertTrue(torch.equal(depth, ToyWorldMaps.depth(scenes, 32)), "odd steps: depth maps");
        assertTrue(torch.equal(ToyWorldVae.Data.IMAGES.batch(scenes, 32, 1), SceneBatches.images(scenes)), "images ignore the map size");
        assertTrue(seg.min().item_double() >= -1 && seg.max().item_double() <= 1);
        assertEquals(ToyWorldVae.Data.MAPS, ToyWorldVae.Data.parse("Maps"));
        assertTrue(assertThrows(IllegalArgumentException.class, () -> ToyWorldVae.Data.parse("masks")).getMessage().contains("\"masks\""));
    }

    @Test void aMapDecoderIsOnlyADecoderFineTune() {
        AutoencoderKL vae = new AutoencoderKL(AutoencoderKLConfig.parse("{\"block_out_channels\": [8], \"down_block_types\": [\"DownEncoderBlock2D\"],"
                + " \"up_block_types\": [\"UpDecoderBlock2D\"], \"norm_num_groups\": 4, \"layers_per_block\": 1}"));
        var e = assertThrows(IllegalArgumentException.class,
                () -> new ToyWorldVae(vae, new SceneBatches(1, 16), 0, false, ToyWorldVae.Data.MAPS, 8));
        assertTrue(e.getMessage().contains("decoder-only"), e.getMessage());
        ObjectWeighting weighting = new ObjectWeighting(1, 256);
        assertDoesNotThrow(() -> new ToyWorldVae(vae, new SceneBatches(1, 16), 0, true, ToyWorldVae.Data.IMAGES, 8, weighting));
        assertDoesNotThrow(() -> new ToyWorldVae(vae, new SceneBatches(1, 16), 0, true, ToyWorldVae.Data.MAPS, 8, weighting));
    }

    /**
     * A full VAE's reconstruction terms take the object weighting too (a from-scratch autoencoder that keeps small
     * objects): with strength 0 the loss is the plain mean's, with strength 1 the same step's loss differs (the KL
     * weight is 0 here: same scenes, same posterior sample, only the reconstruction terms can differ).
     */
    @Test void objectWeightingReachesAFullVaesReconstructionLoss() {
        Engine.threads(1);
        torch.manual_seed(3);
        AutoencoderKL vae = new AutoencoderKL(AutoencoderKLConfig.parse("{\"block_out_channels\": [8], \"down_block_types\": [\"DownEncoderBlock2D\"],"
                + " \"up_block_types\": [\"UpDecoderBlock2D\"], \"norm_num_groups\": 4, \"layers_per_block\": 1}"));
        SceneBatches batches = new SceneBatches(2, 32);
        double plain = new ToyWorldVae(vae, batches, 0, false, ToyWorldVae.Data.IMAGES, 16).loss(0, new org.ldm4j.nn.Rng(7)).item_double();
        double none = new ToyWorldVae(vae, batches, 0, false, ToyWorldVae.Data.IMAGES, 16, new ObjectWeighting(0, 256))
                .loss(0, new org.ldm4j.nn.Rng(7)).item_double();
        double weighted = new ToyWorldVae(vae, batches, 0, false, ToyWorldVae.Data.IMAGES, 16, new ObjectWeighting(1, 256))
                .loss(0, new org.ldm4j.nn.Rng(7)).item_double();
        assertEquals(plain, none, 0.0);
        assertTrue(Double.isFinite(weighted) && Math.abs(weighted - plain) > 1e-6 * plain, plain + " vs " + weighted);
    }
}
