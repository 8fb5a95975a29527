package org.ldm4j.weights;

import com.fasterxml.jackson.databind.json.JsonMapper;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;

import static org.junit.jupiter.api.Assertions.*;

class LdmToDiffusersTest {
    @TempDir Path dir;
    static final JsonMapper JSON = new JsonMapper();

    @BeforeAll static void threads() { torch.set_num_threads(1); }

    /** SD 1.5 (layers_per_block 2) names quoted in engine-references.md / diffusers' DIFFUSERS_TO_LDM_MAPPING. */
    @ParameterizedTest
    @CsvSource({
            "time_embed.0.weight, time_embedding.linear_1.weight",
            "input_blocks.0.0.bias, conv_in.bias",
            "input_blocks.1.0.in_layers.0.weight, down_blocks.0.resnets.0.norm1.weight",
            "input_blocks.2.1.transformer_blocks.0.attn2.to_k.weight, down_blocks.0.attentions.1.transformer_blocks.0.attn2.to_k.weight",
            "input_blocks.3.0.op.weight, down_blocks.0.downsamplers.0.conv.weight",
            "input_blocks.4.0.skip_connection.bias, down_blocks.1.resnets.0.conv_shortcut.bias",
            "input_blocks.11.0.emb_layers.1.weight, down_blocks.3.resnets.1.time_emb_proj.weight",
            "middle_block.1.proj_in.weight, mid_block.attentions.0.proj_in.weight",
            "middle_block.2.out_layers.3.bias, mid_block.resnets.1.conv2.bias",
            "output_blocks.2.1.conv.weight, up_blocks.0.upsamplers.0.conv.weight",
            "output_blocks.5.2.conv.bias, up_blocks.1.upsamplers.0.conv.bias",
            "output_blocks.5.1.proj_out.weight, up_blocks.1.attentions.2.proj_out.weight",
            "output_blocks.11.0.skip_connection.weight, up_blocks.3.resnets.2.conv_shortcut.weight",
            "out.2.weight, conv_out.weight"})
    void sd15UnetNames(String ldm, String diffusers) {
        assertEquals(diffusers, LdmToDiffusers.unetName(ldm, 2));
    }

    @ParameterizedTest
    @CsvSource({
            "decoder.up.3.block.0.conv1.weight, decoder.up_blocks.0.resnets.0.conv1.weight",
            "decoder.up.0.block.2.norm2.bias, decoder.up_blocks.3.resnets.2.norm2.bias",
            "decoder.up.3.upsample.conv.weight, decoder.up_blocks.0.upsamplers.0.conv.weight",
            "encoder.down.1.block.0.nin_shortcut.weight, encoder.down_blocks.1.resnets.0.conv_shortcut.weight",
            "encoder.mid.attn_1.proj_out.weight, encoder.mid_block.attentions.0.to_out.0.weight",
            "decoder.mid.attn_1.norm.bias, decoder.mid_block.attentions.0.group_norm.bias",
            "encoder.norm_out.weight, encoder.conv_norm_out.weight"})
    void sd15VaeNames(String ldm, String diffusers) {
        assertEquals(diffusers, LdmToDiffusers.vaeName(ldm, 4));
    }

    @Test void legacyAttentionNames() {
        assertEquals("encoder.mid_block.attentions.0.to_q.weight", LdmToDiffusers.modernAttentionName("encoder.mid_block.attentions.0.query.weight"));
        assertEquals("decoder.mid_block.attentions.0.to_out.0.bias", LdmToDiffusers.modernAttentionName("decoder.mid_block.attentions.0.proj_attn.bias"));
        assertEquals("decoder.conv_in.weight", LdmToDiffusers.modernAttentionName("decoder.conv_in.weight"));
    }

    @Test void vaeBlockBeyondConfigIsAnError() {
        WeightFormatException e = assertThrows(WeightFormatException.class, () -> LdmToDiffusers.vaeName("decoder.up.4.block.0.conv1.weight", 4));
        assertTrue(e.getMessage().contains("decoder.up.4"), e.getMessage());
    }

    /**
     * A tiny single file (3 UNet levels with 1 layer each, 2 VAE levels, 2 CLIP layers) written under LDM names
     * generated forward from the architecture maps back to exactly the expected diffusers names and tensors.
     */
    @Test void singleFileMapsToDiffusersNamesAndTensors() throws IOException {
        torch.manual_seed(0);
        List<TinyModels.Pair> unet = TinyModels.unet(3, 1, 4), vae = TinyModels.vae(2, 1), clip = TinyModels.clip(2);
        List<TinyModels.Pair> all = new ArrayList<>(unet);
        all.addAll(vae);
        all.addAll(clip);
        Map<String, Tensor> ldm = TinyModels.ldmTensors(all);
        ldm.put("first_stage_model.loss.logvar", torch.zeros(1));                 // training leftovers diffusers drops
        ldm.put("model_ema.decay", torch.zeros(1));
        ldm.put("cond_stage_model.transformer.text_model.embeddings.position_ids", torch.zeros(1, 7));
        Path file = dir.resolve("tiny.safetensors");
        SafetensorsWriter.write(file, ldm);
        try (SingleFileCheckpoint ckpt = SingleFileCheckpoint.open(file, JSON.readTree(TinyModels.UNET_CONFIG),
                JSON.readTree(TinyModels.VAE_CONFIG), JSON.readTree(TinyModels.TEXT_CONFIG))) {
            assertEquals(SingleFileCheckpoint.ModelType.V1, ckpt.modelType());
            check(ckpt.unet(), unet, ldm, Set.of());
            check(ckpt.vae(), vae, ldm, Set.of());
            check(ckpt.textEncoder(), clip, ldm, Set.of("text_model.embeddings.position_ids"));
        }
    }

    private static void check(WeightSource source, List<TinyModels.Pair> pairs, Map<String, Tensor> ldm, Set<String> extra) {
        Set<String> expected = new TreeSet<>(extra);
        for (TinyModels.Pair p : pairs) expected.add(p.diffusers());
        assertEquals(expected, new TreeSet<>(source.names()));
        for (TinyModels.Pair p : pairs) {
            assertArrayEquals(p.diffusersShape(), source.info(p.diffusers()).shape(), p.diffusers());
            try (Tensor t = source.read(p.diffusers())) {
                assertArrayEquals(p.diffusersShape(), t.sizes().vec().get(), p.diffusers());
                assertTrue(t.equal(ldm.get(p.ldm()).reshape(p.diffusersShape())), p.ldm() + " -> " + p.diffusers());
            }
        }
    }

    @Test void openClipIsSplitIntoQkvAndTrimmedToTheConfiguredLayers() throws IOException {
        torch.manual_seed(1);
        Map<String, Tensor> ldm = new LinkedHashMap<>();
        String o = LdmToDiffusers.OPEN_CLIP_PREFIX;
        ldm.put(SingleFileCheckpoint.INPAINT_KEY, torch.randn(4, 4, 3, 3));
        ldm.put(SingleFileCheckpoint.V2_KEY, torch.randn(2, 1024));
        ldm.put(o + "positional_embedding", torch.randn(7, 4));
        ldm.put(o + "text_projection", torch.randn(4, 4));
        for (int l = 0; l < 2; l++) {
            ldm.put(o + "transformer.resblocks." + l + ".attn.in_proj_weight", torch.randn(12, 4));
            ldm.put(o + "transformer.resblocks." + l + ".attn.in_proj_bias", torch.randn(12));
            ldm.put(o + "transformer.resblocks." + l + ".mlp.c_fc.weight", torch.randn(16, 4));
            ldm.put(o + "transformer.resblocks." + l + ".ln_2.bias", torch.randn(4));
        }
        Path file = dir.resolve("v2.safetensors");
        SafetensorsWriter.write(file, ldm);
        try (SingleFileCheckpoint ckpt = SingleFileCheckpoint.open(file, JSON.readTree(TinyModels.UNET_CONFIG),
                JSON.readTree(TinyModels.VAE_CONFIG), JSON.readTree("{\"num_hidden_layers\":1}"))) {
            assertEquals(SingleFileCheckpoint.ModelType.V2, ckpt.modelType());
            WeightSource te = ckpt.textEncoder();
            assertEquals(new TreeSet<>(List.of("text_model.embeddings.position_embedding.weight",
                    "text_model.encoder.layers.0.self_attn.q_proj.weight", "text_model.encoder.layers.0.self_attn.k_proj.weight",
                    "text_model.encoder.layers.0.self_attn.v_proj.weight", "text_model.encoder.layers.0.self_attn.q_proj.bias",
                    "text_model.encoder.layers.0.self_attn.k_proj.bias", "text_model.encoder.layers.0.self_attn.v_proj.bias",
                    "text_model.encoder.layers.0.mlp.fc1.weight", "text_model.encoder.layers.0.layer_norm2.bias")), new TreeSet<>(te.names()));
            Tensor fused = ldm.get(o + "transformer.resblocks.0.attn.in_proj_weight");
            String[] qkv = {"q", "k", "v"};
            for (int i = 0; i < 3; i++) {
                try (Tensor t = te.read("text_model.encoder.layers.0.self_attn." + qkv[i] + "_proj.weight")) {
                    assertArrayEquals(new long[]{4, 4}, t.sizes().vec().get());
                    assertTrue(t.equal(fused.narrow(0, 4L * i, 4)), qkv[i]);
                }
            }
        }
    }

    @Test void detectionAndBundledConfigs() throws IOException {
        Map<String, Tensor> ldm = new LinkedHashMap<>();
        ldm.put(SingleFileCheckpoint.INPAINT_KEY, torch.zeros(4, 9, 3, 3));
        ldm.put("model.diffusion_model.output_blocks.11.0.skip_connection.weight", torch.zeros(2, 2));
        Path file = dir.resolve("inpaint.safetensors");
        SafetensorsWriter.write(file, ldm);
        try (SingleFileCheckpoint ckpt = SingleFileCheckpoint.open(file)) {
            assertEquals(SingleFileCheckpoint.ModelType.INPAINTING, ckpt.modelType());
            assertEquals(9, ckpt.unetConfig().get("in_channels").intValue());
            assertEquals(768, ckpt.unetConfig().get("cross_attention_dim").intValue());
            assertEquals("PNDMScheduler", ckpt.schedulerConfig().get("_class_name").textValue());
            assertEquals(0.18215, ckpt.vaeConfig().get("scaling_factor").doubleValue());
            assertTrue(ckpt.unet().contains("up_blocks.3.resnets.2.conv_shortcut.weight"));
            WeightFormatException e = assertThrows(WeightFormatException.class, () -> ckpt.tokenizerFolder(null));
            assertTrue(e.getMessage().contains("vocab.json") && e.getMessage().contains("openai/clip-vit-large-patch14"), e.getMessage());
        }
        assertEquals(1024, BundledConfigs.load("sd21", "unet/config.json").get("cross_attention_dim").intValue());
        assertEquals("v_prediction", BundledConfigs.load("sd21", "scheduler/scheduler_config.json").get("prediction_type").textValue());
        assertEquals(23, BundledConfigs.load("sd21", "text_encoder/config.json").get("num_hidden_layers").intValue());
    }

    @Test void picklesAndForeignFilesAreRefused() throws IOException {
        Path ckpt = dir.resolve("v1-5-pruned.ckpt");
        Files.write(ckpt, new byte[]{(byte) 0x80, 2});
        WeightFormatException e = assertThrows(WeightFormatException.class, () -> SingleFileCheckpoint.open(ckpt));
        assertTrue(e.getMessage().contains("v1-5-pruned.ckpt") && e.getMessage().contains("legacy"), e.getMessage());
        Path other = dir.resolve("other.safetensors");
        SafetensorsWriter.write(other, Map.of("x", torch.zeros(1)));
        e = assertThrows(WeightFormatException.class, () -> SingleFileCheckpoint.open(other));
        assertTrue(e.getMessage().contains("not an original-LDM"), e.getMessage());
    }
}
