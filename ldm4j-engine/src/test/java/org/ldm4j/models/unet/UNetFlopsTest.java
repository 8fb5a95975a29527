package org.ldm4j.models.unet;

import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.*;

class UNetFlopsTest {
    /** engine-references.md §6: SD 1.5 at 64x64, 77 tokens, batch 1 = 222.0 + 116.6 + 63.0 = 401.6 GMAC. */
    @Test void sd15At512PixelsMatchesThePublishedLayerByLayerCount() {
        UNetFlops f = UNetFlops.of(UNet2DConditionConfig.sd15(), 64, 64, 77);
        assertEquals(222.0, f.convMacs() / 1e9, 0.05);
        assertEquals(116.6, f.linearMacs() / 1e9, 0.05);
        assertEquals(63.0, f.attentionMacs() / 1e9, 0.05);
        assertEquals(401.6, f.totalMacs() / 1e9, 0.1);
        // conv + linear alone: the "339 G MACs" quoted for the SD v1.4 U-Net (BK-SDM)
        assertEquals(339, (f.convMacs() + f.linearMacs()) / 1e9, 0.5);
        // self-attention grows with the square of the token count: 32x32 has 1/16 of the attention products
        UNetFlops small = UNetFlops.of(UNet2DConditionConfig.sd15(), 32, 32, 77);
        assertTrue(small.attentionMacs() < f.attentionMacs() / 10);
    }
}
