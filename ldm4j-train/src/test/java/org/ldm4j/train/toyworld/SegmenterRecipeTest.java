package org.ldm4j.train.toyworld;

import org.bytedeco.pytorch.global.torch;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.ldm4j.toyworld.ToyClass;
import org.ldm4j.toyworld.eval.SegmenterConfig;
import org.ldm4j.toyworld.eval.ToyWorldSegmenter;
import org.ldm4j.train.LrSchedule;
import org.ldm4j.train.Trainer;

import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.assertTrue;

class SegmenterRecipeTest {
    @Test
    void crossEntropyFallsAndExportLoads(@TempDir Path dir) throws Exception {
        torch.set_num_threads(1);
        torch.manual_seed(0);
        ToyWorldSegmenter model = new ToyWorldSegmenter(new SegmenterConfig(new int[]{8, 16}, ToyClass.count(), 4));
        Trainer.Options o = new Trainer.Options(40, new LrSchedule(3e-3, 0, 40, false, 1), 1.0, 0.9, 0, 40, 10, 1, dir.resolve("run"));
        Trainer trainer = new Trainer(model, o);
        SegmenterRecipe recipe = new SegmenterRecipe(model, new SceneBatches(4, 32), 0.1);
        double first = recipe.loss(0, new org.ldm4j.nn.Rng(1)).item_double();
        double last = trainer.run(recipe, 40);
        assertTrue(last < 0.8 * first, "cross-entropy " + first + " -> " + last);
        SegmenterRecipe.export(model, trainer, dir.resolve("model"), 32);
        assertTrue(ToyWorldSegmenter.load(dir.resolve("model")).parameterCount() == model.parameterCount());
    }
}
