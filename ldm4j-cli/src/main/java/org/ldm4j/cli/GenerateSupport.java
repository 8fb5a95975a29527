package org.ldm4j.cli;

import org.bytedeco.pytorch.Tensor;
import org.ldm4j.image.ImageGrid;
import org.ldm4j.image.Images;
import org.ldm4j.image.Infotext;
import org.ldm4j.image.PngParameters;
import org.ldm4j.nn.Dtypes;
import org.ldm4j.nn.Engine;
import org.ldm4j.pipeline.GenerationRequest;
import org.ldm4j.pipeline.ModelLoader;
import org.ldm4j.pipeline.StableDiffusion;
import org.ldm4j.schedulers.Schedulers;

import java.awt.image.BufferedImage;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/** What txt2img and img2img share: loading the model, building the request, writing PNGs with parameters. */
final class GenerateSupport {
    private GenerateSupport() {}

    static StableDiffusion load(GenerationOptions o) {
        Engine.threads(o.threads != null ? o.threads : 1);
        if (o.scheduler != null) Schedulers.fromAlias(o.scheduler);   // fail on a bad name before loading
        String spec = o.model != null ? o.model : ModelLoader.defaultModel();
        try {
            ModelLoader.Options options = ModelLoader.Options.defaults();
            if (o.configFrom != null) options = options.withConfigFrom(o.configFrom);
            if (o.tokenizer != null) options = options.withTokenizer(o.tokenizer);
            return ModelLoader.load(spec, options, Dtypes.device(o.device), Dtypes.parse(o.dtype));
        } catch (IOException e) {
            throw new Ldm4j.UsageError("cannot load model '" + spec + "': " + e.getMessage());
        }
    }

    static GenerationRequest request(GenerationOptions o, StableDiffusion sd, String mode, Double strength, String init,
                                     int defaultWidth, int defaultHeight) {
        boolean small = sd.defaultSize() <= 128;
        int steps = o.steps != null ? o.steps : (small ? 25 : 50);
        double cfg = o.cfg != null ? o.cfg : (small ? 5.0 : 7.5);
        int w = o.width != null ? o.width : defaultWidth;
        int h = o.height != null ? o.height : defaultHeight;
        if (o.prompt.isBlank() && cfg > 1) {
            // an empty prompt is the unconditional prompt: legal, but worth saying
            System.err.println("ldm4j: note: empty prompt, generating unconditionally");
        }
        return new GenerationRequest(mode, sd.name, o.prompt, o.negativePrompt, w, h, steps, cfg, o.scheduler, o.seed,
                o.count, o.clipSkip, o.eta, strength, init).validate(sd.vaeScaleFactor());
    }

    /** Writes out.png (one image) or out-0.png ... plus out-grid.png (several); returns the paths written. */
    static List<Path> write(List<Tensor> images, GenerationRequest r, StableDiffusion sd, Path out) throws IOException {
        Path parent = out.toAbsolutePath().getParent();
        if (parent != null) Files.createDirectories(parent);
        List<Path> written = new ArrayList<>();
        List<BufferedImage> pics = new ArrayList<>();
        String base = out.getFileName().toString().replaceFirst("(?i)\\.png$", "");
        for (int k = 0; k < images.size(); k++) {
            BufferedImage img = Images.toImage(images.get(k));
            pics.add(img);
            GenerationRequest single = r.withSeed(r.seed() + k);
            Path p = images.size() == 1 ? out : out.resolveSibling(base + "-" + k + ".png");
            PngParameters.write(p, img, a1111(single, sd), single);
            written.add(p);
        }
        if (images.size() > 1) {
            Path grid = out.resolveSibling(base + "-grid.png");
            Images.writePng(ImageGrid.of(pics, ImageGrid.squareColumns(pics.size())), grid);
            written.add(grid);
        }
        return written;
    }

    static Infotext a1111(GenerationRequest r, StableDiffusion sd) {
        String sampler = (r.scheduler() != null ? Schedulers.fromAlias(r.scheduler()) : sd.defaultScheduler()).a1111Label();
        return Infotext.of(r.prompt(), r.negativePrompt(), r.steps(), sampler, r.guidanceScale(), r.seed(),
                r.width(), r.height(), sd.name);
    }
}
