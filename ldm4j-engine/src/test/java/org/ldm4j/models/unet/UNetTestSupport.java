package org.ldm4j.models.unet;

import org.bytedeco.pytorch.Tensor;
import org.ldm4j.models.attention.Attention;

final class UNetTestSupport {
    private UNetTestSupport() {}

    /** block_out_channels (32, 64), 2 layers, cross dim 32, 8 heads, 32 groups. */
    static final String TINY = "{\"_class_name\": \"UNet2DConditionModel\", \"block_out_channels\": [32, 64],"
            + " \"layers_per_block\": 2, \"cross_attention_dim\": 32, \"attention_head_dim\": 8, \"norm_num_groups\": 32,"
            + " \"down_block_types\": [\"CrossAttnDownBlock2D\", \"DownBlock2D\"],"
            + " \"up_block_types\": [\"UpBlock2D\", \"CrossAttnUpBlock2D\"], \"in_channels\": 4, \"out_channels\": 4,"
            + " \"sample_size\": 16}";

    static UNet2DConditionConfig tiny() { return UNet2DConditionConfig.parse(TINY, "tiny test config"); }

    static double relL2(Tensor a, Tensor ref) {
        Tensor r = Attention.float32(ref);
        return Attention.float32(a).sub(r).norm().item_double() / r.norm().item_double();
    }

    static double maxAbsDiff(Tensor a, Tensor b) {
        return Attention.float32(a).sub(Attention.float32(b)).abs().max().item_double();
    }
}
