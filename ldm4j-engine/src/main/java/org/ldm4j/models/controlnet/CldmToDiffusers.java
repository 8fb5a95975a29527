package org.ldm4j.models.controlnet;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import org.ldm4j.weights.LdmToDiffusers;
import org.ldm4j.weights.Renamed;
import org.ldm4j.weights.WeightFormatException;
import org.ldm4j.weights.WeightSource;

import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * lllyasviel's cldm ControlNet layout ({@code control_model.*}, or unprefixed as in the v1.1 releases) to diffusers
 * names, as diffusers' {@code convert_controlnet_checkpoint} (loaders/single_file_utils.py) maps them:
 * {@code input_hint_block.0} → {@code controlnet_cond_embedding.conv_in}, {@code input_hint_block.2k+2} →
 * {@code blocks.k}, the last hint conv → {@code conv_out} (14 for SD); {@code zero_convs.N.0} →
 * {@code controlnet_down_blocks.N}; {@code middle_block_out.0} → {@code controlnet_mid_block}; the encoder
 * ({@code time_embed}, {@code input_blocks}, {@code middle_block}) as the UNet ({@link LdmToDiffusers#unetName}).
 */
public final class CldmToDiffusers {
    public static final String PREFIX = "control_model.";
    private static final Pattern ZERO = Pattern.compile("zero_convs\\.(\\d+)\\.0\\.(.+)");
    private static final Pattern HINT = Pattern.compile("input_hint_block\\.(\\d+)\\.(.+)");
    private static final Pattern INPUT = Pattern.compile("input_blocks\\.(\\d+)\\.(\\d+)\\.(.+)");

    private CldmToDiffusers() {}

    /** "control_model." when the tensors carry it (a full cldm training checkpoint), else "". */
    public static String prefix(Set<String> names) {
        for (String n : names) if (n.startsWith(PREFIX)) return PREFIX;
        return "";
    }

    /** One unprefixed cldm name to its diffusers name; null for names diffusers does not load. */
    public static String name(String ldm, int layersPerBlock, int lastHintIndex) {
        Matcher m = ZERO.matcher(ldm);
        if (m.matches()) return "controlnet_down_blocks." + m.group(1) + "." + m.group(2);
        if (ldm.startsWith("middle_block_out.0.")) return "controlnet_mid_block." + ldm.substring("middle_block_out.0.".length());
        m = HINT.matcher(ldm);
        if (m.matches()) {
            int k = Integer.parseInt(m.group(1));
            String rest = m.group(2);
            if (k == 0) return "controlnet_cond_embedding.conv_in." + rest;
            if (k == lastHintIndex) return "controlnet_cond_embedding.conv_out." + rest;
            if (k % 2 != 0) return null;   // SiLU modules hold no weights
            return "controlnet_cond_embedding.blocks." + (k / 2 - 1) + "." + rest;
        }
        if (ldm.startsWith("output_blocks.") || ldm.startsWith("out.")) return null;
        return LdmToDiffusers.unetName(ldm, layersPerBlock);
    }

    /** The ControlNet tensors of {@code source} under diffusers names (other tensors, e.g. an SD UNet, left out). */
    public static Renamed convert(WeightSource source) {
        Set<String> names = source.names();
        String prefix = prefix(names);
        Layout layout = layout(names, prefix);
        return new Renamed(source, n -> n.startsWith(prefix)
                ? name(n.substring(prefix.length()), layout.layersPerBlock, layout.lastHintIndex) : null);
    }

    /** What the names say about the encoder: layers per block, resnet indices of each level, hint conv indices. */
    record Layout(int layersPerBlock, int levels, int lastHintIndex, List<Integer> hintConvs) {}

    static Layout layout(Set<String> names, String prefix) {
        TreeSet<Integer> inputs = new TreeSet<>(), ops = new TreeSet<>(), hint = new TreeSet<>();
        for (String full : names) {
            if (!full.startsWith(prefix)) continue;
            String n = full.substring(prefix.length());
            Matcher m = INPUT.matcher(n);
            if (m.matches()) {
                int i = Integer.parseInt(m.group(1));
                if (i > 0) inputs.add(i);
                if (m.group(2).equals("0") && m.group(3).startsWith("op.")) ops.add(i);
            }
            m = HINT.matcher(n);
            if (m.matches()) hint.add(Integer.parseInt(m.group(1)));
        }
        if (inputs.isEmpty() || hint.isEmpty()) {
            throw new WeightFormatException("not a cldm ControlNet: no " + prefix + "input_blocks.* or input_hint_block.* tensors");
        }
        int layers = ops.isEmpty() ? inputs.size() : ops.first() - 1;
        int levels = ops.size() + 1;
        if (layers < 1 || inputs.size() != levels * layers + ops.size()) {
            throw new WeightFormatException("cldm ControlNet: input blocks " + inputs + " with downsamplers at " + ops
                    + " do not form levels of equal depth");
        }
        return new Layout(layers, levels, hint.last(), new ArrayList<>(hint));
    }

    /**
     * A diffusers config inferred from the tensor shapes of a cldm ControlNet (diffusers reads the original YAML
     * instead). Head counts and GroupNorm groups are not visible in the weights: SD 1.x (cross-attention width 768)
     * gets 8 heads, other widths 64-dim heads; groups 32. Put a config.json beside the file to override.
     */
    public static ControlNetConfig inferConfig(WeightSource source) {
        Set<String> names = source.names();
        String p = prefix(names);
        Layout layout = layout(names, p);
        long[] convIn = shape(source, p + "input_blocks.0.0.weight");
        List<Integer> channels = new ArrayList<>();
        List<String> types = new ArrayList<>();
        int crossDim = -1, transformerDepth = 1;
        boolean linear = false;
        for (int b = 0; b < layout.levels; b++) {
            int first = 1 + b * (layout.layersPerBlock + 1);
            channels.add((int) shape(source, p + "input_blocks." + first + ".0.in_layers.2.weight")[0]);
            String attn = p + "input_blocks." + first + ".1.";
            if (names.contains(attn + "proj_in.weight")) {
                types.add("CrossAttnDownBlock2D");
                crossDim = (int) shape(source, attn + "transformer_blocks.0.attn2.to_k.weight")[1];
                linear = shape(source, attn + "proj_in.weight").length == 2;
                int depth = 0;
                while (names.contains(attn + "transformer_blocks." + depth + ".attn1.to_q.weight")) depth++;
                transformerDepth = depth;
            } else {
                types.add("DownBlock2D");
            }
        }
        ObjectNode json = ControlNetConfig.JSON.createObjectNode();
        json.put("_class_name", ControlNetConfig.CLASS_NAME);
        json.put("in_channels", convIn[1]);
        json.put("conditioning_channels", shape(source, p + "input_hint_block.0.weight")[1]);
        ArrayNode t = json.putArray("down_block_types");
        types.forEach(t::add);
        ArrayNode c = json.putArray("block_out_channels");
        channels.forEach(c::add);
        json.put("layers_per_block", layout.layersPerBlock);
        if (crossDim > 0) json.put("cross_attention_dim", crossDim);
        json.put("transformer_layers_per_block", transformerDepth);
        json.put("use_linear_projection", linear);
        ArrayNode heads = json.putArray("attention_head_dim");
        for (int ch : channels) {
            if (crossDim == 768) heads.add(8);
            else if (ch % 64 == 0) heads.add(ch / 64);
            else throw new WeightFormatException("cannot infer the attention heads of this ControlNet (width " + ch
                    + "); put its diffusers config.json next to the file");
        }
        ArrayNode hint = json.putArray("conditioning_embedding_out_channels");
        hint.add(shape(source, p + "input_hint_block.0.weight")[0]);
        List<Integer> convs = layout.hintConvs;
        // blocks.(2j+1) (indices 4, 8, 12, ...) are the stride-2 convs: their outputs are the next widths
        for (int k : convs) {
            if (k != 0 && k != layout.lastHintIndex && (k / 2 - 1) % 2 == 1) hint.add(shape(source, p + "input_hint_block." + k + ".weight")[0]);
        }
        return ControlNetConfig.parse(json.toString(), "config inferred from " + source);
    }

    private static long[] shape(WeightSource source, String name) {
        if (!source.contains(name)) throw new WeightFormatException(source + ": cldm ControlNet tensor '" + name + "' is missing");
        return source.info(name).shape();
    }
}
