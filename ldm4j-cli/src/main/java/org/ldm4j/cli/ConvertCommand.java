package org.ldm4j.cli;

import org.ldm4j.weights.DiffusersFolder;
import org.ldm4j.weights.DiffusersToLdm;
import org.ldm4j.weights.SafetensorsWriter;
import org.ldm4j.weights.WeightSource;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;

@Command(name = "convert", mixinStandardHelpOptions = true,
        description = "Convert weights: a PyTorch checkpoint (.ckpt/.pt/.pth/.bin, read weights-only: no code runs) to "
                + ".safetensors, or a diffusers folder to one original-LDM-named .safetensors file.",
        footer = {"", "Examples:", "  ldm4j convert --in sd-v1-5-pruned.ckpt --out sd-v1-5-pruned.safetensors",
                "  ldm4j convert --in models/toyworld-ldm --out toyworld-ldm.safetensors"})
final class ConvertCommand implements Callable<Integer> {
    @Option(names = "--in", required = true, description = "A checkpoint file or a diffusers folder.") Path in;
    @Option(names = "--out", required = true, description = "The .safetensors file to write (atomically).") Path out;

    @Override
    public Integer call() throws Exception {
        if (!Files.exists(in)) throw new Ldm4j.UsageError("not found: " + in);
        if (!out.getFileName().toString().toLowerCase(Locale.ROOT).endsWith(".safetensors")) {
            throw new Ldm4j.UsageError("--out must be a .safetensors file, got " + out);
        }
        GenerateSupport.checkOutputs(out, java.util.List.of(out));
        if (Files.isDirectory(in)) {
            DiffusersToLdm.writeSingleFile(DiffusersFolder.open(in), out);
        } else {
            try (WeightSource source = WeightSource.open(in)) {
                if (source.names().isEmpty()) throw new Ldm4j.UsageError(in + " holds no tensors: nothing to convert");
                SafetensorsWriter.write(out, source, Map.of("format", "pt", "converted_from", in.getFileName().toString()));
                System.out.println(source.names().size() + " tensors");
            }
        }
        System.out.println("wrote " + out);
        return 0;
    }
}
