package org.ldm4j.cli;

import org.bytedeco.pytorch.InferenceMode;
import org.bytedeco.pytorch.Tensor;
import org.ldm4j.image.Images;
import org.ldm4j.pipeline.ControlSource;
import org.ldm4j.pipeline.GenerationRequest;
import org.ldm4j.pipeline.Img2Img;
import org.ldm4j.pipeline.ProgressHook;
import org.ldm4j.pipeline.StableDiffusion;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

import java.awt.image.BufferedImage;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.Callable;

@Command(name = "img2img", mixinStandardHelpOptions = true,
        description = "Transform an image with a prompt (SDEdit): noise it to a level set by --strength, then denoise.",
        footer = {"", "Examples:",
                "  ldm4j img2img --init sketch.png --prompt \"a boat on a lake at sunset\" --strength 0.7 --out boat.png"})
final class Img2ImgCommand implements Callable<Integer> {
    @Mixin GenerationOptions options;

    @Option(names = "--init", required = true, description = "The input image (PNG/JPEG); its size is the output size.")
    Path init;

    @Option(names = "--strength", defaultValue = "0.8", description = "How much to change, in [0, 1] (0 = the input's VAE round trip).")
    double strength;

    @Override
    public Integer call() throws Exception {
        Ldm4j.requireFile("init image", init);
        if (!(strength >= 0 && strength <= 1)) throw new Ldm4j.UsageError("--strength must be in [0, 1], got " + strength);
        GenerateSupport.checkOutputs(options.out, GenerateSupport.outputFiles(options.out, options.count));
        BufferedImage img;
        try {
            img = Images.readImage(init);
        } catch (IOException e) {
            throw new Ldm4j.UsageError(e.getMessage());
        }
        StableDiffusion sd = GenerateSupport.load(options);
        GenerationRequest request = GenerateSupport.request(options, sd, "img2img", strength, init.toString(),
                img.getWidth(), img.getHeight());
        if (img.getWidth() != request.width() || img.getHeight() != request.height()) {
            throw new Ldm4j.UsageError("init image is " + img.getWidth() + "x" + img.getHeight()
                    + "; resize it or leave --width/--height out");
        }
        try (InferenceMode inference = new InferenceMode(); ProgressHook progress = new ProgressHook("img2img")) {
            Tensor x = Images.toTensor(img);
            List<ControlSource> controls = GenerateSupport.controls(options, sd, request.width(), request.height());
            List<Tensor> images = Img2Img.run(sd, request, x, controls, List.of(progress), null);
            for (Path p : GenerateSupport.write(images, request, sd, options.out)) System.out.println("wrote " + p);
        }
        return 0;
    }
}
