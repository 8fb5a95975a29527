package org.ldm4j.cli;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import org.ldm4j.toyworld.AtomicPng;
import org.ldm4j.toyworld.ContactSheet;
import org.ldm4j.toyworld.DatasetSplit;
import org.ldm4j.toyworld.DatasetWriter;
import org.ldm4j.toyworld.PaintingOptions;
import org.ldm4j.toyworld.Scene;
import org.ldm4j.toyworld.SceneOptions;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** {@code ldm4j toyworld ...}: the procedural ToyWorld domain (no model, no download). */
@Command(name = "toyworld", mixinStandardHelpOptions = true,
        description = "ToyWorld: procedural scenes with captions and exact condition maps.",
        subcommands = {ToyWorldCommand.Sample.class, ToyWorldCommand.Dataset.class})
public final class ToyWorldCommand implements Runnable {
    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Override
    public void run() { spec.commandLine().usage(System.out); }

    @Command(name = "sample", mixinStandardHelpOptions = true,
            description = "Write scenes with all their maps and paintings, an index.jsonl and a contact sheet.")
    static final class Sample implements Callable<Integer> {
        @Option(names = "--n", defaultValue = "16", description = "number of scenes (default ${DEFAULT-VALUE})")
        int n;
        @Option(names = "--out", required = true, description = "output folder")
        Path out;
        @Option(names = "--size", defaultValue = "64", description = "image size, a multiple of 16 in 16..256 (default ${DEFAULT-VALUE})")
        int size;
        @Option(names = "--seed", defaultValue = "0", description = "first seed (default ${DEFAULT-VALUE})")
        long seed;
        @Option(names = "--zoom", defaultValue = "0", description = "contact sheet enlargement, 0 = automatic")
        int zoom;

        @Override
        public Integer call() throws Exception {
            if (n < 1) throw new CommandLine.ParameterException(new CommandLine(this), "--n must be >= 1, got " + n);
            SceneOptions options = sceneOptions(size);
            List<Scene> scenes = new ArrayList<>();
            DatasetWriter.writeFolder(out, seed, n, options, PaintingOptions.defaults(), scenes::add);
            Path sheet = out.resolve("contact_sheet.png");
            int z = zoom > 0 ? zoom : Math.max(1, 192 / size);
            AtomicPng.write(ContactSheet.of(scenes, z, PaintingOptions.defaults()), sheet);
            System.out.println("Wrote " + n + " ToyWorld scenes (" + size + "x" + size + ", seeds " + seed + ".." + (seed + n - 1) + ") to "
                    + out.toAbsolutePath() + " (index.jsonl, vocabulary.txt, palette.json)");
            System.out.println("Contact sheet (rows = scenes; columns = " + String.join(" | ", ContactSheet.COLUMNS) + "): " + sheet.toAbsolutePath());
            return 0;
        }
    }

    @Command(name = "dataset", mixinStandardHelpOptions = true,
            description = "Write train/validation/test splits (seeds 0.., 1000000.., 2000000..) with index.jsonl files.")
    static final class Dataset implements Callable<Integer> {
        @Option(names = "--out", required = true, description = "dataset root folder")
        Path out;
        @Option(names = "--train", defaultValue = "1000", description = "training scenes (default ${DEFAULT-VALUE})")
        int train;
        @Option(names = "--validation", defaultValue = "100", description = "validation scenes (default ${DEFAULT-VALUE})")
        int validation;
        @Option(names = "--test", defaultValue = "100", description = "test scenes (default ${DEFAULT-VALUE})")
        int test;
        @Option(names = "--size", defaultValue = "64", description = "image size (default ${DEFAULT-VALUE})")
        int size;

        @Override
        public Integer call() throws Exception {
            int[] counts = {train, validation, test};
            DatasetSplit[] splits = DatasetSplit.values();
            for (int i = 0; i < splits.length; i++) {   // all checked before any split is written
                if (counts[i] < 0 || counts[i] > DatasetSplit.MAX_SCENES) {
                    throw new Ldm4j.UsageError("--" + splits[i].folder() + " must be in 0.." + DatasetSplit.MAX_SCENES + " scenes, got " + counts[i]);
                }
            }
            SceneOptions options = sceneOptions(size);
            for (int i = 0; i < splits.length; i++) {
                Path dir = DatasetWriter.write(out, splits[i], counts[i], options, PaintingOptions.defaults());
                System.out.println(splits[i].folder() + ": " + counts[i] + " scenes, seeds from " + splits[i].firstSeed() + " -> " + dir.toAbsolutePath());
            }
            return 0;
        }
    }

    /** Square scenes of {@code --size}; a size ToyWorld cannot draw is a usage error naming the option. */
    static SceneOptions sceneOptions(int size) {
        try {
            return SceneOptions.square(size);
        } catch (IllegalArgumentException e) {
            throw new Ldm4j.UsageError("--size: " + e.getMessage());
        }
    }

    /** For trying the command alone; the root ldm4j command registers this class as a subcommand. */
    public static void main(String[] args) {
        System.exit(new CommandLine(new ToyWorldCommand()).execute(args));
    }
}
