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
        // object weighting balances a decoder's reconstruction (of images or of maps), not a full VAE's
        ObjectWeighting weighting = new ObjectWeighting(1, 256);
        var w = assertThrows(IllegalArgumentException.class,
                () -> new ToyWorldVae(vae, new SceneBatches(1, 16), 0, false, ToyWorldVae.Data.IMAGES, 8, weighting));
        assertTrue(w.getMessage().contains("object weighting applies to a decoder-only fine-tune"), w.getMessage());
        assertDoesNotThrow(() -> new ToyWorldVae(vae, new SceneBatches(1, 16), 0, true, ToyWorldVae.Data.IMAGES, 8, weighting));
        assertDoesNotThrow(() -> new ToyWorldVae(vae, new SceneBatches(1, 16), 0, true, ToyWorldVae.Data.MAPS, 8, weighting));
    }
}
