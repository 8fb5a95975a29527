package org.ldm4j.train;

import org.bytedeco.pytorch.Tensor;
import org.ldm4j.nn.Block;
import org.ldm4j.weights.SafetensorsFile;
import org.ldm4j.weights.SafetensorsWriter;
import org.ldm4j.weights.WeightLoader;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;

/**
 * Training checkpoints under {@code runDir/checkpoints/step-NNNNNNNN/} (model, EMA and optimizer state as
 * safetensors, the step in the metadata). A checkpoint is written into a temporary folder and renamed into place,
 * then {@code latest} is replaced atomically, so a run killed at any moment resumes from the last complete one.
 * The two newest checkpoints are kept.
 */
public final class Checkpoints {
    private static final int KEEP = 2;
    private static final java.util.regex.Pattern COMPLETE = java.util.regex.Pattern.compile("step-\\d{8,}");
    private final Path dir;

    public Checkpoints(Path runDir) { this.dir = runDir.resolve("checkpoints"); }

    public void save(long step, Block model, AdamW optimizer, Ema ema) {
        try {
            Files.createDirectories(dir);
            String name = String.format("step-%08d", step);
            Path tmp = org.ldm4j.image.AtomicFiles.newTempDirectory(dir, name + ".tmp");   // not private (0700): readable as its files

            Map<String, String> meta = Map.of("step", Long.toString(step));
            SafetensorsWriter.write(tmp.resolve("model.safetensors"), model.stateDict(), meta);
            SafetensorsWriter.write(tmp.resolve("optimizer.safetensors"), optimizer.state(),
                    Map.of("step", Long.toString(optimizer.stepCount())));
            if (ema != null) SafetensorsWriter.write(tmp.resolve("ema.safetensors"), ema.weights(), meta);
            Path target = dir.resolve(name);
            if (Files.exists(target)) deleteTree(target);
            Files.move(tmp, target, StandardCopyOption.ATOMIC_MOVE);
            Path latestTmp = dir.resolve("latest.tmp");
            Files.writeString(latestTmp, name, StandardCharsets.UTF_8);
            Files.move(latestTmp, dir.resolve("latest"), StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
            prune(name);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot write checkpoint in " + dir + ": " + e.getMessage(), e);
        }
    }

    /** Loads the latest checkpoint into the model/optimizer/EMA; returns its step, or 0 if there is none. */
    public long resume(Block model, AdamW optimizer, Ema ema) {
        Path latest = latest();
        if (latest == null) return 0;
        try (SafetensorsFile weights = SafetensorsFile.open(latest.resolve("model.safetensors"));
             SafetensorsFile opt = SafetensorsFile.open(latest.resolve("optimizer.safetensors"))) {
            WeightLoader.load(model, weights, "checkpoint " + latest);
            optimizer.load(readAll(opt), Long.parseLong(opt.metadata().get("step")));
            if (ema != null) {
                try (SafetensorsFile emaFile = SafetensorsFile.open(latest.resolve("ema.safetensors"))) {
                    ema.load(readAll(emaFile));
                }
            }
            return Long.parseLong(weights.metadata().get("step"));
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read checkpoint " + latest + ": " + e.getMessage(), e);
        }
    }

    /**
     * The folder of the newest complete checkpoint, or null when there is none yet. The pointer is written only after
     * its folder is complete, so one that names no checkpoint folder is damage: an error, not a reason to start over
     * (which would overwrite the run's checkpoints).
     */
    public Path latest() {
        Path pointer = dir.resolve("latest");
        if (!Files.exists(pointer)) return null;
        String name;
        try {
            name = Files.readString(pointer, StandardCharsets.UTF_8).trim();
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read " + pointer + ": " + e.getMessage(), e);
        }
        Path p = name.matches("step-\\d+") ? dir.resolve(name) : null;
        if (p == null || !Files.isDirectory(p)) {
            throw new IllegalArgumentException(pointer + " names '" + (name.length() > 40 ? name.substring(0, 40) + "..." : name)
                    + "', which is not a checkpoint folder here: repair it (the newest step-NNNNNNNN folder) or delete it to start over");
        }
        return p;
    }

    static Map<String, Tensor> readAll(SafetensorsFile f) {
        Map<String, Tensor> out = new LinkedHashMap<>();
        for (String n : f.names()) out.put(n, f.read(n));
        return out;
    }

    /**
     * Keeps the {@link #KEEP} newest complete checkpoints and removes temporary folders left by a run that was killed
     * while writing. Only names of the form {@code step-NNNNNNNN} count as checkpoints: before, a leftover
     * {@code step-NNNNNNNN.tmpXXX} sorted above the real ones, took a "keep" slot, and the older complete checkpoint
     * was deleted in its place (found by CheckpointCrashTest).
     */
    private void prune(String newest) throws IOException {
        List<Path> steps;
        try (Stream<Path> s = Files.list(dir)) {
            steps = s.filter(p -> p.getFileName().toString().startsWith("step-")).toList();
        }
        List<Path> complete = steps.stream().filter(p -> COMPLETE.matcher(p.getFileName().toString()).matches())
                .sorted(Comparator.comparing((Path p) -> p.getFileName().toString()).reversed()).toList();
        for (int i = KEEP; i < complete.size(); i++) {
            if (!complete.get(i).getFileName().toString().equals(newest)) deleteTree(complete.get(i));
        }
        for (Path p : steps) {
            if (!COMPLETE.matcher(p.getFileName().toString()).matches()) deleteTree(p);   // one writer per run folder
        }
    }

    private static void deleteTree(Path p) throws IOException {
        try (Stream<Path> s = Files.walk(p)) {
            for (Path q : s.sorted(Comparator.reverseOrder()).toList()) Files.deleteIfExists(q);
        }
    }

}
