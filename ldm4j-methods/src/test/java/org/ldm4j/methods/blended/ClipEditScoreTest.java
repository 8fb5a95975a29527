package org.ldm4j.methods.blended;

import org.bytedeco.pytorch.Device;
import org.bytedeco.pytorch.InferenceMode;
import org.bytedeco.pytorch.Scalar;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.ldm4j.models.clip.CLIPModel;
import org.ldm4j.models.clip.TinyClip;
import org.ldm4j.nn.Engine;
import org.ldm4j.nn.Rng;
import org.ldm4j.nn.Tensors;

import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.*;

/** The official CLIP ranking's preprocessing and score on a tiny random CLIP (no semantics: the arithmetic only). */
class ClipEditScoreTest {
    @TempDir static Path dir;
    static ClipEditScore scorer;
    static CLIPModel clip;
    static Tensor mask;   // (1, 1, 16, 16): rows/cols 4..11

    @BeforeAll static void load() throws Exception {
        Engine.threads(1);
        torch.manual_seed(0);
        TinyClip.write(dir.resolve("clip"));
        scorer = ClipEditScore.load(dir.resolve("clip").toString(), new Device("cpu"));
        clip = CLIPModel.load(dir.resolve("clip"), new Device("cpu"), torch.ScalarType.Float);
        mask = torch.zeros(1, 1, 16, 16);
        mask.narrow(2, 4, 8).narrow(3, 4, 8).fill_(new Scalar(0.7));   // soft values binarise at 0.5
    }

    /** [-1, 1] -> [0, 1], clamped, background black, bilinear to 32x32 (no antialias), CLIP mean/std. */
    @Test void theInputIsTheMaskedSampleResizedAndNormalised() {
        try (InferenceMode im = new InferenceMode()) {
            Tensor edited = new Rng(1).randn(1, 3, 16, 16).mul(new Scalar(1.5));    // some values out of range
            Tensor input = scorer.clipInput(edited, mask);
            assertArrayEquals(new long[]{1, 3, 32, 32}, input.sizes().vec().get());
            Tensor unit = edited.add(new Scalar(1)).mul(new Scalar(0.5)).clamp(new org.bytedeco.pytorch.ScalarOptional(new Scalar(0.0)),
                    new org.bytedeco.pytorch.ScalarOptional(new Scalar(1.0)));
            Tensor binary = mask.gt(new Scalar(0)).to(torch.ScalarType.Float);
            Tensor expected = torch.upsample_bilinear2d(unit.mul(binary), new long[]{32, 32}, false)
                    .sub(Tensors.ofFloats(new float[]{0.48145466f, 0.4578275f, 0.40821073f}, 1, 3, 1, 1))
                    .div(Tensors.ofFloats(new float[]{0.26862954f, 0.26130258f, 0.27577711f}, 1, 3, 1, 1));
            assertTrue(input.sub(expected).abs().max().item_double() < 1e-6);
            // a corner far from the mask is black: (0 - mean) / std in every channel
            assertEquals(-0.48145466 / 0.26862954, input.get(0).get(0).get(0).get(0).item_double(), 1e-5);
        }
    }

    /** The score is the cosine of the image and prompt embeddings, and reads the masked region only. */
    @Test void theScoreIsTheCosineInsideTheMaskOnly() {
        try (InferenceMode im = new InferenceMode()) {
            Tensor edited = new Rng(2).randn(1, 3, 16, 16).clamp(new org.bytedeco.pytorch.ScalarOptional(new Scalar(-1.0)),
                    new org.bytedeco.pytorch.ScalarOptional(new Scalar(1.0)));
            double s = scorer.score(edited, edited, mask, "a red car");
            assertTrue(s >= -1 && s <= 1, "a cosine: " + s);
            Tensor otherOutside = edited.mul(mask.gt(new Scalar(0)).to(torch.ScalarType.Float));   // outside zeroed
            assertEquals(s, scorer.score(otherOutside, edited, mask, "a red car"), 1e-6, "the outside does not count");
            Tensor otherInside = edited.neg();
            assertNotEquals(s, scorer.score(otherInside, edited, mask, "a red car"), 1e-6, "the inside does");
            assertNotEquals(s, scorer.score(edited, edited, mask, "a blue boat"), 1e-6, "the prompt does");
            assertEquals("clip", scorer.name());
        }
    }

    @Test void aSpecThatIsNeitherAFolderNorAnIdIsNamed() {
        Exception e = assertThrows(java.nio.file.NoSuchFileException.class, () -> ClipEditScore.load("./no/such/clip", new Device("cpu")));
        assertTrue(e.getMessage().contains("./no/such/clip"), e.getMessage());
    }
}
