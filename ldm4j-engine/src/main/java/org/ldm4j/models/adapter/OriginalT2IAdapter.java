package org.ldm4j.models.adapter;

import org.ldm4j.weights.Renamed;
import org.ldm4j.weights.WeightFormatException;
import org.ldm4j.weights.WeightSource;

import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The original T2I-Adapter layout (TencentARC {@code Adapter} / {@code Adapter_light}, and FG-DM's plain latent
 * adapter, optionally under {@code adapter.}) to diffusers names, as diffusers' {@code scripts/convert_original_t2iadapter.py}
 * maps them. Full: {@code conv_in} → {@code adapter.conv_in}; the flat {@code body.i} (levels × num_res_blocks) →
 * {@code adapter.body.(i / n).resnets.(i % n)}, its {@code in_conv} → {@code adapter.body.(i / n).in_conv}. Light:
 * {@code body.l.{in_conv,out_conv}} → {@code adapter.body.l.*}, {@code body.l.body.r} → {@code adapter.body.l.resnets.r}.
 */
public final class OriginalT2IAdapter {
    private static final Pattern FULL = Pattern.compile("body\\.(\\d+)\\.(in_conv|block1|block2)\\.(weight|bias)");
    private static final Pattern LIGHT = Pattern.compile("body\\.(\\d+)\\.(?:(in_conv|out_conv)|body\\.(\\d+)\\.(block1|block2))\\.(weight|bias)");

    private OriginalT2IAdapter() {}

    /** "adapter." when every adapter tensor carries it (FG-DM's standalone saves), else "". */
    public static String prefix(Set<String> names) {
        return names.contains("adapter.body.0.block1.weight") || names.contains("adapter.body.0.in_conv.weight")
                || names.contains("adapter.body.0.in_layers.0.weight") ? "adapter." : "";
    }

    /** One full-adapter name (unprefixed) to diffusers; null if it is not an adapter tensor. */
    public static String fullName(String name, int numResBlocks) {
        if (name.startsWith("conv_in.")) return "adapter." + name;
        Matcher m = FULL.matcher(name);
        if (!m.matches()) return null;
        int i = Integer.parseInt(m.group(1));
        String level = "adapter.body." + (i / numResBlocks) + ".";
        if (m.group(2).equals("in_conv")) return i % numResBlocks == 0 ? level + "in_conv." + m.group(3) : null;
        return level + "resnets." + (i % numResBlocks) + "." + m.group(2) + "." + m.group(3);
    }

    /** One light-adapter name (unprefixed) to diffusers; null if it is not one. */
    public static String lightName(String name) {
        Matcher m = LIGHT.matcher(name);
        if (!m.matches()) return null;
        String level = "adapter.body." + m.group(1) + ".";
        if (m.group(2) != null) return level + m.group(2) + "." + m.group(5);
        return level + "resnets." + m.group(3) + "." + m.group(4) + "." + m.group(5);
    }

    /** The adapter under diffusers names; tensors that map to nothing are an error naming them. */
    public static Renamed convert(WeightSource source, T2IAdapterConfig config) {
        String prefix = prefix(source.names());
        boolean light = config.adapterType().equals(T2IAdapterConfig.LIGHT);
        Renamed r = new Renamed(source, n -> !n.startsWith(prefix) ? null
                : light ? lightName(n.substring(prefix.length())) : fullName(n.substring(prefix.length()), config.numResBlocks()));
        if (!r.dropped().isEmpty() && prefix.isEmpty()) {
            throw new WeightFormatException(source + ": tensors that are not part of a T2I-Adapter: "
                    + String.join(", ", r.dropped().subList(0, Math.min(12, r.dropped().size()))));
        }
        return r;
    }

    /**
     * The config of an original-layout adapter: widths, blocks per level and input channels from the shapes. The
     * number of levels (= the UNet's down blocks) and the PixelUnshuffle factor (8 for SD; 1 for FG-DM's latent
     * adapter) are not visible in the weights and are given.
     */
    public static T2IAdapterConfig inferConfig(WeightSource source, int levels, int downscaleFactor) {
        String p = prefix(source.names());
        TreeSet<Integer> body = new TreeSet<>();
        Pattern index = Pattern.compile(Pattern.quote(p) + "body\\.(\\d+)\\..*");
        boolean light = false;
        for (String n : source.names()) {
            Matcher m = index.matcher(n);
            if (m.matches()) body.add(Integer.parseInt(m.group(1)));
            if (n.startsWith(p + "body.0.body.")) light = true;
        }
        if (body.isEmpty()) throw new WeightFormatException(source + ": no " + p + "body.* tensors: not a T2I-Adapter");
        int f2 = downscaleFactor * downscaleFactor;
        java.util.List<Integer> channels = new java.util.ArrayList<>();
        if (light) {
            int blocks = body.size(), resnets = 0;
            while (source.contains(p + "body.0.body." + resnets + ".block1.weight")) resnets++;
            for (int l = 0; l < blocks - 1; l++) channels.add((int) shape(source, p + "body." + l + ".out_conv.weight")[0]);
            long in = shape(source, p + "body.0.in_conv.weight")[1];
            if (in % f2 != 0) throw new WeightFormatException(source + ": input width " + in + " is not a multiple of " + f2);
            return new T2IAdapterConfig((int) (in / f2), channels, resnets, downscaleFactor, T2IAdapterConfig.LIGHT);
        }
        if (body.size() % levels != 0) {
            throw new WeightFormatException(source + ": " + body.size() + " adapter blocks do not split into " + levels + " levels");
        }
        int perLevel = body.size() / levels;
        for (int l = 0; l < levels; l++) channels.add((int) shape(source, p + "body." + (l * perLevel) + ".block1.weight")[0]);
        long in = shape(source, p + "conv_in.weight")[1];
        if (in % f2 != 0) throw new WeightFormatException(source + ": conv_in takes " + in + " channels, not a multiple of " + f2);
        return new T2IAdapterConfig((int) (in / f2), channels, perLevel, downscaleFactor, T2IAdapterConfig.FULL);
    }

    private static long[] shape(WeightSource source, String name) {
        if (!source.contains(name)) throw new WeightFormatException(source + ": T2I-Adapter tensor '" + name + "' is missing");
        return source.info(name).shape();
    }
}
