package org.ldm4j.studio;

import org.bytedeco.pytorch.global.torch.ScalarType;
import org.bytedeco.pytorch.global.torch;
import org.ldm4j.methods.fgdm.FgdmFolder;
import org.ldm4j.nn.Dtypes;
import org.ldm4j.pipeline.ModelLoader;
import org.ldm4j.pipeline.StableDiffusion;
import org.ldm4j.pipeline.TinyStableDiffusion;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotSame;
import static org.junit.jupiter.api.Assertions.assertSame;

/** The studio serves an FG-DM folder on the model its factors were trained on, whatever the studio's own model is. */
class FactorGraphSourceTest {
    @TempDir Path dir;

    @Test
    void aFolderTrainedOnTheStudiosModelSharesItAndAnotherLoadsItsOwnBase() throws Exception {
        torch.set_num_threads(1);
        Path fgdm = StudioFixture.toyWorldFgdm();
        Path base = FgdmFolder.read(fgdm).baseModel();
        StableDiffusion shared = ModelLoader.load(base.toString(), Dtypes.device("cpu"), ScalarType.Float);
        assertSame(shared, FactorGraphSource.toyWorldFolder(fgdm, base.toString()).load(shared).graph().sd,
                "the folder's base_model is the studio's model: one copy in memory");

        Path tiny = TinyStableDiffusion.write(dir.resolve("tiny"), 3);
        StableDiffusion other = ModelLoader.load(tiny.toString(), Dtypes.device("cpu"), ScalarType.Float);
        StableDiffusion own = FactorGraphSource.toyWorldFolder(fgdm, tiny.toString()).load(other).graph().sd;
        assertNotSame(other, own, "factors trained on another base must not run on the studio's model");
        assertEquals(shared.latentChannels(), own.latentChannels());
        assertEquals(base.getFileName().toString(), own.name, "the folder's base_model, loaded beside the studio's model");
    }
}
