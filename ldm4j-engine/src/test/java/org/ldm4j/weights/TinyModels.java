package org.ldm4j.weights;

import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Test fixtures: tiny random "models" and, for single-file tests, LDM/diffusers name pairs generated forward from
 * the architecture (block b, layer j to both namings), independently of the parser under test.
 */
final class TinyModels {
    private TinyModels() {}

    /** One tensor in both namings; {@code diffusersShape} differs only for squeezed VAE attention weights. */
    record Pair(String ldm, String diffusers, long[] ldmShape, long[] diffusersShape) {}

    static Pair p(String ldm, String diffusers, long... shape) { return new Pair(ldm, diffusers, shape, shape); }

    static final String[] RESNET_LDM = {"in_layers.0", "in_layers.2", "emb_layers.1", "out_layers.0", "out_layers.3"};
    static final String[] RESNET_DIFF = {"norm1", "conv1", "time_emb_proj", "norm2", "conv2"};
    static final String[] ATTN = {"norm", "proj_in", "transformer_blocks.0.attn1.to_q", "transformer_blocks.0.attn2.to_k", "proj_out"};

    static void resnet(List<Pair> out, String ldm, String diff, boolean shortcut) {
        for (int k = 0; k < RESNET_LDM.length; k++) wb(out, ldm + "." + RESNET_LDM[k], diff + "." + RESNET_DIFF[k]);
        if (shortcut) wb(out, ldm + ".skip_connection", diff + ".conv_shortcut");
    }

    static void wb(List<Pair> out, String ldm, String diff) {
        out.add(p(ldm + ".weight", diff + ".weight", 2, 3));
        out.add(p(ldm + ".bias", diff + ".bias", 3));
    }

    /** UNet pairs for {@code blocks} levels, {@code L} layers per block; attention everywhere but the deepest down / first up level. */
    static List<Pair> unet(int blocks, int L, int inChannels) {
        List<Pair> out = new ArrayList<>();
        String u = LdmToDiffusers.UNET_PREFIX;
        wb(out, u + "time_embed.0", "time_embedding.linear_1");
        wb(out, u + "time_embed.2", "time_embedding.linear_2");
        out.add(p(u + "input_blocks.0.0.weight", "conv_in.weight", 4, inChannels, 3, 3));
        out.add(p(u + "input_blocks.0.0.bias", "conv_in.bias", 4));
        for (int b = 0; b < blocks; b++) {
            for (int j = 0; j < L; j++) {
                int idx = 1 + b * (L + 1) + j;
                resnet(out, u + "input_blocks." + idx + ".0", "down_blocks." + b + ".resnets." + j, b > 0 && j == 0);
                if (b < blocks - 1) {
                    for (String a : ATTN) wb(out, u + "input_blocks." + idx + ".1." + a, "down_blocks." + b + ".attentions." + j + "." + a);
                }
            }
            if (b < blocks - 1) wb(out, u + "input_blocks." + (1 + b * (L + 1) + L) + ".0.op", "down_blocks." + b + ".downsamplers.0.conv");
        }
        resnet(out, u + "middle_block.0", "mid_block.resnets.0", false);
        for (String a : ATTN) wb(out, u + "middle_block.1." + a, "mid_block.attentions.0." + a);
        resnet(out, u + "middle_block.2", "mid_block.resnets.1", false);
        for (int b = 0; b < blocks; b++) {
            boolean attn = b > 0;
            for (int j = 0; j <= L; j++) {
                int idx = b * (L + 1) + j;
                resnet(out, u + "output_blocks." + idx + ".0", "up_blocks." + b + ".resnets." + j, true);
                if (attn) for (String a : ATTN) wb(out, u + "output_blocks." + idx + ".1." + a, "up_blocks." + b + ".attentions." + j + "." + a);
            }
            if (b < blocks - 1) {
                wb(out, u + "output_blocks." + (b * (L + 1) + L) + "." + (attn ? 2 : 1) + ".conv", "up_blocks." + b + ".upsamplers.0.conv");
            }
        }
        wb(out, u + "out.0", "conv_norm_out");
        wb(out, u + "out.2", "conv_out");
        return out;
    }

    /** VAE pairs; decoder level k of the LDM file is diffusers up block blocks-1-k. */
    static List<Pair> vae(int blocks, int L) {
        List<Pair> out = new ArrayList<>();
        String v = "first_stage_model.";
        String[] res = {"norm1", "conv1", "norm2", "conv2"};
        for (String side : new String[]{"encoder", "decoder"}) {
            wb(out, v + side + ".conv_in", side + ".conv_in");
            for (int k = 1; k <= 2; k++) for (String r : res) wb(out, v + side + ".mid.block_" + k + "." + r, side + ".mid_block.resnets." + (k - 1) + "." + r);
            wb(out, v + side + ".mid.attn_1.norm", side + ".mid_block.attentions.0.group_norm");
            String[][] attn = {{"q", "to_q"}, {"k", "to_k"}, {"v", "to_v"}, {"proj_out", "to_out.0"}};
            for (String[] a : attn) {
                String d = side + ".mid_block.attentions.0." + a[1];
                out.add(new Pair(v + side + ".mid.attn_1." + a[0] + ".weight", d + ".weight", new long[]{4, 4, 1, 1}, new long[]{4, 4}));
                out.add(p(v + side + ".mid.attn_1." + a[0] + ".bias", d + ".bias", 4));
            }
            wb(out, v + side + ".norm_out", side + ".conv_norm_out");
            wb(out, v + side + ".conv_out", side + ".conv_out");
        }
        for (int i = 0; i < blocks; i++) {
            for (int j = 0; j < L; j++) {
                for (String r : res) wb(out, v + "encoder.down." + i + ".block." + j + "." + r, "encoder.down_blocks." + i + ".resnets." + j + "." + r);
            }
            if (i > 0) wb(out, v + "encoder.down." + i + ".block.0.nin_shortcut", "encoder.down_blocks." + i + ".resnets.0.conv_shortcut");
            if (i < blocks - 1) wb(out, v + "encoder.down." + i + ".downsample.conv", "encoder.down_blocks." + i + ".downsamplers.0.conv");
        }
        for (int k = 0; k < blocks; k++) {
            int up = blocks - 1 - k;
            for (int j = 0; j <= L; j++) {
                for (String r : res) wb(out, v + "decoder.up." + k + ".block." + j + "." + r, "decoder.up_blocks." + up + ".resnets." + j + "." + r);
            }
            if (k < blocks - 1) wb(out, v + "decoder.up." + k + ".block.0.nin_shortcut", "decoder.up_blocks." + up + ".resnets.0.conv_shortcut");
            if (k > 0) wb(out, v + "decoder.up." + k + ".upsample.conv", "decoder.up_blocks." + up + ".upsamplers.0.conv");
        }
        wb(out, v + "quant_conv", "quant_conv");
        wb(out, v + "post_quant_conv", "post_quant_conv");
        return out;
    }

    static List<Pair> clip(int layers) {
        List<Pair> out = new ArrayList<>();
        String c = LdmToDiffusers.CLIP_PREFIX;
        out.add(p(c + "text_model.embeddings.token_embedding.weight", "text_model.embeddings.token_embedding.weight", 10, 4));
        out.add(p(c + "text_model.embeddings.position_embedding.weight", "text_model.embeddings.position_embedding.weight", 7, 4));
        for (int l = 0; l < layers; l++) {
            String n = "text_model.encoder.layers." + l + ".";
            for (String s : new String[]{"self_attn.q_proj", "self_attn.k_proj", "self_attn.v_proj", "self_attn.out_proj", "layer_norm1", "layer_norm2", "mlp.fc1", "mlp.fc2"}) {
                wb(out, c + n + s, n + s);
            }
        }
        wb(out, c + "text_model.final_layer_norm", "text_model.final_layer_norm");
        return out;
    }

    /** Random tensors (seeded) for the LDM side of the pairs. */
    static Map<String, Tensor> ldmTensors(List<Pair> pairs) {
        Map<String, Tensor> m = new LinkedHashMap<>();
        for (Pair pr : pairs) m.put(pr.ldm(), torch.randn(pr.ldmShape()));
        return m;
    }

    /** A random diffusers-style model: name to tensor. */
    static Map<String, Tensor> randomModel(String... namesAndDims) {
        Map<String, Tensor> m = new LinkedHashMap<>();
        for (String s : namesAndDims) {
            String[] parts = s.split(":");
            String[] dims = parts[1].split("x");
            long[] shape = new long[dims.length];
            for (int i = 0; i < dims.length; i++) shape[i] = Long.parseLong(dims[i]);
            m.put(parts[0], torch.randn(shape));
        }
        return m;
    }

    static void json(Path file, String text) throws IOException {
        Files.createDirectories(file.getParent());
        Files.writeString(file, text);
    }

    static final String MODEL_INDEX = "{\"_class_name\":\"StableDiffusionPipeline\",\"_diffusers_version\":\"0.30.0\","
            + "\"safety_checker\":[null,null],\"feature_extractor\":[null,null],"
            + "\"scheduler\":[\"diffusers\",\"DDIMScheduler\"],\"text_encoder\":[\"transformers\",\"CLIPTextModel\"],"
            + "\"tokenizer\":[\"transformers\",\"CLIPTokenizer\"],\"unet\":[\"diffusers\",\"UNet2DConditionModel\"],"
            + "\"vae\":[\"diffusers\",\"AutoencoderKL\"]}";
    static final String UNET_CONFIG = "{\"_class_name\":\"UNet2DConditionModel\",\"layers_per_block\":1,\"block_out_channels\":[4,8,8],\"in_channels\":4}";
    static final String VAE_CONFIG = "{\"_class_name\":\"AutoencoderKL\",\"layers_per_block\":1,\"block_out_channels\":[4,8],\"scaling_factor\":0.18215}";
    static final String TEXT_CONFIG = "{\"architectures\":[\"CLIPTextModel\"],\"num_hidden_layers\":2,\"hidden_size\":4}";

    /**
     * A diffusers folder: unet sharded in two files (with index), vae with legacy attention names plus an fp16
     * variant, text encoder as model.safetensors, scheduler and tokenizer files. Returns all tensors by component.
     */
    static Map<String, Map<String, Tensor>> writeDiffusersFolder(Path root) throws IOException {
        json(root.resolve("model_index.json"), MODEL_INDEX);
        json(root.resolve("unet/config.json"), UNET_CONFIG);
        json(root.resolve("vae/config.json"), VAE_CONFIG);
        json(root.resolve("text_encoder/config.json"), TEXT_CONFIG);
        json(root.resolve("scheduler/scheduler_config.json"), "{\"_class_name\":\"DDIMScheduler\",\"beta_start\":0.00085}");
        json(root.resolve("tokenizer/tokenizer_config.json"), "{\"model_max_length\":77}");
        json(root.resolve("tokenizer/vocab.json"), "{\"a</w>\":0}");
        json(root.resolve("tokenizer/merges.txt"), "#version: 0.2\n");
        Map<String, Tensor> unet = randomModel("conv_in.weight:4x4x3x3", "conv_in.bias:4",
                "down_blocks.0.resnets.0.conv1.weight:4x4x3x3", "up_blocks.0.resnets.0.norm1.weight:8", "conv_out.weight:4x4x3x3");
        Map<String, Tensor> shard1 = new LinkedHashMap<>(), shard2 = new LinkedHashMap<>();
        StringBuilder map = new StringBuilder();
        int i = 0;
        for (Map.Entry<String, Tensor> e : unet.entrySet()) {
            String shard = i++ % 2 == 0 ? "diffusion_pytorch_model-00001-of-00002.safetensors" : "diffusion_pytorch_model-00002-of-00002.safetensors";
            (shard.contains("00001-") ? shard1 : shard2).put(e.getKey(), e.getValue());
            map.append(map.length() == 0 ? "" : ",").append('"').append(e.getKey()).append("\":\"").append(shard).append('"');
        }
        SafetensorsWriter.write(root.resolve("unet/diffusion_pytorch_model-00001-of-00002.safetensors"), shard1);
        SafetensorsWriter.write(root.resolve("unet/diffusion_pytorch_model-00002-of-00002.safetensors"), shard2);
        json(root.resolve("unet/diffusion_pytorch_model.safetensors.index.json"),
                "{\"metadata\":{\"total_size\":0},\"weight_map\":{" + map + "}}");
        Map<String, Tensor> vae = randomModel("encoder.conv_in.weight:4x3x3x3",
                "encoder.mid_block.attentions.0.group_norm.weight:4",
                "encoder.mid_block.attentions.0.query.weight:4x4", "encoder.mid_block.attentions.0.query.bias:4",
                "encoder.mid_block.attentions.0.key.weight:4x4", "encoder.mid_block.attentions.0.value.weight:4x4",
                "encoder.mid_block.attentions.0.proj_attn.weight:4x4", "decoder.conv_out.weight:3x4x3x3");
        SafetensorsWriter.write(root.resolve("vae/diffusion_pytorch_model.safetensors"), vae);
        Map<String, Tensor> vaeHalf = new LinkedHashMap<>();
        vae.forEach((k, t) -> vaeHalf.put(k, t.to(org.bytedeco.pytorch.global.torch.ScalarType.Half)));
        SafetensorsWriter.write(root.resolve("vae/diffusion_pytorch_model.fp16.safetensors"), vaeHalf);
        Map<String, Tensor> text = randomModel("text_model.embeddings.token_embedding.weight:10x4",
                "text_model.encoder.layers.0.self_attn.q_proj.weight:4x4", "text_model.final_layer_norm.bias:4");
        SafetensorsWriter.write(root.resolve("text_encoder/model.safetensors"), text);
        return Map.of("unet", unet, "vae", vae, "vae.fp16", vaeHalf, "text_encoder", text);
    }
}
