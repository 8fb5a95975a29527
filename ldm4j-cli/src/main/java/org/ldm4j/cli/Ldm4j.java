package org.ldm4j.cli;

import picocli.CommandLine;
import picocli.CommandLine.Command;

import java.util.Arrays;
import java.util.Locale;

/** The {@code ldm4j} command: one subcommand per job. Bad arguments exit with code 2 and a one-line message. */
@Command(name = "ldm4j", mixinStandardHelpOptions = true, version = "ldm4j 0.1.0",
        description = "Guided image synthesis with latent diffusion models, on libtorch.",
        subcommands = {
                Txt2ImgCommand.class,
                Img2ImgCommand.class,
                Stroke2ImgCommand.class,
                EditCommand.class,
                FgdmCommand.class,
                ToyWorldCommand.class,
                TrainCommand.class,
                BatchCommand.class,
                BenchCommand.class,
                EvalCommand.class,
                StudioCommand.class,
                ConvertCommand.class,
                CommandLine.HelpCommand.class})
public final class Ldm4j {
    public static void main(String[] args) {
        System.exit(run(args));
    }

    /** Runs the CLI and returns its exit code (tests call this instead of main). */
    public static int run(String... args) {
        CommandLine cli = new CommandLine(new Ldm4j());
        cli.setParameterExceptionHandler((ex, arguments) -> {
            ex.getCommandLine().getErr().println("ldm4j: " + ex.getMessage() + " (see --help)");
            return 2;
        });
        cli.setExecutionExceptionHandler((ex, cmd, parsed) -> {
            if (ex instanceof UsageError || ex instanceof IllegalArgumentException) {
                cmd.getErr().println("ldm4j: " + ex.getMessage());
                return 2;
            }
            String badInput = badInputMessage(ex);
            if (badInput != null) {
                cmd.getErr().println("ldm4j: " + badInput);
                return 2;
            }
            String failure = failureMessage(ex);
            if (failure != null) {
                cmd.getErr().println("ldm4j: " + failure);
                return 1;
            }
            throw ex;
        });
        return cli.execute(args);
    }

    /**
     * The one-line message for a bad input file met while a command ran (weights or a PNG that do not parse, a file
     * that is not there), or null for anything else (a defect: its stack trace is printed).
     */
    static String badInputMessage(Throwable ex) {
        if (ex instanceof org.ldm4j.weights.WeightFormatException || ex instanceof org.ldm4j.image.MalformedPngException) {
            return ex.getMessage();
        }
        if (ex instanceof java.nio.file.NoSuchFileException e) return "file not found: " + e.getFile();
        if (ex instanceof java.io.UncheckedIOException e && e.getCause() instanceof java.nio.file.NoSuchFileException n) {
            return "file not found: " + n.getFile();
        }
        return null;
    }

    /**
     * The one-line message for a failure that is not a defect of ldm4j: the file system refused a read or a write (an
     * output path that is a folder, a file where a folder is needed, an unreadable image), or generation diverged
     * (NaN/Inf latents, whose message points at the weights); null for anything else.
     */
    static String failureMessage(Throwable ex) {
        if (ex instanceof java.nio.file.FileAlreadyExistsException e) return e.getFile() + " exists and is not a folder";
        if (ex instanceof java.nio.file.FileSystemException e) {
            return e.getFile() + (e.getOtherFile() != null ? " -> " + e.getOtherFile() : "") + ": " + e.getReason();
        }
        if (ex instanceof java.io.IOException || ex instanceof java.io.UncheckedIOException
                || ex instanceof org.ldm4j.pipeline.NonFiniteLatentsException) {
            return ex.getMessage();
        }
        return null;
    }

    /**
     * A file an option names must be a file: a path that is not there, or a folder, is a usage error saying which
     * ({@code what} names it: "init image not found: x", "init image x is a folder, not a file").
     */
    static void requireFile(String what, java.nio.file.Path p) {
        if (java.nio.file.Files.isDirectory(p)) throw new UsageError(what + " " + p + " is a folder, not a file");
        if (!java.nio.file.Files.isRegularFile(p)) throw new UsageError(what + " not found: " + p);
    }

    /** An enum option's value in any case, '-' for '_'; an unknown one is a usage error naming the choices. */
    static <E extends Enum<E>> E enumOption(Class<E> type, String option, String value) {
        try {
            return Enum.valueOf(type, value.toUpperCase(Locale.ROOT).replace('-', '_'));
        } catch (IllegalArgumentException e) {
            throw new UsageError(option + ": unknown value '" + value + "' (expected one of "
                    + Arrays.stream(type.getEnumConstants()).map(c -> c.name().toLowerCase(Locale.ROOT).replace('_', '-')).toList() + ")");
        }
    }

    /** A sampler option's value (alias, diffusers class name or A1111 label); an unknown one is a usage error naming the option. */
    static org.ldm4j.schedulers.Schedulers schedulerOption(String option, String value) {
        try {
            return org.ldm4j.schedulers.Schedulers.fromAlias(value);
        } catch (IllegalArgumentException e) {
            throw new UsageError(option + ": " + e.getMessage());
        }
    }

    /** A problem with the user's arguments or input files: reported as one line, exit code 2. */
    public static final class UsageError extends RuntimeException {
        public UsageError(String message) { super(message); }
    }
}
