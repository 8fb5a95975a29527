package org.ldm4j.models.unet;

import org.junit.jupiter.api.Test;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import static org.junit.jupiter.api.Assertions.*;

class UNet2DConditionConfigTest {
    static final String SD2 = "{\"_class_name\": \"UNet2DConditionModel\", \"_diffusers_version\": \"0.10.0.dev0\","
            + " \"act_fn\": \"silu\", \"attention_head_dim\": [5, 10, 20, 20], \"block_out_channels\": [320, 640, 1280, 1280],"
            + " \"center_input_sample\": false, \"cross_attention_dim\": 1024, \"down_block_types\": [\"CrossAttnDownBlock2D\","
            + " \"CrossAttnDownBlock2D\", \"CrossAttnDownBlock2D\", \"DownBlock2D\"], \"downsample_padding\": 1,"
            + " \"dual_cross_attention\": false, \"flip_sin_to_cos\": true, \"freq_shift\": 0, \"in_channels\": 4,"
            + " \"layers_per_block\": 2, \"mid_block_scale_factor\": 1, \"norm_eps\": 1e-05, \"norm_num_groups\": 32,"
            + " \"num_class_embeds\": null, \"only_cross_attention\": false, \"out_channels\": 4, \"sample_size\": 96,"
            + " \"up_block_types\": [\"UpBlock2D\", \"CrossAttnUpBlock2D\", \"CrossAttnUpBlock2D\", \"CrossAttnUpBlock2D\"],"
            + " \"upcast_attention\": true, \"use_linear_projection\": true, \"some_future_key\": {\"x\": 1}}";

    @Test void readsSd15() {
        UNet2DConditionConfig c = UNet2DConditionConfig.sd15();
        assertEquals(List.of(320, 640, 1280, 1280), c.blockOutChannels());
        assertEquals(List.of(8, 8, 8, 8), c.headsPerBlock());
        assertEquals(List.of(768, 768, 768, 768), c.crossAttentionDimPerBlock());
        assertEquals(List.of(2, 2, 2, 2), c.layersPerBlockList());
        assertEquals(List.of(64), c.sampleSize());
        assertEquals(1280, c.timeEmbedDim());
        assertTrue(c.flipSinToCos());
        assertEquals(0.0, c.freqShift());
        assertFalse(c.useLinearProjection());
        assertEquals(1e-5, c.normEps());
    }

    @Test void readsSd2ListsAndIgnoresUnknownKeys(@org.junit.jupiter.api.io.TempDir Path dir) throws Exception {
        Path file = dir.resolve("config.json");
        Files.writeString(file, SD2);
        UNet2DConditionConfig c = UNet2DConditionConfig.read(file);
        assertEquals(List.of(5, 10, 20, 20), c.headsPerBlock());
        assertEquals(List.of(1024, 1024, 1024, 1024), c.crossAttentionDimPerBlock());
        assertTrue(c.useLinearProjection());
        assertTrue(c.upcastAttention());
        // SD 2 heads of 64 channels; linear proj_in
        UNet2DConditionModel tiny = org.ldm4j.nn.Block.withoutInit(() -> new UNet2DConditionModel(
                c.with("{\"block_out_channels\": [32, 64], \"attention_head_dim\": [2, 4], \"cross_attention_dim\": 16,"
                        + " \"down_block_types\": [\"CrossAttnDownBlock2D\", \"DownBlock2D\"],"
                        + " \"up_block_types\": [\"UpBlock2D\", \"CrossAttnUpBlock2D\"]}")));
        assertArrayEquals(new long[]{32, 32}, tiny.namedParameters().get("down_blocks.0.attentions.0.proj_in.weight").shape());
        assertEquals(2, ((CrossAttnDownBlock2D) tiny.downBlocks.get(0)).attentions.get(0).transformerBlocks.get(0).attn1.heads);
        assertEquals(16, ((CrossAttnDownBlock2D) tiny.downBlocks.get(0)).attentions.get(0).transformerBlocks.get(0).attn1.dimHead);
        assertEquals(16, tiny.midBlock.attentions.get(0).transformerBlocks.get(0).attn1.dimHead);
    }

    @Test void numAttentionHeadsWinsOverAttentionHeadDim() {
        UNet2DConditionConfig c = UNet2DConditionConfig.sd15().with("{\"num_attention_heads\": [4, 4, 8, 8]}");
        assertEquals(List.of(4, 4, 8, 8), c.headsPerBlock());
    }

    @Test void unsupportedValuesFailNamingKeyAndValue() {
        String[][] cases = {
                {"{\"class_embed_type\": \"timestep\"}", "class_embed_type", "timestep"},
                {"{\"addition_embed_type\": \"text_time\"}", "addition_embed_type", "text_time"},
                {"{\"time_embedding_type\": \"fourier\"}", "time_embedding_type", "fourier"},
                {"{\"resnet_time_scale_shift\": \"scale_shift\"}", "resnet_time_scale_shift", "scale_shift"},
                {"{\"only_cross_attention\": true}", "only_cross_attention", "true"},
                {"{\"dual_cross_attention\": true}", "dual_cross_attention", "true"},
                {"{\"act_fn\": \"gelu\"}", "act_fn", "gelu"},
                {"{\"mid_block_type\": \"UNetMidBlock2DSimpleCrossAttn\"}", "mid_block_type", "UNetMidBlock2DSimpleCrossAttn"},
                {"{\"down_block_types\": [\"CrossAttnDownBlock2D\", \"CrossAttnDownBlock2D\", \"SimpleCrossAttnDownBlock2D\", \"DownBlock2D\"]}",
                        "down_block_types", "SimpleCrossAttnDownBlock2D"},
                {"{\"up_block_types\": [\"UpBlock2D\", \"CrossAttnUpBlock2D\", \"AttnUpBlock2D\", \"CrossAttnUpBlock2D\"]}", "up_block_types", "AttnUpBlock2D"},
                {"{\"time_cond_proj_dim\": 256}", "time_cond_proj_dim", "256"},
                {"{\"encoder_hid_dim_type\": \"text_proj\"}", "encoder_hid_dim_type", "text_proj"},
                {"{\"attention_head_dim\": [8, 8]}", "attention_head_dim", "2"},
                {"{\"transformer_layers_per_block\": [[1, 2], 1, 1, 1]}", "", ""},
        };
        for (String[] c : cases) {
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                    () -> UNet2DConditionConfig.sd15().with(c[0]), c[0]);
            assertTrue(e.getMessage().contains(c[1]) && e.getMessage().contains(c[2]), e.getMessage());
        }
        assertThrows(IllegalArgumentException.class, () -> UNet2DConditionConfig.parse("{\"block_out_channels\": \"x\"", "bad.json"));
    }
}
