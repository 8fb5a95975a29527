package org.ldm4j.pipeline;

import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch;
import org.ldm4j.models.adapter.T2IAdapter;
import org.ldm4j.models.adapter.T2IAdapterConfig;
import org.ldm4j.models.controlnet.ControlNetConfig;
import org.ldm4j.models.controlnet.ControlNetModel;
import org.ldm4j.models.unet.UNet2DConditionConfig;
import org.ldm4j.models.unet.UNet2DConditionModel;
import org.ldm4j.nn.Block;
import org.ldm4j.nn.Param;
import org.ldm4j.weights.SafetensorsWriter;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;

/**
 * Tiny ControlNet and T2I-Adapter for {@link TinyStableDiffusion} (16x16 images, VAE factor 2): the ControlNet's
 * hint encoder has two widths (one stride-2 conv = factor 2), the adapter unshuffles by 2. Their zero-initialised
 * parts are randomised so that they change the output. Written in diffusers layout with ldm4j's writer.
 */
public final class TinyControl {
    public static final List<Integer> HINT_WIDTHS = List.of(8, 16);

    private TinyControl() {}

    public static UNet2DConditionModel unet(long seed) {
        torch.manual_seed(seed);
        return new UNet2DConditionModel(UNet2DConditionConfig.parse(TinyStableDiffusion.UNET, "tiny"));
    }

    /** A ControlNet initialised from {@code unet} whose zero convs are then randomised (so it is not a no-op). */
    public static ControlNetModel controlNet(UNet2DConditionModel unet, long seed) {
        ControlNetModel net = ControlNetModel.fromUnet(unet, HINT_WIDTHS, 3);
        torch.manual_seed(seed);
        randomise(net.controlnetDownBlocks, 0.5);
        randomise(net.controlnetMidBlock, 0.5);
        randomise(net.controlnetCondEmbedding.convOut, 0.5);
        return net;
    }

    public static T2IAdapter adapter(long seed) {
        torch.manual_seed(seed);
        return new T2IAdapter(new T2IAdapterConfig(3, List.of(32, 64), 1, 2, T2IAdapterConfig.FULL));
    }

    public static void randomise(Block block, double bound) {
        for (Param p : block.namedParameters().values()) {
            Tensor t = torch.empty(p.shape());
            t.uniform_(-bound, bound, new org.bytedeco.pytorch.GeneratorOptional());
            p.set(t);
        }
    }

    /** A diffusers ControlNet folder: config.json + diffusion_pytorch_model.safetensors. */
    public static Path writeControlNet(Path dir, ControlNetModel net) throws IOException {
        Files.createDirectories(dir);
        Files.writeString(dir.resolve("config.json"), net.config.toJson());
        SafetensorsWriter.write(dir.resolve("diffusion_pytorch_model.safetensors"), net.stateDict(), Map.of("format", "pt"));
        return dir;
    }

    public static Path writeAdapter(Path dir, T2IAdapter adapter) throws IOException {
        Files.createDirectories(dir);
        Files.writeString(dir.resolve("config.json"), adapter.config.toJson());
        SafetensorsWriter.write(dir.resolve("diffusion_pytorch_model.safetensors"), adapter.stateDict(), Map.of("format", "pt"));
        return dir;
    }

    /** Writes both next to a tiny SD folder whose UNet they are made for; returns {controlnet dir, adapter dir}. */
    public static Path[] writeFor(Path sdFolder, Path dir, long seed) throws IOException {
        UNet2DConditionModel unet = org.ldm4j.pipeline.ModelLoader.load(sdFolder.toString(),
                org.ldm4j.nn.Dtypes.device("cpu"), org.bytedeco.pytorch.global.torch.ScalarType.Float).unet;
        return new Path[]{writeControlNet(dir.resolve("controlnet"), controlNet(unet, seed)), writeAdapter(dir.resolve("adapter"), adapter(seed + 1))};
    }

    /** A ControlNetConfig equal to what the tiny ControlNet uses. */
    public static ControlNetConfig config() {
        return ControlNetConfig.fromUnet(UNet2DConditionConfig.parse(TinyStableDiffusion.UNET, "tiny"), HINT_WIDTHS, 3);
    }
}
