package org.ldm4j.cli;

import org.bytedeco.pytorch.InferenceMode;
import org.bytedeco.pytorch.Tensor;
import org.ldm4j.pipeline.ControlSource;
import org.ldm4j.pipeline.GenerationRequest;
import org.ldm4j.pipeline.ProgressHook;
import org.ldm4j.pipeline.StableDiffusion;
import org.ldm4j.pipeline.Txt2Img;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;

import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.Callable;

@Command(name = "txt2img", mixinStandardHelpOptions = true, description = "Generate images from a prompt.",
        footer = {"", "Examples:",
                "  ldm4j txt2img --prompt \"a red house beside a tall tree\" --seed 1 --out house.png",
                "  ldm4j txt2img --model ~/models/sd15 --prompt \"a castle\" --steps 30 --scheduler dpm++2m --out castle.png",
                "  ldm4j txt2img --model ~/models/sd15 --controlnet ~/models/control_v11p_sd15_canny --control-image edges.png --prompt \"a bird\" --out bird.png"})
final class Txt2ImgCommand implements Callable<Integer> {
    @Mixin GenerationOptions options;

    @Override
    public Integer call() throws Exception {
        GenerateSupport.checkOutputs(options.out, GenerateSupport.outputFiles(options.out, options.count));
        StableDiffusion sd = GenerateSupport.load(options);
        GenerationRequest request = GenerateSupport.request(options, sd, "txt2img", null, null, sd.defaultSize(), sd.defaultSize());
        try (InferenceMode inference = new InferenceMode(); ProgressHook progress = new ProgressHook("txt2img")) {
            List<ControlSource> controls = GenerateSupport.controls(options, sd, request.width(), request.height());
            List<Tensor> images = Txt2Img.run(sd, request, controls, List.of(progress), null);
            for (Path p : GenerateSupport.write(images, request, sd, options.out)) System.out.println("wrote " + p);
        }
        return 0;
    }
}
