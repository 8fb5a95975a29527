package org.ldm4j.cli;

import picocli.CommandLine.Option;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/** Options shared by txt2img and img2img. */
public final class GenerationOptions {
    @Option(names = "--model", description = "Diffusers folder, single-file .safetensors checkpoint, or Hugging Face id "
            + "(org/name[@revision]). Default: the embedded ToyWorld model.")
    String model;

    @Option(names = "--config-from", description = "With a single-file checkpoint: a diffusers folder whose unet/vae/text_encoder "
            + "configs describe it (default: the bundled SD 1.x/2.x configs).")
    Path configFrom;

    @Option(names = "--tokenizer", description = "With a single-file checkpoint: CLIP tokenizer folder (vocab.json, merges.txt); "
            + "default: tokenizer/ beside the file.")
    Path tokenizer;

    @Option(names = "--vae", description = "A VAE folder (config.json + weights) to use instead of the model's, e.g. a fine-tuned "
            + "decoder; its latent channels must be the model's.")
    Path vae;

    @Option(names = {"-p", "--prompt"}, description = "What to generate (required, except where a command says otherwise).")
    String prompt;

    @Option(names = {"--negative-prompt"}, defaultValue = "", description = "What to steer away from.")
    String negativePrompt;

    @Option(names = "--seed", defaultValue = "0", description = "Seed of the first image (image k uses seed + k).")
    long seed;

    @Option(names = "--steps", description = "Denoising steps (default: 50, or 25 on the ToyWorld model).")
    Integer steps;

    @Option(names = "--cfg", description = "Classifier-free guidance scale (default 7.5; 5 on the ToyWorld model).")
    Double cfg;

    @Option(names = "--width", description = "Image width, a multiple of the VAE factor (default: the model's size).")
    Integer width;

    @Option(names = "--height", description = "Image height, a multiple of the VAE factor (default: the model's size).")
    Integer height;

    @Option(names = "--scheduler", description = "ddim, pndm, euler, euler-a, dpm++2m, ddpm, lms (default: the model's).")
    String scheduler;

    @Option(names = "--eta", defaultValue = "0", description = "DDIM eta (0 = deterministic).")
    double eta;

    @Option(names = "--clip-skip", defaultValue = "0", description = "Use the text encoder's k-th last layer.")
    int clipSkip;

    @Option(names = {"-n", "--n"}, defaultValue = "1", description = "Number of images.")
    int count;

    @Option(names = "--device", defaultValue = "cpu", description = "cpu, cuda or cuda:N.")
    String device;

    @Option(names = "--dtype", defaultValue = "fp32", description = "fp32, bf16 or fp16.")
    String dtype;

    @Option(names = "--threads", description = "libtorch threads (default: 1 for small models, all cores for SD).")
    Integer threads;

    @Option(names = "--controlnet", description = "ControlNet: a diffusers ControlNet folder or a .safetensors file "
            + "(diffusers or original cldm layout). Repeat for several (their residuals add up).")
    List<Path> controlnets = new ArrayList<>();

    @Option(names = "--control-image", description = "Control image for the ControlNet at the same position, at the output size.")
    List<Path> controlImages = new ArrayList<>();

    @Option(names = "--control-scale", description = "ControlNet strength (default 1.0); one value for all or one per --controlnet.")
    List<Double> controlScales = new ArrayList<>();

    @Option(names = "--control-start", defaultValue = "0", description = "Fraction of the steps after which the ControlNets start.")
    double controlStart;

    @Option(names = "--control-end", defaultValue = "1", description = "Fraction of the steps after which the ControlNets stop.")
    double controlEnd;

    @Option(names = "--guess-mode", description = "ControlNet guess mode: conditional branch only, logspace(0.1..1) scales.")
    boolean guessMode;

    @Option(names = "--adapter", description = "T2I-Adapter: a diffusers T2IAdapter folder or a .safetensors file "
            + "(diffusers or original layout). Repeat for several (their features add up).")
    List<Path> adapters = new ArrayList<>();

    @Option(names = "--adapter-image", description = "Control image for the adapter at the same position, at the output size.")
    List<Path> adapterImages = new ArrayList<>();

    @Option(names = "--adapter-scale", description = "Adapter weight (default 1.0); one value for all or one per --adapter.")
    List<Double> adapterScales = new ArrayList<>();

    @Option(names = "--adapter-factor", defaultValue = "1", description = "Fraction of the steps during which the adapters apply.")
    double adapterFactor;

    @Option(names = {"-o", "--out"}, required = true, converter = PngPath.class,
            description = "Output PNG (with several images: name-0.png, ... and name-grid.png).")
    Path out;

    /** An output path that names a .png file: the images are PNGs with their parameters inside, never another format under a .jpg name. */
    static final class PngPath implements picocli.CommandLine.ITypeConverter<Path> {
        @Override public Path convert(String value) {
            if (!value.toLowerCase(java.util.Locale.ROOT).endsWith(".png")) {
                throw new picocli.CommandLine.TypeConversionException("must name a .png file (images are written as PNG), got '" + value + "'");
            }
            return Path.of(value);
        }
    }

    /** The prompt of a command its text drives: missing, empty or blank is a usage error saying {@code why} it is needed. */
    String requireText(String why) {
        String p = requirePrompt();
        if (p.isBlank()) throw new Ldm4j.UsageError("--prompt is empty: " + why);
        return p;
    }

    /** The prompt, or a usage error naming the missing option. */
    String requirePrompt() {
        if (prompt == null) throw new Ldm4j.UsageError("missing required option: '--prompt=<prompt>'");
        return prompt;
    }
}
