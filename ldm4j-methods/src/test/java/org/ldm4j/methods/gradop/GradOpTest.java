package org.ldm4j.methods.gradop;

import org.bytedeco.pytorch.Tensor;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.ldm4j.nn.Engine;
import org.ldm4j.pipeline.StableDiffusion;
import org.ldm4j.pipeline.TinyStableDiffusion;

import java.nio.file.Path;
import java.util.List;

import static org.junit.jupiter.api.Assertions.*;

/** Two-pass GradOP and the baselines on the tiny model. */
class GradOpTest {
    @TempDir static Path dir;
    static StableDiffusion sd;

    @BeforeAll static void load() throws Exception {
        Engine.threads(1);
        sd = TinyStableDiffusion.load(dir.resolve("tiny"), 0);
    }

    static GradOpSettings fast() {
        return GradOpSettings.defaults().withSteps(6).withGradSteps(8).withPainting(GradOpPlusTest.SMALL_BLUR);
    }

    static double diff(Tensor a, Tensor b) { return a.sub(b).abs().max().item_double(); }

    @Test void twoPassOptimisesTheTextOnlySampleThenProjectsIt() {
        StrokePrompt p = StrokePrompt.of("a red house", 3);
        Tensor y = GradOpPlusTest.painting(16, 16);
        GradOp.Result a = GradOp.run(sd, p, y, fast(), null, List.of(), null);
        GradOp.Result b = GradOp.run(sd, p, y, fast(), null, List.of(), null);
        assertEquals(0.0, diff(a.image(), b.image()), "deterministic by seed");
        assertTrue(diff(a.image(), GradOp.run(sd, p.withSeed(4), y, fast(), null, List.of(), null).image()) > 1e-4);
        assertEquals(8, a.optimisation().losses().length);
        assertTrue(a.optimisation().last() < a.optimisation().first(), "the surrogate objective decreases");
        // pass 1 is exactly a text-only sample of the same generator (zero grad steps, projection strength 0 = z̃ = z_τ)
        GradOp.Result identity = GradOp.run(sd, p, y, fast().withGradSteps(0).withProjectionStrength(0), null, List.of(), null);
        assertEquals(0.0, diff(identity.image(), identity.textOnly()));
        assertTrue(diff(a.image(), a.textOnly()) > 1e-4);
    }

    @Test void baselinesRunThroughTheEnginePipelines() {
        StrokePrompt p = StrokePrompt.of("a red house", 3);
        Tensor y = GradOpPlusTest.painting(16, 16);
        BaselineSettings s = BaselineSettings.official().withSteps(5).withIterations(2);
        Tensor sdedit = Stroke2ImgBaselines.sdedit(sd, p, y, s, List.of(), null);
        assertArrayEquals(new long[]{1, 3, 16, 16}, sdedit.sizes().vec().get());
        List<Tensor> rounds = Stroke2ImgBaselines.iterativeSdedit(sd, p, y, s, List.of(), null);
        assertEquals(2, rounds.size());
        assertEquals(0.0, diff(rounds.get(0), sdedit), "round 0 is SDEdit");
        assertTrue(diff(rounds.get(1), sdedit) > 1e-4);
        List<Tensor> text = Stroke2ImgBaselines.textOnly(sd, p, 16, 16, 3, s, List.of(), null);
        assertEquals(3, text.size());
        assertTrue(diff(text.get(0), text.get(1)) > 1e-4);
        assertThrows(IllegalArgumentException.class, () -> Stroke2ImgBaselines.sdedit(sd, p, GradOpPlusTest.painting(15, 16), s, List.of(), null));
    }
}
