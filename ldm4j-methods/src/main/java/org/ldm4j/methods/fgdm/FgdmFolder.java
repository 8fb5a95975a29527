package org.ldm4j.methods.fgdm;

import org.bytedeco.pytorch.Device;
import org.bytedeco.pytorch.global.torch.ScalarType;
import org.ldm4j.image.AtomicFiles;
import org.ldm4j.models.adapter.AdapterLoader;
import org.ldm4j.models.adapter.FeatureAdapter;
import org.ldm4j.models.controlnet.ControlNetLoader;
import org.ldm4j.models.controlnet.ControlNetModel;
import org.ldm4j.pipeline.ModelLoader;
import org.ldm4j.pipeline.StableDiffusion;
import org.ldm4j.weights.WeightFormatException;
import org.ldm4j.weights.WeightSource;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * A trained FG-DM on disk (docs/fgdm-folder.md): {@code fgdm.json} ({@link FgdmManifest}) plus one weights
 * file or folder per trained factor, over a frozen base LDM.
 *
 * <pre>
 *   fgdm.json                       the manifest
 *   seg/adapter.safetensors         root factor: FG-DM TimeAdapter (or plain latent Adapter) weights alone
 *   depth/adapter.safetensors       child factor: adapter over the parents' latents (4 x #parents channels in)
 *   image/config.json + image/diffusion_pytorch_model.safetensors   image factor: a diffusers ControlNetModel
 * </pre>
 *
 * {@link #read} checks the manifest and that every weights path exists; {@link #load} builds the {@link FactorGraph}
 * and checks that every parent is there (a folder still being trained may lack some) and that each weights file is
 * the kind and width its factor needs. {@link #manifestWith} is how a trainer adds the factor it exports. Segmentation parents of a ControlNet are
 * drawn in the caller's palette (the methods module does not know ToyWorld; the CLI passes ToyWorld's).
 */
public final class FgdmFolder {
    public static final String MANIFEST = "fgdm.json";

    public final Path folder;
    public final FgdmManifest manifest;

    private FgdmFolder(Path folder, FgdmManifest manifest) {
        this.folder = folder;
        this.manifest = manifest;
    }

    /**
     * Reads and checks {@code folder/fgdm.json}: bad JSON, unknown keys or values, parents not declared before, and
     * missing weights are {@link IllegalArgumentException}s naming the file and key.
     */
    public static FgdmFolder read(Path folder) throws IOException {
        FgdmFolder f = manifestOf(folder);
        Path file = folder.resolve(MANIFEST);
        FgdmManifest m = f.manifest;
        for (int i = 0; i < m.factors().size(); i++) {
            FgdmManifest.Entry e = m.factors().get(i);
            if (e.weights() == null) continue;
            Path w = f.weights(e);
            String at = file + ": factors[" + i + "] ('" + e.name() + "') \"weights\": ";
            if (e.conditioning() == FgdmManifest.Conditioning.CONTROLNET_ON_MAPS) {
                if (Files.isDirectory(w) && !Files.isRegularFile(w.resolve("config.json"))) {
                    throw new IllegalArgumentException(at + w + " has no config.json: a ControlNet folder needs config.json + diffusion_pytorch_model.safetensors");
                }
                if (!Files.exists(w)) throw new IllegalArgumentException(at + "no ControlNet folder or file at " + w);
                if (e.unet() != null && !Files.isRegularFile(f.folder.resolve(e.unet()).resolve("config.json"))) {
                    throw new IllegalArgumentException(file + ": factors[" + i + "] ('" + e.name() + "') \"unet\": no UNet folder at "
                            + f.folder.resolve(e.unet()).normalize() + " (a diffusers UNet folder: config.json + diffusion_pytorch_model.safetensors)");
                }
            } else if (e.conditioning() == FgdmManifest.Conditioning.OWN_UNET) {
                if (!Files.isRegularFile(w.resolve("config.json"))) {
                    throw new IllegalArgumentException(at + "no UNet folder at " + w + " (a diffusers UNet folder: config.json + diffusion_pytorch_model.safetensors)");
                }
            } else if (!Files.isRegularFile(w)) {
                throw new IllegalArgumentException(at + "no adapter weights file at " + w);
            }
        }
        return f;
    }

    /** {@code folder/fgdm.json} parsed and checked, without looking at the weights it names. */
    private static FgdmFolder manifestOf(Path folder) throws IOException {
        if (!Files.isDirectory(folder)) throw new NoSuchFileException(folder.toString(), null, "no FG-DM folder");
        Path file = folder.resolve(MANIFEST);
        if (!Files.isRegularFile(file)) {
            throw new IllegalArgumentException(folder + " is not an FG-DM folder: it has no " + MANIFEST);
        }
        return new FgdmFolder(folder, FgdmManifest.parse(Files.readString(file, StandardCharsets.UTF_8), file.toString()));
    }

    /** Writes {@code folder/fgdm.json} atomically (the weights are the trainer's to write). */
    public static void write(Path folder, FgdmManifest manifest) throws IOException {
        Files.createDirectories(folder);
        AtomicFiles.write(folder.resolve(MANIFEST), manifest.toJson().getBytes(StandardCharsets.UTF_8));
    }

    /**
     * {@code folder/fgdm.json} with one factor's entry added or replaced ({@link FgdmManifest#withFactor}: the other
     * factors kept, parents first), or a new manifest of that factor when there is none; {@link #write} it once the
     * factor's weights are in place. The other factors' weights are not looked at, so factors can be (re)trained in
     * any order.
     *
     * @param baseModel the base model the factor was trained on: written relative to {@code folder}; a manifest
     *                  whose {@code base_model} is another model is refused (its factors would not fit)
     */
    public static FgdmManifest manifestWith(Path folder, Path baseModel, FgdmManifest.Entry entry) throws IOException {
        FgdmManifest manifest;
        if (Files.isRegularFile(folder.resolve(MANIFEST))) {
            FgdmFolder had = manifestOf(folder);
            if (!had.isBaseModel(baseModel)) {
                throw new IllegalArgumentException(folder.resolve(MANIFEST) + ": its factors were trained on base_model "
                        + had.baseModel().toAbsolutePath() + ", not " + baseModel.toAbsolutePath().normalize() + " (use another FG-DM folder)");
            }
            manifest = had.manifest.withFactor(entry);
        } else {
            manifest = new FgdmManifest(relative(folder, baseModel), List.of(entry));
        }
        return manifest;
    }

    /** {@code target} relative to {@code folder} ('/'-separated), or absolute when there is no relative path. */
    private static String relative(Path folder, Path target) {
        Path f = folder.toAbsolutePath().normalize(), t = target.toAbsolutePath().normalize();
        try {
            return f.relativize(t).toString().replace('\\', '/');
        } catch (IllegalArgumentException differentRoots) {
            return t.toString();
        }
    }

    /** The base model's path: {@code base_model} resolved against the folder (or as is when absolute). */
    public Path baseModel() { return folder.resolve(manifest.baseModel()).normalize(); }

    /**
     * Whether {@code model} is this folder's {@code base_model}: the same file system entry when both exist (a link or
     * another spelling of the path is the same model), the same normalized absolute path when either does not.
     */
    public boolean isBaseModel(Path model) throws IOException {
        Path base = baseModel();
        if (Files.exists(model) && Files.exists(base)) return Files.isSameFile(model, base);
        return model.toAbsolutePath().normalize().equals(base.toAbsolutePath().normalize());
    }

    /** Where a factor's weights are (null for text_only). */
    public Path weights(FgdmManifest.Entry e) { return e.weights() == null ? null : folder.resolve(e.weights()).normalize(); }

    /** Loads the base model from {@code base_model} and builds the graph on it. */
    public FactorGraph load(Device device, ScalarType dtype, Palette palette) throws IOException {
        requireAllParents();   // before the base model's seconds of loading
        Path base = baseModel();
        if (!Files.exists(base)) {
            throw new IllegalArgumentException(folder.resolve(MANIFEST) + ": \"base_model\" '" + manifest.baseModel() + "' -> " + base
                    + " does not exist (train or download the base LDM first)");
        }
        return load(ModelLoader.load(base.toString(), device, dtype), palette);
    }

    /**
     * Builds the graph on an already loaded base model (e.g. shared with other commands). Every factor gets its
     * manifest settings: DDIM, eta 0, "" as the unconditional text, no prompt suffix.
     *
     * @param palette the colours segmentation parents are decoded and drawn with for a ControlNet's hint
     */
    public FactorGraph load(StableDiffusion sd, Palette palette) throws IOException {
        if (palette == null) throw new IllegalArgumentException("a palette is needed to draw segmentation maps");
        requireAllParents();
        int tolerance = tolerance(palette);
        List<Factor> factors = new ArrayList<>();
        for (FgdmManifest.Entry e : manifest.factors()) {
            FactorConditioning c = switch (e.conditioning()) {
                case TEXT_ONLY -> new FactorConditioning.TextOnly();
                case NOISY_LATENT_ADAPTER -> new FactorConditioning.NoisyLatentAdapter(adapter(sd, e), e.scale());
                case OWN_UNET -> new FactorConditioning.OwnUnet(ownUnet(sd, e));
                case PARENT_LATENT_ADAPTER -> new FactorConditioning.ParentLatentAdapter(adapter(sd, e), e.scale());
                case CONTROLNET_ON_MAPS -> {
                    List<HintRenderer> renderers = new ArrayList<>();
                    for (String p : e.parents()) {
                        renderers.add(manifest.factor(p).map() == FgdmManifest.MapKind.SEGMENTATION
                                ? HintRenderer.segmentation(palette, tolerance, e.hintUnlabeled() == FgdmManifest.HintUnlabeled.FILL)
                                : HintRenderer.continuous());
                    }
                    yield new FactorConditioning.ControlNetOnMaps(controlNet(sd, e), e.scale(), renderers,
                            e.unet() == null ? null : unet(sd, e, folder.resolve(e.unet()).normalize()));
                }
            };
            MapReadout readout = e.map() == FgdmManifest.MapKind.SEGMENTATION
                    ? MapReadout.withoutSmallRegions(palette, tolerance, e.smallRegions()) : MapReadout.RAW;
            factors.add(new Factor(e.name(), e.role(), e.parents(), c, e.settings(), readout));
        }
        org.ldm4j.models.vae.AutoencoderKL mapDecoder = null;
        if (manifest.mapVae() != null) {
            Path vae = folder.resolve(manifest.mapVae()).normalize();
            if (!Files.isRegularFile(vae.resolve("config.json"))) {
                throw new IllegalArgumentException(folder.resolve(MANIFEST) + ": \"map_vae\" '" + manifest.mapVae() + "' -> " + vae
                        + " is not a VAE folder (no config.json); train it with ldm4j train vae --config configs/train/toyworld-map-decoder.json");
            }
            mapDecoder = org.ldm4j.pipeline.ModelLoader.loadVae(vae, sd.device(), sd.vae.dtype());
        }
        try {
            return new FactorGraph(sd, factors, mapDecoder);
        } catch (IllegalArgumentException ex) {
            throw new IllegalArgumentException(folder.resolve(MANIFEST) + ": " + ex.getMessage(), ex);
        }
    }

    /** A folder still being trained may name parents it does not have yet: no graph can be sampled from it. */
    private void requireAllParents() {
        for (Map.Entry<String, List<String>> m : manifest.missingParents().entrySet()) {
            List<String> parents = m.getValue();
            throw new IllegalArgumentException(folder.resolve(MANIFEST) + ": factor '" + m.getKey() + "' needs parent"
                    + (parents.size() > 1 ? "s " : " ") + parents + ", which this FG-DM folder does not have yet (train and export "
                    + (parents.size() > 1 ? "them" : "it") + " first: ldm4j train fgdm --factor " + parents.get(0) + ")");
        }
    }

    /**
     * Per-channel tolerance for reading a palette's colours back: just under half the smallest distance between two
     * classes, so that no colour can decode as two classes (63 for ToyWorld, whose colours differ by >= 127).
     */
    public static int tolerance(Palette palette) {
        return palette.size() < 2 ? 63 : Math.max(0, (palette.minDistance() - 1) / 2);
    }

    private FeatureAdapter adapter(StableDiffusion sd, FgdmManifest.Entry e) throws IOException {
        Path file = weights(e);
        FeatureAdapter adapter;
        try (WeightSource w = WeightSource.open(file)) {
            adapter = AdapterLoader.loadFgdm(w, sd.unet, sd.unet.config.normNumGroups());
        } catch (WeightFormatException ex) {
            throw new WeightFormatException(where(e) + ex.getMessage(), ex);
        }
        int expected = sd.latentChannels() * Math.max(1, e.parents().size());
        if (adapter.inChannels() != expected) {
            throw new WeightFormatException(where(e) + file + " takes " + adapter.inChannels() + " input channels, but "
                    + (e.parents().isEmpty() ? "a root factor's adapter reads its own " + sd.latentChannels() + "-channel latent"
                    : e.parents().size() + " parent latents of " + sd.latentChannels() + " channels make " + expected));
        }
        return adapter;
    }

    /** A factor's own UNet: a diffusers UNet folder whose latents and text states are the base model's. */
    private org.ldm4j.models.unet.UNet2DConditionModel ownUnet(StableDiffusion sd, FgdmManifest.Entry e) throws IOException {
        return unet(sd, e, weights(e));
    }

    /** The diffusers UNet folder {@code dir} of factor {@code e}, checked against the base model's latents and text states. */
    private org.ldm4j.models.unet.UNet2DConditionModel unet(StableDiffusion sd, FgdmManifest.Entry e, Path dir) throws IOException {
        org.ldm4j.models.unet.UNet2DConditionModel unet;
        try {
            unet = org.ldm4j.pipeline.ModelLoader.loadUnet(dir, sd.device(), sd.dtype());
        } catch (WeightFormatException ex) {
            throw new WeightFormatException(where(e) + ex.getMessage(), ex);
        }
        var c = unet.config;
        if (c.inChannels() != sd.latentChannels() || c.outChannels() != sd.latentChannels()) {
            throw new WeightFormatException(where(e) + dir + " denoises " + c.inChannels() + "-channel latents, the base model's VAE makes "
                    + sd.latentChannels());
        }
        if (!c.crossAttentionDim().equals(sd.unet.config.crossAttentionDim())) {
            throw new WeightFormatException(where(e) + dir + " reads " + c.crossAttentionDim() + "-wide text states, the base model's text encoder gives "
                    + sd.unet.config.crossAttentionDim());
        }
        return unet;
    }

    private ControlNetModel controlNet(StableDiffusion sd, FgdmManifest.Entry e) throws IOException {
        Path path = weights(e);
        ControlNetModel net;
        try {
            net = ControlNetLoader.load(path, sd.device(), sd.dtype());
        } catch (WeightFormatException ex) {
            throw new WeightFormatException(where(e) + ex.getMessage(), ex);
        }
        int expected = 3 * e.parents().size();
        if (net.config.conditioningChannels() != expected) {
            throw new WeightFormatException(where(e) + path + " takes " + net.config.conditioningChannels() + "-channel hints, but "
                    + e.parents().size() + " parent maps " + e.parents() + " drawn as RGB make " + expected);
        }
        if (net.hintDownscale() != sd.vaeScaleFactor()) {
            throw new WeightFormatException(where(e) + path + " encodes hints down by " + net.hintDownscale() + ", but the base model's VAE factor is "
                    + sd.vaeScaleFactor());
        }
        return net;
    }

    private String where(FgdmManifest.Entry e) {
        return folder.resolve(MANIFEST) + ": factor '" + e.name() + "' \"weights\": ";
    }

    @Override public String toString() { return "FgdmFolder[" + folder + ", factors " + manifest.names() + "]"; }
}
