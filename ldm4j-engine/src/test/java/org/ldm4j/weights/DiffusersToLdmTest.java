package org.ldm4j.weights;

import com.fasterxml.jackson.databind.json.JsonMapper;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.ldm4j.pipeline.TinyStableDiffusion;

import java.io.IOException;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.*;

class DiffusersToLdmTest {
    @TempDir Path dir;
    static final JsonMapper JSON = new JsonMapper();

    @BeforeAll static void threads() { torch.set_num_threads(1); }

    /** The name pairs TinyModels generates forward from the architecture, read right to left. */
    @Test void invertsTheArchitecturePairs() {
        for (TinyModels.Pair p : TinyModels.unet(3, 1, 4)) {
            assertEquals(p.ldm(), LdmToDiffusers.UNET_PREFIX + DiffusersToLdm.unetName(p.diffusers(), 1, b -> b > 0), p.diffusers());
        }
        for (TinyModels.Pair p : TinyModels.vae(2, 1)) {
            assertEquals(p.ldm(), "first_stage_model." + DiffusersToLdm.vaeName(p.diffusers(), 2), p.diffusers());
        }
    }

    /** SD 1.5 (layers_per_block 2, attention in up blocks 1-3): the inverse of LdmToDiffusersTest's table. */
    @ParameterizedTest
    @CsvSource({
            "down_blocks.0.attentions.1.transformer_blocks.0.attn2.to_k.weight, input_blocks.2.1.transformer_blocks.0.attn2.to_k.weight",
            "down_blocks.0.downsamplers.0.conv.weight, input_blocks.3.0.op.weight",
            "down_blocks.3.resnets.1.time_emb_proj.weight, input_blocks.11.0.emb_layers.1.weight",
            "mid_block.resnets.1.conv2.bias, middle_block.2.out_layers.3.bias",
            "up_blocks.0.upsamplers.0.conv.weight, output_blocks.2.1.conv.weight",
            "up_blocks.1.upsamplers.0.conv.bias, output_blocks.5.2.conv.bias",
            "up_blocks.3.resnets.2.conv_shortcut.weight, output_blocks.11.0.skip_connection.weight",
            "time_embedding.linear_2.bias, time_embed.2.bias"})
    void sd15UnetNames(String diffusers, String ldm) {
        String back = DiffusersToLdm.unetName(diffusers, 2, b -> b > 0);
        assertEquals(ldm, back);
        assertEquals(diffusers, LdmToDiffusers.unetName(back, 2));
    }

    @Test void unknownNamesAreErrorsNotSilentDrops() {
        WeightFormatException e = assertThrows(WeightFormatException.class, () -> DiffusersToLdm.unetName("add_embedding.linear_1.weight", 2, b -> true));
        assertTrue(e.getMessage().contains("add_embedding.linear_1.weight"), e.getMessage());
        e = assertThrows(WeightFormatException.class, () -> DiffusersToLdm.vaeName("decoder.up_blocks.4.resnets.0.conv1.weight", 4));
        assertTrue(e.getMessage().contains("block 4"), e.getMessage());
    }

    /** Folder to single file and back through SingleFileCheckpoint: every tensor of every component is unchanged. */
    @Test void tinyModelRoundTripsThroughASingleFile() throws IOException {
        Path file = TinyStableDiffusion.writeSingleFile(dir, 0, "tiny.safetensors");
        // a scheduler config unlike the bundled SD 1.5 one, to see that the config folder's is used
        java.nio.file.Files.writeString(dir.resolve("configs/scheduler/scheduler_config.json"),
                "{\"_class_name\": \"DDIMScheduler\", \"beta_end\": 0.02}");
        DiffusersFolder folder = DiffusersFolder.open(dir.resolve("diffusers"));
        try (SingleFileCheckpoint ckpt = SingleFileCheckpoint.open(file, dir.resolve("configs"));
             SafetensorsFile raw = SafetensorsFile.open(file)) {
            assertTrue(raw.names().stream().anyMatch(n -> n.startsWith("first_stage_model.decoder.up.1.upsample.conv.")));
            assertArrayEquals(new long[]{32, 32, 1, 1}, raw.info("first_stage_model.encoder.mid.attn_1.q.weight").shape());
            Map<String, WeightSource> back = Map.of("unet", ckpt.unet(), "vae", ckpt.vae(), "text_encoder", ckpt.textEncoder());
            int total = 0;
            for (String component : List.of("unet", "vae", "text_encoder")) {
                try (WeightSource original = folder.weights(component)) {
                    WeightSource converted = back.get(component);
                    assertEquals(new java.util.TreeSet<>(original.names()), new java.util.TreeSet<>(converted.names()), component);
                    for (String n : original.names()) {
                        try (Tensor a = original.read(n); Tensor b = converted.read(n)) {
                            assertTrue(a.equal(b), component + " " + n);
                        }
                        total++;
                    }
                }
            }
            assertEquals(raw.names().size(), total);
            assertEquals("DDIMScheduler", ckpt.schedulerConfig().get("_class_name").textValue());
            assertEquals(0.02, ckpt.schedulerConfig().get("beta_end").doubleValue());
        }
    }
}
