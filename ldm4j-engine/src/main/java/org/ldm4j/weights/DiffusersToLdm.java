package org.ldm4j.weights;

import com.fasterxml.jackson.databind.JsonNode;

import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Diffusers names back to original LDM single-file names: the inverse of {@link LdmToDiffusers} for the UNet, the
 * VAE and the SD 1.x CLIP text encoder (diffusers {@code scripts/convert_diffusers_to_original_stable_diffusion.py}
 * does the same with string tables), so that a diffusers folder can be written as one {@code .safetensors} that
 * A1111/ComfyUI-style tools, and {@link SingleFileCheckpoint}, load.
 *
 * <p>Parametrised like the forward map: UNet {@code down_blocks.b.resnets.j} is {@code input_blocks.(1+b(L+1)+j).0}
 * with L = {@code layers_per_block}, its downsampler {@code input_blocks.(1+b(L+1)+L).0.op}; {@code up_blocks.b}
 * layer j is {@code output_blocks.(b(L+1)+j)}, its upsampler at index 2 when the block has attention, else 1; the
 * VAE decoder's {@code up_blocks.i} is {@code up.(n-1-i)}, and its mid-attention linear weights become 1×1 convs
 * [O, I, 1, 1] again, as LDM stores them. A name the map does not know is an error naming it (nothing is dropped
 * silently). The OpenCLIP text encoder of SD 2.x is not inverted.
 */
public final class DiffusersToLdm {
    private DiffusersToLdm() {}

    // ---------------------------------------------------------------- UNet
    private static final Map<String, String> UNET_TOP = inverse(LdmToDiffusers.UNET_TOP);
    private static final Pattern BLOCK = Pattern.compile("(down|up)_blocks\\.(\\d+)\\.(resnets|attentions|downsamplers|upsamplers)\\.(\\d+)\\.(.+)");
    private static final Pattern MID = Pattern.compile("mid_block\\.(resnets|attentions)\\.(\\d+)\\.(.+)");
    private static final String[][] RESNET = inverse(LdmToDiffusers.RESNET);

    /**
     * A diffusers UNet name to its LDM name without {@code model.diffusion_model.}; {@code upWithAttention} says
     * whether up block b has attentions (which moves its upsampler to index 2). Throws for names it cannot place.
     */
    public static String unetName(String name, int layersPerBlock, java.util.function.IntPredicate upWithAttention) {
        for (Map.Entry<String, String> e : UNET_TOP.entrySet()) {
            if (name.startsWith(e.getKey())) return e.getValue() + name.substring(e.getKey().length());
        }
        int per = layersPerBlock + 1;
        Matcher m = BLOCK.matcher(name);
        if (m.matches()) {
            boolean down = m.group(1).equals("down");
            int b = Integer.parseInt(m.group(2)), j = Integer.parseInt(m.group(4));
            String kind = m.group(3), rest = m.group(5);
            switch (kind) {
                case "resnets" -> { return (down ? "input_blocks." + (1 + b * per + j) : "output_blocks." + (b * per + j)) + ".0." + resnet(rest); }
                case "attentions" -> { return (down ? "input_blocks." + (1 + b * per + j) : "output_blocks." + (b * per + j)) + ".1." + rest; }
                case "downsamplers" -> {
                    if (down && j == 0 && rest.startsWith("conv.")) return "input_blocks." + (1 + b * per + layersPerBlock) + ".0.op." + rest.substring(5);
                }
                default -> {
                    if (!down && j == 0 && rest.startsWith("conv.")) {
                        return "output_blocks." + (b * per + layersPerBlock) + "." + (upWithAttention.test(b) ? 2 : 1) + "." + rest;
                    }
                }
            }
        }
        m = MID.matcher(name);
        if (m.matches()) {
            int i = Integer.parseInt(m.group(2));
            String rest = m.group(3);
            if (m.group(1).equals("resnets") && i <= 1) return "middle_block." + (2 * i) + "." + resnet(rest);
            if (m.group(1).equals("attentions") && i == 0) return "middle_block.1." + rest;
        }
        throw new WeightFormatException("UNet tensor '" + name + "' has no original-LDM name");
    }

    private static String resnet(String rest) {
        for (String[] r : RESNET) if (rest.startsWith(r[0])) return r[1] + rest.substring(r[0].length());
        return rest;
    }

    /** A diffusers UNet under LDM names ({@code model.diffusion_model.} prefix included). */
    public static Converted unet(WeightSource unet, JsonNode unetConfig) {
        int layers = ConversionConfigKeys.intKey(unetConfig, "layers_per_block");
        java.util.function.IntPredicate attention = b -> unet.names().stream().anyMatch(n -> n.startsWith("up_blocks." + b + ".attentions."));
        Map<String, Converted.Entry> entries = new LinkedHashMap<>();
        for (String n : unet.names()) {
            put(entries, LdmToDiffusers.UNET_PREFIX + unetName(n, layers, attention), Converted.Entry.same(n, unet.info(n)));
        }
        return new Converted(unet, entries);
    }

    // ---------------------------------------------------------------- VAE
    private static final Pattern VAE_BLOCK = Pattern.compile("(encoder|decoder)\\.(down|up)_blocks\\.(\\d+)\\.(resnets|downsamplers|upsamplers)\\.(\\d+)\\.(.+)");
    private static final Pattern VAE_MID = Pattern.compile("(encoder|decoder)\\.mid_block\\.(resnets\\.(\\d+)|attentions\\.0)\\.(.+)");
    private static final Map<String, String> VAE_ATTN = inverse(LdmToDiffusers.VAE_ATTN);

    /** A diffusers VAE name to its LDM name without {@code first_stage_model.}; n = number of blocks. */
    public static String vaeName(String name, int numBlocks) {
        for (String side : new String[]{"encoder.", "decoder."}) {
            if (name.startsWith(side + "conv_in.") || name.startsWith(side + "conv_out.")) return name;
            if (name.startsWith(side + "conv_norm_out.")) return side + "norm_out." + name.substring(side.length() + 14);
        }
        if (name.startsWith("quant_conv.") || name.startsWith("post_quant_conv.")) return name;
        Matcher m = VAE_BLOCK.matcher(name);
        if (m.matches() && (m.group(1).equals("encoder") == m.group(2).equals("down"))) {
            int i = Integer.parseInt(m.group(3));
            if (i >= numBlocks) throw new WeightFormatException("VAE tensor '" + name + "' is in block " + i + " but the config has " + numBlocks);
            String kind = m.group(4), rest = m.group(6);
            String level = m.group(1).equals("encoder") ? "encoder.down." + i : "decoder.up." + (numBlocks - 1 - i);
            if (kind.equals("resnets")) return level + ".block." + m.group(5) + "." + shortcut(rest);
            if (m.group(5).equals("0") && rest.startsWith("conv.")) {
                return level + (kind.equals("downsamplers") ? ".downsample." : ".upsample.") + rest;
            }
        }
        m = VAE_MID.matcher(name);
        if (m.matches()) {
            String side = m.group(1), rest = m.group(4);
            if (m.group(3) != null) return side + ".mid.block_" + (Integer.parseInt(m.group(3)) + 1) + "." + shortcut(rest);
            for (Map.Entry<String, String> e : VAE_ATTN.entrySet()) {
                if (rest.startsWith(e.getKey())) return side + ".mid.attn_1." + e.getValue() + rest.substring(e.getKey().length());
            }
        }
        throw new WeightFormatException("VAE tensor '" + name + "' has no original-LDM name");
    }

    private static String shortcut(String rest) {
        return rest.startsWith("conv_shortcut.") ? "nin_shortcut." + rest.substring(14) : rest;
    }

    /** A diffusers VAE under LDM names ({@code first_stage_model.}), attention projections as 1×1 conv weights. */
    public static Converted vae(WeightSource vae, JsonNode vaeConfig) {
        int blocks = ConversionConfigKeys.listLength(vaeConfig, "block_out_channels");
        Map<String, Converted.Entry> entries = new LinkedHashMap<>();
        for (String n : vae.names()) {
            String target = "first_stage_model." + vaeName(n, blocks);
            TensorInfo info = vae.info(n);
            boolean linear = n.contains(".mid_block.attentions.") && n.endsWith(".weight") && !n.contains("group_norm") && info.rank() == 2;
            if (linear) {
                long o = info.dim(0), i = info.dim(1);
                put(entries, target, new Converted.Entry(n, info.withShape(o, i, 1, 1), t -> t.reshape(o, i, 1, 1)));
            } else {
                put(entries, target, Converted.Entry.same(n, info));
            }
        }
        return new Converted(vae, entries);
    }

    // ---------------------------------------------------------------- CLIP
    /** SD 1.x: the transformers CLIPTextModel names under {@code cond_stage_model.transformer.}. */
    public static Converted clipTextModel(WeightSource text) {
        Map<String, Converted.Entry> entries = new LinkedHashMap<>();
        for (String n : text.names()) {
            if (!n.startsWith("text_model.")) throw new WeightFormatException("text encoder tensor '" + n + "' is not a CLIPTextModel name");
            put(entries, LdmToDiffusers.CLIP_PREFIX + n, Converted.Entry.same(n, text.info(n)));
        }
        return new Converted(text, entries);
    }

    // ---------------------------------------------------------------- whole pipeline
    /** The UNet, VAE and text encoder of a diffusers folder as one LDM-named source; closing it closes all three. */
    public static WeightSource checkpoint(DiffusersFolder folder) throws IOException {
        List<WeightSource> parts = new ArrayList<>();
        try {
            parts.add(unet(folder.weights("unet"), folder.config("unet")));
            parts.add(vae(folder.weights("vae"), folder.config("vae")));
            parts.add(clipTextModel(folder.weights("text_encoder")));
            return new Merged(parts);
        } catch (RuntimeException | IOException e) {
            for (WeightSource p : parts) p.close();
            throw e;
        }
    }

    /** Writes a diffusers folder as one original-LDM {@code .safetensors} (atomically, one tensor in memory at a time). */
    public static void writeSingleFile(DiffusersFolder folder, Path target) throws IOException {
        try (WeightSource all = checkpoint(folder)) {
            SafetensorsWriter.write(target, all, Map.of("format", "pt", "converted_from", "diffusers"));
        }
    }

    /** The prefix table read backwards (diffusers → LDM): one table per mapping, so the two directions cannot drift. */
    private static Map<String, String> inverse(Map<String, String> ldmToDiffusers) {
        Map<String, String> out = new HashMap<>();
        ldmToDiffusers.forEach((ldm, diffusers) -> out.put(diffusers, ldm));
        return Map.copyOf(out);
    }

    private static String[][] inverse(String[][] ldmToDiffusers) {
        String[][] out = new String[ldmToDiffusers.length][];
        for (int i = 0; i < out.length; i++) out[i] = new String[]{ldmToDiffusers[i][1], ldmToDiffusers[i][0]};
        return out;
    }

    private static void put(Map<String, Converted.Entry> entries, String target, Converted.Entry e) {
        Converted.Entry before = entries.putIfAbsent(target, e);
        if (before != null) throw new WeightFormatException("both '" + before.source() + "' and '" + e.source() + "' map to '" + target + "'");
    }
}
