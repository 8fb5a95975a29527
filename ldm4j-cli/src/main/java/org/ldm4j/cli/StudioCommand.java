package org.ldm4j.cli;

import org.ldm4j.pipeline.ModelLoader;
import org.ldm4j.studio.FactorGraphSource;
import org.ldm4j.studio.Limits;
import org.ldm4j.studio.StudioConfig;
import org.ldm4j.studio.StudioServer;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;

@Command(name = "studio", mixinStandardHelpOptions = true,
        description = "Start the studio: a paint canvas and generation page in the browser, over a local JSON API.",
        footer = {"", "The server listens on 127.0.0.1 only. To reach it from other machines, bind another address and",
                "give a token that every client must send (the printed URL carries it for the page):",
                "", "Examples:", "  ldm4j studio", "  ldm4j studio --model models/toyworld-ldm --port 8080",
                "  ldm4j studio --model models/toyworld-ldm --fgdm models/toyworld-fgdm",
                "  ldm4j studio --model models/toyworld-ldm8 --fgdm models/toyworld-fgdm8 --segmenter models/toyworld-segmenter",
                "  ldm4j studio --host 0.0.0.0 --token \"$(openssl rand -hex 16)\""})
final class StudioCommand implements Callable<Integer> {
    @Option(names = "--model", description = "Model to load (diffusers folder, .safetensors or Hugging Face id). "
            + "Default: the embedded ToyWorld model; the studio starts without a model if it is missing.")
    String model;

    @Option(names = "--vae", description = "A VAE folder to use instead of the model's (e.g. a fine-tuned decoder); its latent channels must be the model's.")
    Path vae;

    @Option(names = "--clip", description = "A CLIP (transformers folder or Hugging Face id, e.g. openai/clip-vit-base-patch16) "
            + "for the edit mode's CLIP ranking, the official code's (default: none, samples ranked by background PSNR).")
    String clip;

    @Option(names = "--fgdm", description = "FG-DM folder (fgdm.json + factor weights, from `ldm4j train fgdm --export`) for the "
            + "Factor graph and map edit modes; its factors run on --model when that is the folder's base_model, else on that "
            + "base loaded beside it. Default: models/toyworld-fgdm beside the default "
            + "model; those modes show disabled if it is missing.")
    Path fgdm;

    @Option(names = "--segmenter", description = "ToyWorld segmenter folder for SBPC's image check in the Factor graph mode "
            + "(field imageCheck). Default: models/toyworld-segmenter beside the default model; the check is off if it is missing.")
    Path segmenter;

    @Option(names = "--guide", description = "ToyWorld segmenter folder that steers Factor graph images toward their maps when a "
            + "job asks (field guide; segmentation guidance at the measured setting). Default: models/toyworld-segmenter-guide "
            + "beside the default model; guidance is off if it is missing.")
    Path guide;

    @Option(names = "--port", defaultValue = "7860", description = "TCP port (default: ${DEFAULT-VALUE}).")
    int port;

    @Option(names = "--host", defaultValue = StudioConfig.LOOPBACK,
            description = "Address to bind (default: ${DEFAULT-VALUE}); any other address requires --token.")
    String host;

    @Option(names = "--token", description = "Secret every API call must send as 'Authorization: Bearer <token>'.")
    String token;

    @Option(names = "--gallery", defaultValue = "outputs/studio", description = "Folder for results (default: ${DEFAULT-VALUE}).")
    Path gallery;

    @Option(names = "--queue", defaultValue = "8", description = "Jobs that may wait or run at once (default: ${DEFAULT-VALUE}).")
    int queue;

    @Option(names = "--device", defaultValue = "cpu", description = "cpu, cuda or cuda:N.")
    String device;

    @Option(names = "--dtype", defaultValue = "fp32", description = "fp32, bf16 or fp16.")
    String dtype;

    @Option(names = "--threads", defaultValue = "1", description = "libtorch threads (default: ${DEFAULT-VALUE}).")
    int threads;

    @Override
    public Integer call() throws Exception {
        StudioServer server = start();
        System.out.println("ldm4j studio: open " + server.url() + "  (Ctrl+C stops it)");
        CountDownLatch stopped = new CountDownLatch(1);
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            server.close();
            stopped.countDown();
        }));
        stopped.await();
        return 0;
    }

    /** Loads the model and the FG-DM folder (when there is one) and starts serving. */
    StudioServer start() {
        if (queue < 1) throw new Ldm4j.UsageError("--queue must be >= 1, got " + queue);
        if (fgdm != null && !Files.isDirectory(fgdm)) throw new Ldm4j.UsageError("--fgdm: no FG-DM folder at " + fgdm);
        if (segmenter != null && !Files.isDirectory(segmenter)) throw new Ldm4j.UsageError("--segmenter: no segmenter folder at " + segmenter);
        Path fgdmFolder = fgdm != null ? fgdm : FgdmSupport.defaultFolder();
        Path defaultSegmenter = Path.of(ModelLoader.defaultModel()).resolveSibling("toyworld-segmenter");
        Path segmenterFolder = segmenter != null ? segmenter : Files.isDirectory(defaultSegmenter) ? defaultSegmenter : null;
        if (guide != null && !Files.isDirectory(guide)) throw new Ldm4j.UsageError("--guide: no segmenter folder at " + guide);
        Path defaultGuide = Path.of(ModelLoader.defaultModel()).resolveSibling("toyworld-segmenter-guide");
        Path guideFolder = guide != null ? guide : Files.isDirectory(defaultGuide) ? defaultGuide : null;
        StudioConfig config = new StudioConfig(host, port, token, model != null ? model : ModelLoader.defaultModel(),
                model != null, gallery, device, dtype, threads, Limits.defaults().withQueueCapacity(queue), vae, clip);
        try {
            return StudioServer.start(config, Files.isDirectory(fgdmFolder) ? FactorGraphSource.toyWorldFolder(fgdmFolder, config.modelSpec(), segmenterFolder, guideFolder) : null);
        } catch (IOException e) {
            throw new Ldm4j.UsageError(e.getMessage());
        }
    }
}
