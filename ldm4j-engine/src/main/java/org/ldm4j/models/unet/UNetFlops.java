package org.ldm4j.models.unet;

import java.util.List;

/**
 * Analytic multiply-accumulate count of one {@link UNet2DConditionModel} forward, from the config alone, split as in
 * shared/design/engine-references.md §6: convolutions, linear layers (projections, feed-forward, time MLP) and the
 * attention products (QKᵀ and AV). Norms, activations and softmax are not counted. 1 MAC = 2 FLOP.
 */
public record UNetFlops(double convMacs, double linearMacs, double attentionMacs) {

    public double totalMacs() { return convMacs + linearMacs + attentionMacs; }

    public double totalFlops() { return 2 * totalMacs(); }

    /** Counts for batch 1 at latent size h x w with {@code tokens} context tokens; multiply by the batch size. */
    public static UNetFlops of(UNet2DConditionConfig c, int h, int w, int tokens) {
        Counter k = new Counter(c, tokens);
        List<Integer> ch = c.blockOutChannels();
        List<Integer> heads = c.headsPerBlock();
        List<Integer> layers = c.layersPerBlockList();
        List<Integer> tl = c.transformerLayersPerBlockList();
        int n = ch.size();
        int temb = c.timeEmbedDim();
        k.linear += (double) ch.get(0) * temb + (double) temb * temb;                 // time MLP
        long pixels = (long) h * w;
        k.conv += (double) pixels * c.inChannels() * ch.get(0) * c.convInKernel() * c.convInKernel();
        long hh = h, ww = w;
        int out = ch.get(0);
        for (int i = 0; i < n; i++) {
            int in = out;
            out = ch.get(i);
            boolean attn = c.downBlockTypes().get(i).equals("CrossAttnDownBlock2D");
            for (int j = 0; j < layers.get(i); j++) {
                k.resnet(j == 0 ? in : out, out, hh * ww);
                if (attn) k.transformer(out, hh * ww, tl.get(i), c.crossAttentionDimPerBlock().get(i));
            }
            if (i < n - 1) {
                hh = (hh + 1) / 2;
                ww = (ww + 1) / 2;
                k.conv += (double) hh * ww * out * out * 9;                          // stride-2 conv3x3
            }
        }
        k.resnet(ch.get(n - 1), ch.get(n - 1), hh * ww);
        k.transformer(ch.get(n - 1), hh * ww, tl.get(n - 1), c.crossAttentionDimPerBlock().get(n - 1));
        k.resnet(ch.get(n - 1), ch.get(n - 1), hh * ww);
        out = ch.get(n - 1);
        for (int i = 0; i < n; i++) {
            int r = n - 1 - i;
            int prev = out;
            out = ch.get(r);
            int in = ch.get(Math.max(r - 1, 0));
            boolean attn = c.upBlockTypes().get(i).equals("CrossAttnUpBlock2D");
            for (int j = 0; j < layers.get(r) + 1; j++) {
                int skip = j == layers.get(r) ? in : out;
                k.resnet((j == 0 ? prev : out) + skip, out, hh * ww);
                if (attn) k.transformer(out, hh * ww, tl.get(r), c.crossAttentionDimPerBlock().get(r));
            }
            if (i < n - 1) {
                hh *= 2;
                ww *= 2;
                k.conv += (double) hh * ww * out * out * 9;                          // conv3x3 after nearest x2
            }
        }
        k.conv += (double) pixels * ch.get(0) * c.outChannels() * c.convOutKernel() * c.convOutKernel();
        assert heads.size() == n;
        return new UNetFlops(k.conv, k.linear, k.attention);
    }

    private static final class Counter {
        final int temb, tokens;
        final boolean linearProjection;
        double conv, linear, attention;

        Counter(UNet2DConditionConfig c, int tokens) {
            this.temb = c.timeEmbedDim();
            this.tokens = tokens;
            this.linearProjection = c.useLinearProjection();
        }

        void resnet(int in, int out, long px) {
            conv += (double) px * in * out * 9 + (double) px * out * out * 9;
            if (in != out) conv += (double) px * in * out;                            // 1x1 shortcut
            linear += (double) temb * out;                                            // time_emb_proj
        }

        void transformer(int ch, long n, int depth, int ctxDim) {
            double proj = 2.0 * n * ch * ch;                                          // proj_in + proj_out
            if (linearProjection) linear += proj; else conv += proj;
            for (int d = 0; d < depth; d++) {
                linear += 4.0 * n * ch * ch;                                          // attn1 q, k, v, out
                attention += 2.0 * n * n * ch;                                        // attn1 QKᵀ and AV over all heads
                linear += 2.0 * n * ch * ch + 2.0 * tokens * ctxDim * ch;             // attn2 q, out; k, v on the text
                attention += 2.0 * n * tokens * ch;                                   // attn2 QKᵀ and AV
                linear += 8.0 * n * ch * ch + 4.0 * n * ch * ch;                      // GEGLU C→8C, then 4C→C
            }
        }
    }
}
