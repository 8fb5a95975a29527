package org.ldm4j.models.unet;

import org.bytedeco.pytorch.Scalar;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.ldm4j.nn.Block;
import org.ldm4j.nn.Engine;
import org.ldm4j.nn.Param;
import org.ldm4j.nn.Rng;

import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.*;

/** The real SD 1.5 architecture, built without random filling (weights would be loaded). */
class StableDiffusion15UNetTest {
    static UNet2DConditionModel unet;

    @BeforeAll static void init() {
        Engine.threads(1);
        unet = Block.withoutInit(() -> new UNet2DConditionModel(UNet2DConditionConfig.sd15()));
    }

    @Test void hasTheDiffusersKeysAnd686TensorsAnd859MParameters() {
        Map<String, Param> params = unet.namedParameters();
        assertEquals(686, params.size());
        List<String> expected = DiffusersUNetKeys.of(new int[]{320, 640, 1280, 1280}, 2,
                new boolean[]{true, true, true, false}, new boolean[]{false, true, true, true});
        assertEquals(new HashSet<>(expected), params.keySet());
        long total = 0;
        for (Param p : params.values()) {
            long n = 1;
            for (long d : p.shape()) n *= d;
            total += n;
        }
        assertEquals(859_520_964L, total);      // "859.52 M" (onnx-tool); diffusers' sum(p.numel())
        assertArrayEquals(new long[]{320, 320}, params.get("down_blocks.0.attentions.0.transformer_blocks.0.attn1.to_q.weight").shape());
        assertArrayEquals(new long[]{320, 768}, params.get("down_blocks.0.attentions.0.transformer_blocks.0.attn2.to_k.weight").shape());
        assertArrayEquals(new long[]{2560, 320}, params.get("down_blocks.0.attentions.0.transformer_blocks.0.ff.net.0.proj.weight").shape());
        assertArrayEquals(new long[]{320, 1280}, params.get("down_blocks.0.attentions.0.transformer_blocks.0.ff.net.2.weight").shape());
        assertArrayEquals(new long[]{320, 320, 1, 1}, params.get("down_blocks.0.attentions.0.proj_in.weight").shape());
        assertArrayEquals(new long[]{1280, 2560, 3, 3}, params.get("up_blocks.0.resnets.0.conv1.weight").shape());
        assertArrayEquals(new long[]{1280, 1920, 1, 1}, params.get("up_blocks.1.resnets.2.conv_shortcut.weight").shape());
        assertArrayEquals(new long[]{640, 960, 1, 1}, params.get("up_blocks.2.resnets.2.conv_shortcut.weight").shape());
        assertArrayEquals(new long[]{1280, 1280, 3, 3}, params.get("up_blocks.1.upsamplers.0.conv.weight").shape());
        assertArrayEquals(new long[]{1280, 320}, params.get("time_embedding.linear_1.weight").shape());
        assertArrayEquals(new long[]{4, 320, 3, 3}, params.get("conv_out.weight").shape());
        assertTrue(params.containsKey("mid_block.resnets.1.conv2.bias"));
        assertTrue(params.containsKey("conv_norm_out.weight"));
        assertFalse(params.containsKey("up_blocks.3.upsamplers.0.conv.weight"));
        assertFalse(params.containsKey("down_blocks.3.downsamplers.0.conv.weight"));
        assertEquals(12, unet.skipCount());
    }

    @Test void forwardAtATinyLatentHasTheRightShapesPerBlock() {
        // Weights: views into one shared random buffer, so the 3.4 GB of parameters cost 120 MB.
        long largest = 0;
        for (Param p : unet.namedParameters().values()) largest = Math.max(largest, p.t().numel());
        Tensor pool = torch.empty(largest).uniform_(-0.01, 0.01, new org.bytedeco.pytorch.GeneratorOptional());
        for (Map.Entry<String, Param> e : unet.namedParameters().entrySet()) {
            if (e.getKey().contains("norm")) continue;            // keep GroupNorm/LayerNorm at weight 1, bias 0
            long[] shape = e.getValue().shape();
            long n = 1;
            for (long d : shape) n *= d;
            e.getValue().set(pool.narrow(0, 0, n).view(shape));
        }
        Rng rng = new Rng(0);
        Tensor x = rng.randn(1, 4, 8, 8), context = rng.randn(1, 77, 768);
        Tensor t = torch.full(new long[]{}, new Scalar(999L));
        Tensor out = unet.forward(x, t, context, null);
        assertArrayEquals(new long[]{1, 4, 8, 8}, out.sizes().vec().get());
        assertTrue(out.isfinite().all().item_bool());

        // block by block: channels 320/640/1280/1280, resolution halves after blocks 0-2
        Tensor emb = unet.timeEmbedding.forward(unet.timeProj.forward(t.unsqueeze(0)));
        assertArrayEquals(new long[]{1, 1280}, emb.sizes().vec().get());
        Tensor h = unet.convIn.forward(x);
        List<Tensor> skips = new ArrayList<>();
        skips.add(h);
        long[][] after = {{1, 320, 4, 4}, {1, 640, 2, 2}, {1, 1280, 1, 1}, {1, 1280, 1, 1}};
        for (int i = 0; i < 4; i++) {
            h = unet.downBlocks.get(i).forward(h, emb, context, null, null, skips);
            assertArrayEquals(after[i], h.sizes().vec().get(), "down block " + i);
        }
        assertEquals(12, skips.size());
        assertArrayEquals(new long[]{1, 320, 8, 8}, skips.get(2).sizes().vec().get());
        assertArrayEquals(new long[]{1, 640, 4, 4}, skips.get(4).sizes().vec().get());
        assertArrayEquals(new long[]{1, 1280, 2, 2}, skips.get(8).sizes().vec().get());
        h = unet.midBlock.forward(h, emb, context, null);
        assertArrayEquals(new long[]{1, 1280, 1, 1}, h.sizes().vec().get());
    }
}
