package org.ldm4j.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import org.bytedeco.pytorch.NoGradGuard;
import org.bytedeco.pytorch.Scalar;
import org.bytedeco.pytorch.Tensor;
import org.ldm4j.models.vae.AutoencoderKL;
import org.ldm4j.models.vae.AutoencoderKLConfig;
import org.ldm4j.nn.Param;
import org.ldm4j.train.Trainer;
import org.ldm4j.train.toyworld.SceneBatches;
import org.ldm4j.train.toyworld.ToyWorldVae;
import org.ldm4j.weights.SafetensorsWriter;
import org.ldm4j.image.AtomicFiles;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.Callable;

@Command(name = "train", mixinStandardHelpOptions = true, description = "Train the ToyWorld models (resumable).",
        subcommands = {TrainCommand.Vae.class, TrainLdmCommand.class, TrainFgdmCommand.class, EvalCommand.TrainSegmenter.class})
final class TrainCommand {

    @Command(name = "vae", mixinStandardHelpOptions = true,
            description = "Train the ToyWorld AutoencoderKL; resumes from the run folder's last checkpoint.",
            footer = {"", "Example:", "  ldm4j train vae --config configs/train/toyworld-vae.json --run runs/toyworld-vae",
                    "  ldm4j train vae --config configs/train/toyworld-vae.json --run runs/toyworld-vae --export models/toyworld-vae"})
    static final class Vae implements Callable<Integer> {
        @Mixin TrainRun train;
        @Option(names = "--export", description = "Write the EMA weights (fp16) as a diffusers vae/ folder here and exit.") Path export;

        @Override
        public Integer call() throws Exception {
            JsonNode c = train.start("vae");
            AutoencoderKLConfig vaeConfig = AutoencoderKLConfig.parse(c.get("vae").toString());
            org.bytedeco.pytorch.global.torch.manual_seed(c.path("seed").asLong(0));
            AutoencoderKL vae = new AutoencoderKL(vaeConfig);
            Trainer trainer = new Trainer(vae, train.options(c));
            if (export != null) {
                exportVae(vae, trainer, c.get("vae"), export, c.path("size").asInt(64));
                return 0;
            }
            SceneBatches batches = new SceneBatches(c.get("batch_size").asInt(), c.path("size").asInt(64));
            double loss = trainer.run(new ToyWorldVae(vae, batches, c.path("kl_weight").asDouble(1e-6)),
                    train.lastStep(c));
            System.out.printf("step %d, loss %.5f%n", trainer.step(), loss);
            return 0;
        }


        /** EMA weights -> fp16 safetensors + config.json with scaling_factor = 1 / std of validation latents (as SD did). */
        private static void exportVae(AutoencoderKL vae, Trainer trainer, JsonNode configJson, Path out, int size) throws Exception {
            Map<String, Param> params = vae.namedParameters();
            try (NoGradGuard g = new NoGradGuard()) {
                trainer.ema().weights().forEach((k, t) -> params.get(k).t().copy_(t));
                Tensor x = SceneBatches.images(new SceneBatches(64, size).scenesFrom(SceneBatches.TRAIN_SEEDS));
                Tensor z = vae.encode(x).mode();
                double std = z.std().item_double();
                double psnr = ToyWorldVae.psnr(vae, x);
                Files.createDirectories(out);
                ObjectNode cfg = ((ObjectNode) configJson.deepCopy()).put("scaling_factor", 1.0 / std);
                AtomicFiles.write(out.resolve("config.json"),
                        new ObjectMapper().writerWithDefaultPrettyPrinter().writeValueAsString(cfg).getBytes(StandardCharsets.UTF_8));
                Map<String, Tensor> half = new LinkedHashMap<>();
                params.forEach((k, p) -> half.put(k, p.t().to(org.bytedeco.pytorch.global.torch.ScalarType.Half)));
                SafetensorsWriter.write(out.resolve("diffusion_pytorch_model.safetensors"), half,
                        Map.of("step", Long.toString(trainer.step()), "format", "pt"));
                System.out.printf("exported step %d to %s: latent std %.4f (scaling_factor %.5f), validation PSNR %.2f dB (64 scenes)%n",
                        trainer.step(), out, std, 1.0 / std, psnr);
            }
        }
    }
}
