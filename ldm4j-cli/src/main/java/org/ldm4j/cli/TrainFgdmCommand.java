package org.ldm4j.cli;

import com.fasterxml.jackson.databind.JsonNode;
import org.bytedeco.pytorch.global.torch;
import org.ldm4j.nn.Block;
import org.ldm4j.nn.Dtypes;
import org.ldm4j.pipeline.ModelLoader;
import org.ldm4j.pipeline.StableDiffusion;
import org.ldm4j.train.Trainer;
import org.ldm4j.train.toyworld.ControlNetWithUnetCopy;
import org.ldm4j.train.toyworld.FgdmFactorKind;
import org.ldm4j.train.toyworld.FgdmExport;
import org.ldm4j.train.toyworld.FgdmTrainingSettings;
import org.ldm4j.train.toyworld.SceneBatches;
import org.ldm4j.train.toyworld.ToyWorldFgdmFactor;
import org.ldm4j.weights.DiffusersFolder;
import org.ldm4j.weights.WeightLoader;
import org.ldm4j.weights.WeightSource;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;

/** {@code ldm4j train fgdm}: one FG-DM factor (seg, depth or image) over the frozen ToyWorld LDM; resumable. */
@Command(name = "fgdm", mixinStandardHelpOptions = true,
        description = "Train one ToyWorld FG-DM factor over the frozen base LDM: seg (TimeAdapter on its noisy latent, "
                + "optional attention distillation), depth (TimeAdapter on the seg latent) or image (ControlNet on the seg map); resumable.",
        footer = {"", "Example:",
                "  ldm4j train fgdm --factor seg --config configs/train/toyworld-fgdm-seg.json --run runs/toyworld-fgdm-seg --base models/toyworld-ldm",
                "  ldm4j train fgdm --factor seg --config configs/train/toyworld-fgdm-seg.json --run runs/toyworld-fgdm-seg --base models/toyworld-ldm --export models/toyworld-fgdm"})
final class TrainFgdmCommand implements Callable<Integer> {
    @Mixin TrainRun train;
    @Option(names = "--factor", required = true, description = "The factor to train: seg, depth, sketch, normal or image.") String factor;
    @Option(names = "--base", required = true, description = "The frozen base model (a diffusers folder, e.g. models/toyworld-ldm).") Path base;
    @Option(names = "--export", description = "Write the EMA weights (fp16) into this FG-DM folder (adding/replacing the factor in fgdm.json) and exit.")
    Path export;

    @Override
    public Integer call() throws Exception {
        FgdmFactorKind kind;
        try {
            kind = FgdmFactorKind.of(factor.toLowerCase(Locale.ROOT));
        } catch (IllegalArgumentException e) {
            throw new Ldm4j.UsageError("--factor: " + e.getMessage());
        }
        JsonNode c = train.start();
        if (!Files.isRegularFile(base.resolve("model_index.json"))) {
            throw new Ldm4j.UsageError("no base model at " + base + " (model_index.json missing): train it with 'ldm4j train ldm' first");
        }
        StableDiffusion sd = ModelLoader.load(base.toString(), Dtypes.device("cpu"), torch.ScalarType.Float);
        FgdmTrainingSettings settings = FgdmTrainingSettings.parse(c, train.config.toString(), kind, sd.defaultSize(), sd.vaeScaleFactor());
        torch.manual_seed(c.path("seed").asLong(0));
        Block branch = ToyWorldFgdmFactor.newBranch(sd, settings);
        if (c.hasNonNull("init")) initialise(branch, settings, Path.of(c.get("init").asText()));
        Trainer trainer = new Trainer(branch, train.options(c));   // a resumed run then loads its checkpoint over the init
        if (export != null) {
            ToyWorldFgdmFactor.useEma(branch, trainer);
            FgdmExport.export(export, settings, branch, base, Map.of("step", Long.toString(trainer.step())));
            System.out.printf(Locale.ROOT, "exported factor %s (step %d, %.2f M parameters, fp16) to %s%n",
                    kind.id(), trainer.step(), branch.parameterCount() / 1e6, export.resolve(settings.weights()));
            return 0;
        }
        ToyWorldFgdmFactor objective = new ToyWorldFgdmFactor(sd, settings, branch,
                new SceneBatches(c.path("batch_size").asInt(16), settings.imageSize(), c.path("first_seed").asLong(0)));
        System.out.printf(Locale.ROOT, "factor %s: %.2f M trainable parameters over a frozen %s%s; attention distillation %s%n",
                kind.id(), branch.parameterCount() / 1e6, base, switch (settings.unetCopy()) {
                    case NONE -> "";
                    case DECODER -> " (its UNet's decoder trains, in a copy)";
                    case WHOLE -> " (its UNet trains, in a copy)";
                },
                settings.distillWeight() > 0 ? String.format(Locale.ROOT, "weight %.3g every %d steps", settings.distillWeight(), settings.distillEvery()) : "off");
        double loss = trainer.run(objective, train.lastStep(c));
        System.out.println(TrainRun.closingLine(trainer.step(), loss));
        return 0;
    }

    /**
     * Config key {@code init}: starts the branch from the same factor of a trained FG-DM folder (e.g. to fine-tune the
     * factors after their base model was fine-tuned), strictly: every tensor by name and shape, nothing left over. An
     * image factor with its decoder unlocked takes its ControlNet from there, and its UNet too when the folder has one.
     */
    static void initialise(Block branch, FgdmTrainingSettings settings, Path folder) throws java.io.IOException {
        FgdmFactorKind kind = settings.kind();
        Path weights = folder.resolve(settings.weights());
        if (!Files.exists(weights)) {
            throw new Ldm4j.UsageError("'init' " + folder + " has no " + kind.id() + " factor (" + weights + " missing)");
        }
        ControlNetWithUnetCopy unlocked = branch instanceof ControlNetWithUnetCopy u ? u : null;
        Block target = unlocked != null ? unlocked.controlNet : branch;
        try (WeightSource source = Files.isDirectory(weights) ? DiffusersFolder.findWeights(weights, null) : WeightSource.open(weights)) {
            WeightLoader.load(target, source, "fgdm " + kind.id() + " factor");
        }
        // an unlocked UNet copy starts from the folder's own UNet when it has one (a later stage), else from the base's
        if (unlocked != null && Files.isRegularFile(folder.resolve(settings.unetWeights()).resolve("config.json"))) {
            try (WeightSource source = DiffusersFolder.findWeights(folder.resolve(settings.unetWeights()), null)) {
                WeightLoader.load(unlocked.unet, source, "fgdm " + kind.id() + " factor's UNet");
            }
        }
    }
}
