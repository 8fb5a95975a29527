package org.ldm4j.methods.fgdm;

import org.bytedeco.pytorch.global.torch;
import org.ldm4j.models.adapter.TimeAdapter;
import org.ldm4j.models.controlnet.ControlNetModel;
import org.ldm4j.models.unet.UNet2DConditionModel;
import org.ldm4j.pipeline.TinyControl;
import org.ldm4j.pipeline.TinyStableDiffusion;
import org.ldm4j.weights.SafetensorsWriter;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;

/**
 * A tiny random FG-DM folder laid out as docs/fgdm-folder.md says, over {@link TinyStableDiffusion}
 * (16x16 images, VAE factor 2, UNet widths 32/64, time embedding 128): seg (root, TimeAdapter on its noisy latent,
 * 8x8) -> depth (TimeAdapter on seg's latent, 8x8) -> image (ControlNet on the seg and depth maps, 16x16), two DDIM
 * steps each. Zero-initialised parts are randomised so that every branch changes the output. For tests of the
 * loader, the CLI and the studio; {@link #timeAdapter} and {@link #controlNet} also build in-memory graphs.
 */
public final class TinyFgdm {
    public static final int IMAGE_SIZE = 16, MAP_SIZE = 8, STEPS = 2;

    private TinyFgdm() {}

    /** The manifest {@link #write} writes (base model at {@code ../tiny-ldm}). */
    public static FgdmManifest manifest() {
        return new FgdmManifest("../tiny-ldm", List.of(
                new FgdmManifest.Entry("seg", Factor.Role.CONDITION, FgdmManifest.MapKind.SEGMENTATION, List.of(),
                        FgdmManifest.Conditioning.NOISY_LATENT_ADAPTER, "seg/adapter.safetensors", 1.0, MAP_SIZE, MAP_SIZE, STEPS, 5.0),
                new FgdmManifest.Entry("depth", Factor.Role.CONDITION, FgdmManifest.MapKind.DEPTH, List.of("seg"),
                        FgdmManifest.Conditioning.PARENT_LATENT_ADAPTER, "depth/adapter.safetensors", 1.0, MAP_SIZE, MAP_SIZE, STEPS, 5.0),
                new FgdmManifest.Entry("image", Factor.Role.IMAGE, null, List.of("seg", "depth"),
                        FgdmManifest.Conditioning.CONTROLNET_ON_MAPS, "image", 1.0, IMAGE_SIZE, IMAGE_SIZE, STEPS, 5.0)));
    }

    /** Writes {@code dir/tiny-ldm} (the base) and {@code dir/tiny-fgdm} (the factors); returns the FG-DM folder. */
    public static Path write(Path dir, long seed) throws IOException {
        TinyStableDiffusion.write(dir.resolve("tiny-ldm"), seed);
        Path folder = dir.resolve("tiny-fgdm");
        writeAdapter(folder.resolve("seg/adapter.safetensors"), timeAdapter(seed + 1));
        writeAdapter(folder.resolve("depth/adapter.safetensors"), timeAdapter(seed + 2));
        TinyControl.writeControlNet(folder.resolve("image"), controlNet(seed + 3, 6));
        FgdmFolder.write(folder, manifest());
        return folder;
    }

    /** A TimeAdapter over one 4-channel latent for the tiny UNet, its zero-initialised convs randomised. */
    public static TimeAdapter timeAdapter(long seed) {
        torch.manual_seed(seed);
        TimeAdapter a = new TimeAdapter(4, List.of(32, 64), 1, 128, 16);
        TinyControl.randomise(a, 0.2);
        return a;
    }

    /** A tiny ControlNet over {@code hintChannels}-channel hints (3 per parent map), not a no-op. */
    public static ControlNetModel controlNet(long seed, int hintChannels) {
        return controlNet(TinyControl.unet(seed), seed + 1, hintChannels);
    }

    /** A ControlNet copied from {@code unet}'s encoder, its zero convolutions randomised from {@code seed}. */
    public static ControlNetModel controlNet(UNet2DConditionModel unet, long seed, int hintChannels) {
        ControlNetModel net = ControlNetModel.fromUnet(unet, TinyControl.HINT_WIDTHS, hintChannels);
        torch.manual_seed(seed);
        TinyControl.randomise(net.controlnetDownBlocks, 0.5);
        TinyControl.randomise(net.controlnetMidBlock, 0.5);
        TinyControl.randomise(net.controlnetCondEmbedding.convOut, 0.5);
        return net;
    }

    /** Writes adapter weights alone (names {@code conv_in.weight}, {@code body.N...}), as the spec's adapter files. */
    public static void writeAdapter(Path file, TimeAdapter adapter) throws IOException {
        Files.createDirectories(file.getParent());
        SafetensorsWriter.write(file, adapter.stateDict(), Map.of("format", "pt"));
    }

    /** A small palette for the tiny model's maps (colours far apart, as ToyWorld's). */
    public static Palette palette() { return MapEditsTest.PALETTE; }
}
