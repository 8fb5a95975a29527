package org.ldm4j.models;

import com.code_intelligence.jazzer.junit.DictionaryEntries;
import com.code_intelligence.jazzer.junit.FuzzTest;
import org.junit.jupiter.api.BeforeAll;
import org.ldm4j.models.clip.CLIPTextConfig;
import org.ldm4j.models.unet.UNet2DConditionConfig;
import org.ldm4j.models.vae.AutoencoderKLConfig;
import org.ldm4j.reliability.FuzzContract;
import org.ldm4j.schedulers.SchedulerConfig;
import org.ldm4j.schedulers.Schedulers;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Fuzzes the diffusers {@code config.json} readers with one input parsed as each of the four component configs:
 * {@link UNet2DConditionConfig#parse}, {@link AutoencoderKLConfig#parse}, {@link CLIPTextConfig#parse} and
 * {@link Schedulers#load} (file, {@code _class_name} picks the class), then uses what the model builders use
 * (per-block lists, head sizes, the noise schedule). Contract: each documents IllegalArgumentException naming the key
 * for bad or unsupported values; nothing else may escape, and a config that parses must build a usable noise schedule
 * without a huge allocation (Jazzer's -Xmx and timeout catch one).
 */
class DiffusersConfigFuzzTest {
    private static Path schedulerFile;

    @BeforeAll static void setUp() throws IOException {
        schedulerFile = FuzzContract.scratchFile("-scheduler_config.json");
    }

    @FuzzTest(maxDuration = "5m")
    @DictionaryEntries({"\"block_out_channels\"", "\"down_block_types\"", "\"up_block_types\"", "\"CrossAttnDownBlock2D\"",
            "\"DownBlock2D\"", "\"UpBlock2D\"", "\"CrossAttnUpBlock2D\"", "\"DownEncoderBlock2D\"", "\"UpDecoderBlock2D\"",
            "\"attention_head_dim\"", "\"num_attention_heads\"", "\"norm_num_groups\"", "\"layers_per_block\"",
            "\"cross_attention_dim\"", "\"hidden_size\"", "\"_class_name\"", "\"DDIMScheduler\"", "\"EulerDiscreteScheduler\"",
            "\"PNDMScheduler\"", "\"num_train_timesteps\"", "\"beta_schedule\"", "\"trained_betas\"", "\"scaled_linear\"",
            "\"squaredcos_cap_v2\"", "null", "2147483647", "-1", "1e308"})
    void parseAsEveryComponent(byte[] bytes) throws IOException {
        String json = new String(bytes, StandardCharsets.UTF_8);
        FuzzContract.check("UNet2DConditionConfig", () -> {
            UNet2DConditionConfig c = UNet2DConditionConfig.parse(json, "fuzz");
            assertTrue(c.blockCount() > 0 || c.blockCount() == 0);
            c.headsPerBlock();
            c.layersPerBlockList();
            c.crossAttentionDimPerBlock();
            c.transformerLayersPerBlockList();
            c.timeEmbedDim();
        }, IllegalArgumentException.class);
        FuzzContract.check("AutoencoderKLConfig", () -> {
            AutoencoderKLConfig c = AutoencoderKLConfig.parse(json);
            assertTrue(c.downscaleFactor() >= 1);
        }, IllegalArgumentException.class);
        FuzzContract.check("CLIPTextConfig", () -> {
            CLIPTextConfig c = CLIPTextConfig.parse(json);
            assertTrue(c.headDim() >= 1);
        }, IllegalArgumentException.class);
        Files.write(schedulerFile, bytes);
        FuzzContract.check("Schedulers.load", () -> {
            SchedulerConfig c = Schedulers.load(schedulerFile);
            assertTrue(c.noiseSchedule().numTrainTimesteps() >= 1);
        }, IllegalArgumentException.class);
    }
}
