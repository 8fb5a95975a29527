package org.ldm4j.schedulers;

import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.*;
import static org.ldm4j.schedulers.SchedulerFixtures.*;

/** The enum, config loading as diffusers' from_config, img2img start index, and timestep invariants. */
class SchedulersTest {
    @BeforeAll static void threads() { torch.set_num_threads(1); }

    /** Stable Diffusion 1.x {@code scheduler/scheduler_config.json}, plus a key no scheduler knows. */
    static final String SD_PNDM = """
            {"_class_name": "PNDMScheduler", "_diffusers_version": "0.6.0", "beta_end": 0.012,
             "beta_schedule": "scaled_linear", "beta_start": 0.00085, "num_train_timesteps": 1000,
             "set_alpha_to_one": false, "skip_prk_steps": true, "steps_offset": 1, "clip_sample": false,
             "trained_betas": null, "some_future_key": [1, 2]}""";

    @Test void aliasesLabelsAndClassNames() {
        String[][] expected = {{"ddim", "DDIM", "DDIMScheduler"}, {"pndm", "PLMS", "PNDMScheduler"},
                {"euler", "Euler", "EulerDiscreteScheduler"}, {"euler-a", "Euler a", "EulerAncestralDiscreteScheduler"},
                {"dpm++2m", "DPM++ 2M", "DPMSolverMultistepScheduler"}, {"ddpm", "DDPM", "DDPMScheduler"},
                {"lms", "LMS", "LMSDiscreteScheduler"}};
        for (String[] e : expected) {
            Schedulers s = Schedulers.fromAlias(e[0]);
            assertEquals(e[1], s.a1111Label());
            assertEquals(e[2], s.className());
            assertSame(s, Schedulers.fromAlias(e[1]));
            assertSame(s, Schedulers.fromClassName(e[2]));
        }
        IllegalArgumentException ex = assertThrows(IllegalArgumentException.class, () -> Schedulers.fromAlias("heun"));
        assertTrue(ex.getMessage().contains("heun") && ex.getMessage().contains("euler-a") && ex.getMessage().contains("dpm++2m"));
    }

    @Test void loadsStableDiffusionConfigAndSwitchesKeepingBetas(@TempDir Path dir) throws IOException {
        Path file = dir.resolve("scheduler_config.json");
        Files.writeString(file, SD_PNDM);
        SchedulerConfig pndm = Schedulers.load(file);
        assertInstanceOf(PNDMScheduler.Config.class, pndm);
        float[] betas = pndm.noiseSchedule().betas();
        for (Schedulers kind : Schedulers.values()) {
            SchedulerConfig switched = Schedulers.load(file, kind);
            assertInstanceOf(kind.configClass(), switched);
            assertArrayEquals(betas, switched.noiseSchedule().betas(), kind + " keeps SD's betas");
            assertArrayEquals(betas, kind.fromConfig(pndm).noiseSchedule().betas(), kind + " from_config keeps betas");
        }
        // DDIM from SD's config: "leading" with steps_offset 1, diffusers' 981 ... 1
        double[] ts = Schedulers.load(file, Schedulers.DDIM).create(50, seed0()).timesteps();
        assertEquals(981, ts[0]);
        assertEquals(1, ts[49]);
        // Euler takes its own default spacing ("linspace"): first timestep 999
        assertEquals(999, Schedulers.load(file, Schedulers.EULER).create(50, seed0()).timesteps()[0]);
    }

    @Test void unsupportedValuesNameTheirKey(@TempDir Path dir) throws IOException {
        Path file = dir.resolve("scheduler_config.json");
        Files.writeString(file, "{\"_class_name\": \"DDIMScheduler\", \"beta_schedule\": \"sigmoid\"}");
        IllegalArgumentException ex = assertThrows(IllegalArgumentException.class, () -> Schedulers.load(file));
        assertTrue(ex.getMessage().contains("'beta_schedule'") && ex.getMessage().contains(file.toString()), ex.getMessage());
        assertTrue(assertThrows(IllegalArgumentException.class, () -> Schedulers.DDPM.read("{\"variance_type\": \"learned\"}"))
                .getMessage().contains("'variance_type'"));
        assertTrue(assertThrows(IllegalArgumentException.class, () -> Schedulers.EULER.read("{\"use_beta_sigmas\": true}"))
                .getMessage().contains("'use_beta_sigmas'"));
        assertTrue(assertThrows(IllegalArgumentException.class, () -> Schedulers.DDIM.read("{\"timestep_spacing\": \"random\"}"))
                .getMessage().contains("'timestep_spacing'"));
        Files.writeString(file, "{\"_class_name\": \"HeunDiscreteScheduler\"}");
        assertTrue(assertThrows(IllegalArgumentException.class, () -> Schedulers.load(file)).getMessage().contains("'_class_name'"));
    }

    /**
     * A model's scheduler config is checked when it loads ({@link Schedulers#check}): each bad value is one line naming
     * the file and the key, the "scheduler config" prefix not repeated; a class not implemented here is left alone.
     */
    @Test void checkNamesTheFileAndKeyOnOneLine() throws IOException {
        com.fasterxml.jackson.databind.ObjectMapper json = new com.fasterxml.jackson.databind.ObjectMapper();
        String base = "{\"_class_name\": \"DDIMScheduler\", \"beta_schedule\": \"scaled_linear\"";
        String file = "m/scheduler/scheduler_config.json";
        java.util.Map<String, String> cases = java.util.Map.of(
                ", \"beta_schedule\": \"cosine_bogus\"}", file + ": key 'beta_schedule': 'cosine_bogus' is not supported (expected one of "
                        + "[linear, scaled_linear, squaredcos_cap_v2])",
                ", \"num_train_timesteps\": -5}", file + ": key 'num_train_timesteps': must be >= 1, got -5",
                ", \"clip_sample\": \"no\"}", file + ": key 'clip_sample': expected true or false, got \"no\"");
        for (var c : cases.entrySet()) {
            com.fasterxml.jackson.databind.JsonNode config = json.readTree(base + c.getKey());
            assertEquals(c.getValue(), assertThrows(IllegalArgumentException.class, () -> Schedulers.check(config, file)).getMessage());
        }
        Schedulers.check(json.readTree("{\"_class_name\": \"HeunDiscreteScheduler\", \"beta_schedule\": \"x\"}"), file);
        Schedulers.check(json.readTree(base + "}"), file);
        String unnamed = assertThrows(IllegalArgumentException.class, () -> Schedulers.DDPM.read("{\"variance_type\": \"learned\"}")).getMessage();
        assertTrue(unnamed.startsWith("scheduler config: key 'variance_type': 'learned' is not supported"), unnamed);
    }

    @Test void timestepsStrictlyDecreaseForEverySpacing() {
        for (Schedulers kind : Schedulers.values()) {
            if (kind == Schedulers.PNDM) continue;          // repeats a timestep by design (checked in its test)
            for (String spacing : TimestepSpacing.NAMES) {
                for (int steps : new int[]{1, 3, 10, 25, 50}) {
                    double[] ts = config(kind, "timestep_spacing", spacing, "steps_offset", 1).create(steps, seed0()).timesteps();
                    assertEquals(steps, ts.length, kind + " " + spacing + " " + steps);
                    for (int i = 1; i < ts.length; i++) {
                        assertTrue(ts[i] < ts[i - 1], kind + " " + spacing + " " + steps + " at " + i);
                    }
                    assertTrue(ts[0] <= 1000 && ts[ts.length - 1] >= 0);
                }
            }
        }
    }

    @Test void addNoiseAtTheSmallestTimestepIsNearlyIdentity() {
        Tensor x0 = dummySampleDeter(), noise = dummyNoiseDeter();
        for (Schedulers kind : Schedulers.values()) {
            SchedulerConfig c = config(kind, "beta_schedule", "scaled_linear", "beta_start", 0.00085, "beta_end", 0.012,
                    "timestep_spacing", "linspace", "skip_prk_steps", true);
            Scheduler s = c.create(1000, seed0());              // reaches t = 0 (DPM-Solver: t = 1)
            int last = s.timesteps().length - 1;
            double err = s.addNoise(x0, noise, last).sub(x0).abs().max().item_double();
            assertTrue(err < 0.05, kind + ": " + err);
            double first = s.addNoise(x0, noise, 0).sub(x0).abs().max().item_double();
            assertTrue(first > 0.5, kind + " first step is mostly noise: " + first);
        }
    }

    @Test void img2imgStartIndexAsDiffusers() {
        assertEquals(13, Schedulers.img2imgStartIndex(50, 0.75, 1));   // init 37, t_start 13
        assertEquals(0, Schedulers.img2imgStartIndex(50, 1.0, 1));
        assertEquals(50, Schedulers.img2imgStartIndex(50, 0.0, 1));
        assertEquals(6, Schedulers.img2imgStartIndex(10, 0.75, 2));     // int(7.5) = 7, t_start 3, order 2
        assertThrows(IllegalArgumentException.class, () -> Schedulers.img2imgStartIndex(50, 1.5, 1));
    }

    @Test void img2imgRunFromTheStartIndexOfEverySchedulerIsFinite() {
        for (Schedulers kind : Schedulers.values()) {
            Scheduler s = config(kind, "skip_prk_steps", true).create(10, seed0());
            int start = Schedulers.img2imgStartIndex(10, 0.6, s.order());
            Tensor out = fullLoop(s, false, start, true);
            assertEquals(0, out.isnan().any().item_double(), kind.alias());
        }
    }
}
