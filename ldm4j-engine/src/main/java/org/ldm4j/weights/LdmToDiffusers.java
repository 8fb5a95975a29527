package org.ldm4j.weights;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Original LDM / CompVis single-file names to diffusers names, following diffusers
 * {@code loaders/single_file_utils.py} ({@code convert_ldm_unet_checkpoint}, {@code convert_ldm_vae_checkpoint},
 * {@code convert_ldm_clip_checkpoint}, {@code convert_open_clip_checkpoint}). Names are parsed structurally rather
 * than by substring replacement, and parametrised by the config ({@code layers_per_block}, block count), so tiny
 * test models map like SD 1.5.
 *
 * <p>UNet ({@code model.diffusion_model.}), with L = layers_per_block:
 * {@code input_blocks.i} (i ≥ 1) is down block (i−1)/(L+1), layer (i−1)%(L+1): {@code .0} resnet, {@code .1}
 * attention, {@code .0.op} the downsampler conv; {@code middle_block.0/1/2} → mid resnet 0, attention, resnet 1;
 * {@code output_blocks.i} is up block i/(L+1), layer i%(L+1): {@code .0} resnet, {@code .1} attention,
 * {@code .1.conv} or {@code .2.conv} the upsampler. Inside resnets: in_layers.0/2 → norm1/conv1, emb_layers.1 →
 * time_emb_proj, out_layers.0/3 → norm2/conv2, skip_connection → conv_shortcut. Attention internals keep their names.
 *
 * <p>VAE ({@code first_stage_model.}): {@code down.i.block.j} → {@code down_blocks.i.resnets.j},
 * {@code down.i.downsample} → {@code downsamplers.0}; the decoder's {@code up.k} is {@code up_blocks.(n−1−k)};
 * {@code mid.block_1/2} → {@code mid_block.resnets.0/1}; {@code mid.attn_1.{norm,q,k,v,proj_out}} →
 * {@code mid_block.attentions.0.{group_norm,to_q,to_k,to_v,to_out.0}} with 1×1-conv weights squeezed to linear;
 * {@code norm_out} → {@code conv_norm_out}; {@code nin_shortcut} → {@code conv_shortcut}.
 */
public final class LdmToDiffusers {
    public static final String UNET_PREFIX = "model.diffusion_model.";
    public static final List<String> VAE_PREFIXES = List.of("first_stage_model.", "vae.");
    public static final String CLIP_PREFIX = "cond_stage_model.transformer.";
    public static final String OPEN_CLIP_PREFIX = "cond_stage_model.model.";

    private LdmToDiffusers() {}

    // ---------------------------------------------------------------- UNet
    /** LDM → diffusers prefixes of the UNet's top-level layers; {@link DiffusersToLdm} reads it backwards. */
    static final Map<String, String> UNET_TOP = Map.of(
            "time_embed.0.", "time_embedding.linear_1.", "time_embed.2.", "time_embedding.linear_2.",
            "input_blocks.0.0.", "conv_in.", "out.0.", "conv_norm_out.", "out.2.", "conv_out.");
    private static final Pattern INPUT = Pattern.compile("input_blocks\\.(\\d+)\\.(\\d+)\\.(.+)");
    private static final Pattern MIDDLE = Pattern.compile("middle_block\\.(\\d+)\\.(.+)");
    private static final Pattern OUTPUT = Pattern.compile("output_blocks\\.(\\d+)\\.(\\d+)\\.(.+)");

    /** A UNet name without {@code model.diffusion_model.} to its diffusers name; null for names diffusers drops. */
    public static String unetName(String ldm, int layersPerBlock) {
        for (Map.Entry<String, String> e : UNET_TOP.entrySet()) {
            if (ldm.startsWith(e.getKey())) return e.getValue() + ldm.substring(e.getKey().length());
        }
        int per = layersPerBlock + 1;
        Matcher m = INPUT.matcher(ldm);
        if (m.matches()) {
            int i = Integer.parseInt(m.group(1)), part = Integer.parseInt(m.group(2));
            String rest = m.group(3);
            if (i == 0) return null;
            int block = (i - 1) / per, layer = (i - 1) % per;
            if (part == 0 && rest.startsWith("op.")) return "down_blocks." + block + ".downsamplers.0.conv." + rest.substring(3);
            if (part == 0) return "down_blocks." + block + ".resnets." + layer + "." + resnet(rest);
            if (part == 1) return "down_blocks." + block + ".attentions." + layer + "." + rest;
            return null;
        }
        m = MIDDLE.matcher(ldm);
        if (m.matches()) {
            String rest = m.group(2);
            switch (m.group(1)) {
                case "0": return "mid_block.resnets.0." + resnet(rest);
                case "1": return "mid_block.attentions.0." + rest;
                case "2": return "mid_block.resnets.1." + resnet(rest);
                default: return null;
            }
        }
        m = OUTPUT.matcher(ldm);
        if (m.matches()) {
            int i = Integer.parseInt(m.group(1)), part = Integer.parseInt(m.group(2));
            String rest = m.group(3);
            int block = i / per, layer = i % per;
            if (part == 0) return "up_blocks." + block + ".resnets." + layer + "." + resnet(rest);
            // a block without attention has its upsampler at index 1, one with attention at index 2
            if ((part == 1 || part == 2) && rest.startsWith("conv.")) return "up_blocks." + block + ".upsamplers.0.conv." + rest.substring(5);
            if (part == 1) return "up_blocks." + block + ".attentions." + layer + "." + rest;
            return null;
        }
        return null;
    }

    /** LDM → diffusers prefixes inside a UNet resnet; {@link DiffusersToLdm} reads it backwards. */
    static final String[][] RESNET = {
            {"in_layers.0.", "norm1."}, {"in_layers.2.", "conv1."}, {"out_layers.0.", "norm2."},
            {"out_layers.3.", "conv2."}, {"emb_layers.1.", "time_emb_proj."}, {"skip_connection.", "conv_shortcut."}};

    private static String resnet(String rest) {
        for (String[] r : RESNET) if (rest.startsWith(r[0])) return r[1] + rest.substring(r[0].length());
        return rest;
    }

    /** The UNet of a single-file checkpoint, in diffusers names. */
    public static Renamed unet(WeightSource checkpoint, int layersPerBlock) {
        return new Renamed(checkpoint, n -> n.startsWith(UNET_PREFIX)
                ? unetName(n.substring(UNET_PREFIX.length()), layersPerBlock) : null);
    }

    // ---------------------------------------------------------------- VAE
    private static final Pattern DOWN = Pattern.compile("encoder\\.down\\.(\\d+)\\.(block\\.(\\d+)|downsample\\.conv)\\.(.+)");
    private static final Pattern UP = Pattern.compile("decoder\\.up\\.(\\d+)\\.(block\\.(\\d+)|upsample\\.conv)\\.(.+)");
    private static final Pattern MID = Pattern.compile("(encoder|decoder)\\.mid\\.(block_([12])|attn_1)\\.(.+)");
    /** LDM → diffusers prefixes inside the VAE's attention; {@link DiffusersToLdm} reads it backwards. */
    static final Map<String, String> VAE_ATTN = Map.of(
            "norm.", "group_norm.", "q.", "to_q.", "k.", "to_k.", "v.", "to_v.", "proj_out.", "to_out.0.");

    /** A VAE name without its prefix to its diffusers name (null if diffusers drops it); n = number of blocks. */
    public static String vaeName(String ldm, int numBlocks) {
        for (String side : new String[]{"encoder.", "decoder."}) {
            for (String same : new String[]{"conv_in.", "conv_out."}) {
                if (ldm.startsWith(side + same)) return ldm;
            }
            if (ldm.startsWith(side + "norm_out.")) return side + "conv_norm_out." + ldm.substring(side.length() + 9);
        }
        if (ldm.startsWith("quant_conv.") || ldm.startsWith("post_quant_conv.")) return ldm;
        Matcher m = DOWN.matcher(ldm);
        if (m.matches()) {
            int i = block(ldm, m.group(1), numBlocks);
            return m.group(3) != null
                    ? "encoder.down_blocks." + i + ".resnets." + m.group(3) + "." + shortcut(m.group(4))
                    : "encoder.down_blocks." + i + ".downsamplers.0.conv." + m.group(4);
        }
        m = UP.matcher(ldm);
        if (m.matches()) {
            int i = numBlocks - 1 - block(ldm, m.group(1), numBlocks);   // LDM numbers decoder levels bottom-up
            return m.group(3) != null
                    ? "decoder.up_blocks." + i + ".resnets." + m.group(3) + "." + shortcut(m.group(4))
                    : "decoder.up_blocks." + i + ".upsamplers.0.conv." + m.group(4);
        }
        m = MID.matcher(ldm);
        if (m.matches()) {
            String side = m.group(1), rest = m.group(4);
            if (m.group(3) != null) {
                return side + ".mid_block.resnets." + (Integer.parseInt(m.group(3)) - 1) + "." + shortcut(rest);
            }
            for (Map.Entry<String, String> e : VAE_ATTN.entrySet()) {
                if (rest.startsWith(e.getKey())) return side + ".mid_block.attentions.0." + e.getValue() + rest.substring(e.getKey().length());
            }
        }
        return null;
    }

    private static int block(String name, String digits, int numBlocks) {
        int i = Integer.parseInt(digits);
        if (i >= numBlocks) {
            throw new WeightFormatException("VAE tensor '" + name + "' is in block " + i + " but the config has "
                    + numBlocks + " blocks");
        }
        return i;
    }

    private static String shortcut(String rest) {
        return rest.startsWith("nin_shortcut.") ? "conv_shortcut." + rest.substring(13) : rest;
    }

    /** Which prefix holds the VAE: {@code first_stage_model.}, {@code vae.}, or none for a standalone VAE file. */
    public static String vaePrefix(WeightSource checkpoint) {
        for (String p : VAE_PREFIXES) {
            for (String n : checkpoint.names()) if (n.startsWith(p)) return p;
        }
        return "";
    }

    /** The VAE of a single-file checkpoint (or a standalone LDM VAE file) in diffusers names. */
    public static Converted vae(WeightSource checkpoint, int numBlocks) {
        String prefix = vaePrefix(checkpoint);
        Map<String, Converted.Entry> entries = new LinkedHashMap<>();
        for (String n : checkpoint.names()) {
            if (!n.startsWith(prefix)) continue;
            String target = vaeName(n.substring(prefix.length()), numBlocks);
            if (target == null) continue;
            putUnique(entries, target, isAttentionWeight(target)
                    ? Converted.squeezedToLinear(n, checkpoint.info(n))
                    : Converted.Entry.same(n, checkpoint.info(n)));
        }
        return new Converted(checkpoint, entries);
    }

    private static boolean isAttentionWeight(String diffusersName) {
        return diffusersName.contains(".attentions.") && diffusersName.endsWith(".weight")
                && !diffusersName.endsWith("group_norm.weight");
    }

    // ---------------------------------------------------------------- legacy diffusers VAE attention
    private static final Pattern LEGACY = Pattern.compile("(.*\\.attentions\\.\\d+\\.)(query|key|value|proj_attn)\\.(weight|bias)");

    /**
     * Diffusers files saved before the Attention refactor (≤ 0.13, e.g. the original SD 1.5 repository's VAE) name
     * the mid attention {@code query/key/value/proj_attn}; today's names are {@code to_q/to_k/to_v/to_out.0}
     * (diffusers {@code modeling_utils}, {@code _convert_deprecated_attention_blocks}). Other names pass unchanged.
     */
    public static String modernAttentionName(String name) {
        Matcher m = LEGACY.matcher(name);
        if (!m.matches()) return name;
        String to = switch (m.group(2)) {
            case "query" -> "to_q";
            case "key" -> "to_k";
            case "value" -> "to_v";
            default -> "to_out.0";
        };
        return m.group(1) + to + "." + m.group(3);
    }

    public static boolean hasLegacyAttention(WeightSource source) {
        return source.names().stream().anyMatch(n -> LEGACY.matcher(n).matches());
    }

    /** A diffusers-named VAE with legacy attention names modernised and conv-shaped attention weights squeezed. */
    public static Converted modernVae(WeightSource source) {
        Map<String, Converted.Entry> entries = new LinkedHashMap<>();
        for (String n : source.names()) {
            String target = modernAttentionName(n);
            putUnique(entries, target, isAttentionWeight(target) && source.info(n).rank() > 2
                    ? Converted.squeezedToLinear(n, source.info(n))
                    : Converted.Entry.same(n, source.info(n)));
        }
        return new Converted(source, entries);
    }

    // ---------------------------------------------------------------- text encoders
    /** SD 1.x: HF CLIPTextModel names under {@code cond_stage_model.transformer.}; the prefix is stripped. */
    public static String clipName(String ldm) {
        if (!ldm.startsWith(CLIP_PREFIX)) return null;
        String rest = ldm.substring(CLIP_PREFIX.length());
        // saves from old transformers versions lack the text_model level
        return rest.startsWith("text_model.") ? rest : "text_model." + rest;
    }

    public static Renamed clipTextModel(WeightSource checkpoint) {
        return new Renamed(checkpoint, LdmToDiffusers::clipName);
    }

    private static final Pattern RESBLOCK = Pattern.compile("transformer\\.resblocks\\.(\\d+)\\.(.+)");
    private static final String[][] OPEN_CLIP_BLOCK = {
            {"ln_1.", "layer_norm1."}, {"ln_2.", "layer_norm2."}, {"mlp.c_fc.", "mlp.fc1."}, {"mlp.c_proj.", "mlp.fc2."},
            {"attn.out_proj.", "self_attn.out_proj."}};

    /**
     * SD 2.x: OpenCLIP ViT-H under {@code cond_stage_model.model.} to HF CLIPTextModel names: fused
     * {@code attn.in_proj_weight/bias} split in three along dim 0 into q/k/v; blocks at or beyond
     * {@code numLayers} (SD 2 uses 23 of 24) and {@code text_projection} dropped, as diffusers does.
     */
    public static Converted openClipTextModel(WeightSource checkpoint, int numLayers) {
        Map<String, Converted.Entry> entries = new LinkedHashMap<>();
        Map<String, String> top = Map.of("positional_embedding", "text_model.embeddings.position_embedding.weight",
                "token_embedding.weight", "text_model.embeddings.token_embedding.weight",
                "ln_final.weight", "text_model.final_layer_norm.weight", "ln_final.bias", "text_model.final_layer_norm.bias");
        for (String n : checkpoint.names()) {
            if (!n.startsWith(OPEN_CLIP_PREFIX)) continue;
            String rest = n.substring(OPEN_CLIP_PREFIX.length());
            TensorInfo info = checkpoint.info(n);
            if (top.containsKey(rest)) {
                putUnique(entries, top.get(rest), Converted.Entry.same(n, info));
                continue;
            }
            Matcher m = RESBLOCK.matcher(rest);
            if (!m.matches() || Integer.parseInt(m.group(1)) >= numLayers) continue;
            String layer = "text_model.encoder.layers." + m.group(1) + ".";
            String inner = m.group(2);
            if (inner.equals("attn.in_proj_weight") || inner.equals("attn.in_proj_bias")) {
                String kind = inner.endsWith("weight") ? "weight" : "bias";
                String[] qkv = {"q_proj", "k_proj", "v_proj"};
                for (int i = 0; i < 3; i++) {
                    putUnique(entries, layer + "self_attn." + qkv[i] + "." + kind, Converted.chunk(n, info, i, 3));
                }
                continue;
            }
            for (String[] r : OPEN_CLIP_BLOCK) {
                if (inner.startsWith(r[0])) {
                    putUnique(entries, layer + r[1] + inner.substring(r[0].length()), Converted.Entry.same(n, info));
                }
            }
        }
        return new Converted(checkpoint, entries);
    }

    private static void putUnique(Map<String, Converted.Entry> entries, String target, Converted.Entry e) {
        Converted.Entry before = entries.putIfAbsent(target, e);
        if (before != null) {
            throw new WeightFormatException("both '" + before.source() + "' and '" + e.source() + "' map to '" + target + "'");
        }
    }
}
