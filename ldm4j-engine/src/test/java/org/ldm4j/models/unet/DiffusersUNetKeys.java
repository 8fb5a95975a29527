package org.ldm4j.models.unet;

import java.util.ArrayList;
import java.util.List;

/**
 * The state-dict keys of a diffusers UNet2DConditionModel, written independently of the Java model from diffusers'
 * module structure (unet_2d_condition.py, unet_2d_blocks.py, transformer_2d.py, attention.py), for the name tests.
 */
final class DiffusersUNetKeys {
    private DiffusersUNetKeys() {}

    static List<String> of(int[] channels, int layers, boolean[] crossAttnDown, boolean[] crossAttnUp) {
        List<String> k = new ArrayList<>();
        pair(k, "conv_in");
        pair(k, "time_embedding.linear_1");
        pair(k, "time_embedding.linear_2");
        int n = channels.length;
        int out = channels[0];
        for (int i = 0; i < n; i++) {
            int in = out;
            out = channels[i];
            String p = "down_blocks." + i + ".";
            for (int j = 0; j < layers; j++) {
                resnet(k, p + "resnets." + j, (j == 0 ? in : out) != out);
                if (crossAttnDown[i]) transformer(k, p + "attentions." + j);
            }
            if (i < n - 1) pair(k, p + "downsamplers.0.conv");
        }
        resnet(k, "mid_block.resnets.0", false);
        transformer(k, "mid_block.attentions.0");
        resnet(k, "mid_block.resnets.1", false);
        out = channels[n - 1];
        for (int i = 0; i < n; i++) {
            int prev = out;
            out = channels[n - 1 - i];
            int in = channels[Math.max(n - 2 - i, 0)];
            String p = "up_blocks." + i + ".";
            for (int j = 0; j < layers + 1; j++) {
                int skip = j == layers ? in : out;
                int resIn = (j == 0 ? prev : out) + skip;
                resnet(k, p + "resnets." + j, resIn != out);
                if (crossAttnUp[i]) transformer(k, p + "attentions." + j);
            }
            if (i < n - 1) pair(k, p + "upsamplers.0.conv");
        }
        pair(k, "conv_norm_out");
        pair(k, "conv_out");
        return k;
    }

    static void pair(List<String> k, String p) {
        k.add(p + ".weight");
        k.add(p + ".bias");
    }

    static void resnet(List<String> k, String p, boolean shortcut) {
        for (String s : new String[]{"norm1", "conv1", "time_emb_proj", "norm2", "conv2"}) pair(k, p + "." + s);
        if (shortcut) pair(k, p + ".conv_shortcut");
    }

    static void transformer(List<String> k, String p) {
        pair(k, p + ".norm");
        pair(k, p + ".proj_in");
        String t = p + ".transformer_blocks.0.";
        for (String norm : new String[]{"norm1", "norm2", "norm3"}) pair(k, t + norm);
        for (String attn : new String[]{"attn1", "attn2"}) {
            for (String w : new String[]{"to_q", "to_k", "to_v"}) k.add(t + attn + "." + w + ".weight");
            pair(k, t + attn + ".to_out.0");
        }
        pair(k, t + "ff.net.0.proj");
        pair(k, t + "ff.net.2");
        pair(k, p + ".proj_out");
    }
}
