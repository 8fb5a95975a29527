package org.ldm4j.pipeline;

import org.bytedeco.pytorch.Scalar;
import org.bytedeco.pytorch.Tensor;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.ldm4j.nn.Engine;

import java.nio.file.Path;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** NaN/Inf in the latents stops {@link DenoisingLoop} at the step where it appears, naming the step and its source. */
class NonFiniteLatentsTest {
    @TempDir static Path dir;
    static StableDiffusion sd;

    @BeforeAll static void load() throws Exception {
        Engine.threads(1);
        sd = TinyStableDiffusion.load(dir.resolve("tiny"), 0);
    }

    static GenerationRequest request(int steps) {
        return new GenerationRequest("txt2img", "tiny", "a red house", "", 16, 16, steps, 5.0, "ddim", 3, 1, 0, 0, null, null);
    }

    /** Poisons the latents after the scheduler step of {@code at} (0-based) with {@code value}. */
    static StepHook poisonAfter(int at, double value) {
        return new StepHook() {
            @Override public Tensor afterStep(Tensor latents, Tensor x0, Step step) {
                return step.index() == at ? latents.mul(new Scalar(value)) : latents;
            }
        };
    }

    @Test void nanAfterAStepIsReportedWithThatStep() {
        NonFiniteLatentsException e = assertThrows(NonFiniteLatentsException.class,
                () -> Txt2Img.run(sd, request(6), List.of(poisonAfter(2, Double.NaN)), null));
        assertEquals(2, e.step);
        assertTrue(e.getMessage().contains("step 3 of 6") && e.getMessage().contains("scheduler step or a step hook"), e.getMessage());
    }

    @Test void infInTheModelInputIsBlamedOnTheDenoiserOutput() {
        StepHook inf = new StepHook() {
            @Override public Tensor beforeModel(Tensor latents, Step step) {
                return step.index() == 4 ? latents.mul(new Scalar(Double.POSITIVE_INFINITY)) : latents;
            }
        };
        NonFiniteLatentsException e = assertThrows(NonFiniteLatentsException.class,
                () -> Txt2Img.run(sd, request(6), List.of(inf), null));
        assertEquals(4, e.step);
        assertTrue(e.getMessage().contains("denoiser's output"), e.getMessage());
    }

    @Test void finiteRunsAreUnchanged() {
        Tensor a = Txt2Img.run(sd, request(4), List.of(), null).get(0);
        Tensor b = Txt2Img.run(sd, request(4), List.of(poisonAfter(1, 1.0)), null).get(0);
        assertEquals(0.0, a.sub(b).abs().max().item_double(), 0.0);
        assertTrue(a.isfinite().all().item_bool());
    }
}
