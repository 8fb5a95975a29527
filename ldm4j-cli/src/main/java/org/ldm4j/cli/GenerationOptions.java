package org.ldm4j.cli;

import picocli.CommandLine.Option;

import java.nio.file.Path;

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

    @Option(names = {"-p", "--prompt"}, required = true, description = "What to generate.")
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

    @Option(names = {"-o", "--out"}, required = true, description = "Output PNG (with several images: name-0.png, ... and name-grid.png).")
    Path out;
}
