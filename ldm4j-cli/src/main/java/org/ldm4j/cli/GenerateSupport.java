package org.ldm4j.cli;

import org.bytedeco.pytorch.Tensor;
import org.ldm4j.image.ImageGrid;
import org.ldm4j.image.Images;
import org.ldm4j.image.Infotext;
import org.ldm4j.image.PngParameters;
import org.ldm4j.nn.Dtypes;
import org.ldm4j.nn.Engine;
import org.ldm4j.models.adapter.AdapterLoader;
import org.ldm4j.models.adapter.T2IAdapter;
import org.ldm4j.models.controlnet.ControlNetLoader;
import org.ldm4j.models.controlnet.ControlNetModel;
import org.ldm4j.pipeline.AdapterSource;
import org.ldm4j.pipeline.ControlImages;
import org.ldm4j.pipeline.ControlNetSource;
import org.ldm4j.pipeline.ControlSource;
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
import java.util.function.Function;

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
            return withVae(ModelLoader.load(spec, options, Dtypes.device(o.device), Dtypes.parse(o.dtype)), o.vae);
        } catch (IOException e) {
            throw new Ldm4j.UsageError("cannot load model '" + spec + "': " + e.getMessage());
        }
    }

    /**
     * The ControlNets and adapters the options name, each with its control image (checked against the output size),
     * or an empty list. Missing files, wrong kinds of checkpoint and bad images are one-line usage errors.
     */
    static List<ControlSource> controls(GenerationOptions o, StableDiffusion sd, int width, int height) {
        List<ControlSource> out = new ArrayList<>();
        if (o.controlImages.size() != o.controlnets.size()) {
            throw new Ldm4j.UsageError(o.controlnets.size() + " --controlnet but " + o.controlImages.size() + " --control-image: give one image per ControlNet");
        }
        if (o.adapterImages.size() != o.adapters.size()) {
            throw new Ldm4j.UsageError(o.adapters.size() + " --adapter but " + o.adapterImages.size() + " --adapter-image: give one image per adapter");
        }
        for (int i = 0; i < o.controlnets.size(); i++) {
            Path p = o.controlnets.get(i);
            ControlNetModel net;
            try {
                net = ControlNetLoader.load(p, sd.device(), sd.dtype());
            } catch (IOException | RuntimeException e) {
                throw new Ldm4j.UsageError("cannot load ControlNet '" + p + "': " + message(e));
            }
            Tensor hint = image(o.controlImages.get(i), net.config.conditioningChannels(), width, height, "control image");
            out.add(new ControlNetSource(net, hint, pick(o.controlScales, i, "--control-scale", o.controlnets.size()),
                    o.controlStart, o.controlEnd, o.guessMode));
        }
        for (int i = 0; i < o.adapters.size(); i++) {
            Path p = o.adapters.get(i);
            T2IAdapter adapter;
            try {
                adapter = AdapterLoader.loadT2I(p, sd.unet.config.blockCount(), sd.vaeScaleFactor(), sd.device(), sd.dtype());
            } catch (IOException | RuntimeException e) {
                throw new Ldm4j.UsageError("cannot load T2I-Adapter '" + p + "': " + message(e));
            }
            Tensor img = image(o.adapterImages.get(i), adapter.inChannels(), width, height, "adapter image");
            out.add(new AdapterSource(adapter, img, pick(o.adapterScales, i, "--adapter-scale", o.adapters.size()), o.adapterFactor));
        }
        for (ControlSource c : out) c.validate(sd, width, height);
        return out;
    }

    private static String message(Exception e) {
        if (e instanceof java.nio.file.NoSuchFileException) return "no such file or folder";
        return e.getMessage();
    }

    private static Tensor image(Path p, int channels, int width, int height, String what) {
        Ldm4j.requireFile(what, p);
        try {
            Tensor t = ControlImages.read(p, channels);
            ControlImages.requireSize(what + " " + p, t, width, height);
            return t;
        } catch (IOException e) {
            throw new Ldm4j.UsageError("cannot read " + what + " " + p + ": " + e.getMessage());
        }
    }

    private static double pick(List<Double> values, int i, String flag, int count) {
        if (values.isEmpty()) return 1.0;
        if (values.size() == 1) return values.get(0);
        if (values.size() != count) throw new Ldm4j.UsageError(values.size() + " " + flag + " values for " + count + " models: give one, or one each");
        return values.get(i);
    }

    static GenerationRequest request(GenerationOptions o, StableDiffusion sd, String mode, Double strength, String init,
                                     int defaultWidth, int defaultHeight) {
        boolean small = sd.defaultSize() <= 128;
        int steps = o.steps != null ? o.steps : (small ? 25 : 50);
        double cfg = o.cfg != null ? o.cfg : (small ? 5.0 : 7.5);
        int w = o.width != null ? o.width : defaultWidth;
        int h = o.height != null ? o.height : defaultHeight;
        String prompt = o.requirePrompt();
        noteEmptyPrompt(prompt, o.negativePrompt);
        return new GenerationRequest(mode, sd.name, prompt, o.negativePrompt, w, h, steps, cfg, o.scheduler, o.seed,
                o.count, o.clipSkip, o.eta, strength, init).validate(sd.vaeScaleFactor());
    }

    /** The files {@link #write} creates for {@code count} images: {@code out}, or out-0.png ... out-(n-1).png and out-grid.png. */
    static List<Path> outputFiles(Path out, int count) {
        if (count <= 1) return List.of(out);
        List<Path> files = new ArrayList<>();
        for (int k = 0; k < count; k++) files.add(sibling(out, "-" + k));
        files.add(sibling(out, "-grid"));
        return files;
    }

    /** The files {@code edit} creates: each of the {@code count} samples as out-k.png, and the best, repaired, as {@code out}. */
    static List<Path> editOutputFiles(Path out, int count) {
        List<Path> files = new ArrayList<>(List.of(out));
        for (int k = 0; k < count; k++) files.add(sibling(out, "-" + k));
        return files;
    }

    /** {@code out} with {@code suffix} before its .png: {@code sibling(a.png, "-0")} is a-0.png beside it. */
    static Path sibling(Path out, String suffix) {
        return out.resolveSibling(out.getFileName().toString().replaceFirst("(?i)\\.png$", "") + suffix + ".png");
    }

    /**
     * Checks, before any model loads, that each file an image command will write from {@code --out} can be created:
     * none is a folder and no folder above it is a file. Each problem is a usage error naming the path, so a run
     * never fails after generating with some of its images already written.
     */
    static void checkOutputs(Path out, List<Path> files) {
        for (Path f : files) {
            if (Files.isDirectory(f)) {
                throw new Ldm4j.UsageError(f.equals(out) ? "--out " + out + " is a folder, not a file"
                        : "--out " + out + ": " + f + " (one of the files it names) is a folder, not a file");
            }
            for (Path a = f.toAbsolutePath().getParent(); a != null; a = a.getParent()) {
                if (!Files.exists(a)) continue;   // created on writing
                if (!Files.isDirectory(a)) throw new Ldm4j.UsageError("--out " + out + ": " + a + " is a file, not a folder");
                break;
            }
        }
    }

    /**
     * An empty (or blank) prompt is the unconditional prompt: legal for txt2img, img2img and stroke2img (the init
     * image or painting, or nothing, drives the result), but worth a note saying what happens.
     */
    static void noteEmptyPrompt(String prompt, String negativePrompt) {
        if (!prompt.isBlank()) return;
        System.err.println(negativePrompt == null || negativePrompt.isBlank()
                ? "ldm4j: note: the prompt is empty: sampling unconditionally (no text guidance; --cfg has no effect)"
                : "ldm4j: note: the prompt is empty: sampling unconditionally, steered away from the negative prompt by --cfg");
    }

    /** Writes out.png (one image) or out-0.png ... plus out-grid.png (several); returns the paths written. */
    static List<Path> write(List<Tensor> images, GenerationRequest r, StableDiffusion sd, Path out) throws IOException {
        return write(images, r, sd, out, single -> single);
    }

    /**
     * As {@link #write(List, GenerationRequest, StableDiffusion, Path)}, each PNG's request JSON being
     * {@code recordOf} of that image's request (its seed).
     */
    static List<Path> write(List<Tensor> images, GenerationRequest r, StableDiffusion sd, Path out,
                            Function<GenerationRequest, Object> recordOf) throws IOException {
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
            PngParameters.write(p, img, a1111(single, sd), recordOf.apply(single));
            written.add(p);
        }
        if (images.size() > 1) {
            Path grid = out.resolveSibling(base + "-grid.png");
            Images.writePng(ImageGrid.of(pics, ImageGrid.squareColumns(pics.size())), grid);
            written.add(grid);
        }
        return written;
    }

    /** {@code sd} with the autoencoder of {@code --vae} (itself when null); a folder that cannot serve is a usage error. */
    static StableDiffusion withVae(StableDiffusion sd, Path vae) {
        if (vae == null) return sd;
        try {
            return ModelLoader.withVaeFolder(sd, vae);
        } catch (IOException | IllegalArgumentException e) {
            throw new Ldm4j.UsageError("cannot use --vae " + vae + ": " + e.getMessage());
        }
    }

    static Infotext a1111(GenerationRequest r, StableDiffusion sd) { return sd.infotext(r); }
}
