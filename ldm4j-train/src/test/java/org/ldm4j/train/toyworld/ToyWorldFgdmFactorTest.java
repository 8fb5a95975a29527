package org.ldm4j.train.toyworld;

import com.fasterxml.jackson.databind.ObjectMapper;
import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.NoGradGuard;
import org.bytedeco.pytorch.Scalar;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;
import org.ldm4j.methods.fgdm.Factor;
import org.ldm4j.methods.fgdm.FactorGraph;
import org.ldm4j.methods.fgdm.FgdmFolder;
import org.ldm4j.methods.fgdm.FgdmManifest;
import org.ldm4j.models.adapter.AdapterLoader;
import org.ldm4j.models.adapter.FeatureAdapter;
import org.ldm4j.models.adapter.TimeAdapter;
import org.ldm4j.models.controlnet.ControlNetLoader;
import org.ldm4j.models.controlnet.ControlNetModel;
import org.ldm4j.models.unet.UNetExtras;
import org.ldm4j.nn.Block;
import org.ldm4j.nn.Dtypes;
import org.ldm4j.nn.Param;
import org.ldm4j.nn.Rng;
import org.ldm4j.pipeline.ModelLoader;
import org.ldm4j.pipeline.StableDiffusion;
import org.ldm4j.pipeline.TinyStableDiffusion;
import org.ldm4j.train.LrSchedule;
import org.ldm4j.train.Trainer;
import org.ldm4j.weights.WeightSource;

import java.nio.file.Path;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.*;

/** The FG-DM factor recipes on the tiny random SD (16x16 images, VAE factor 2): seconds per test. */
class ToyWorldFgdmFactorTest {
    @TempDir static Path shared;
    static StableDiffusion sd;

    @BeforeAll static void load() throws Exception {
        torch.set_num_threads(1);
        sd = ModelLoader.load(TinyStableDiffusion.write(shared.resolve("tiny"), 3).toString(), Dtypes.device("cpu"), torch.ScalarType.Float);
    }

    static FgdmTrainingSettings settings(FgdmFactorKind kind, String extra) throws Exception {
        String json = "{\"batch_size\": 2, \"steps\": 20, \"lr\": 0.001" + extra + "}";
        return FgdmTrainingSettings.parse(new ObjectMapper().readTree(json), "test.json", kind, sd.defaultSize(), sd.vaeScaleFactor());
    }

    static Block branch(FgdmTrainingSettings s, long seed) {
        torch.manual_seed(seed);
        return ToyWorldFgdmFactor.newBranch(sd, s);
    }

    /** Every parameter set to a small random value, so zero-initialised convs (and the branch's output) are not zero. */
    static void perturb(Block b, long seed) {
        Rng rng = new Rng(seed);
        try (NoGradGuard g = new NoGradGuard()) {
            for (Param p : b.namedParameters().values()) p.t().add_(rng.randnLike(p.t()).mul(new Scalar(0.05)));
        }
    }

    static void zero(Block b) {
        try (NoGradGuard g = new NoGradGuard()) {
            for (Param p : b.namedParameters().values()) p.t().zero_();
        }
    }

    @ParameterizedTest
    @EnumSource(FgdmFactorKind.class)
    void lossIsFiniteAndFallsOnAFixedBatch(FgdmFactorKind kind, @TempDir Path dir) throws Exception {
        String extra = kind == FgdmFactorKind.SEG ? ", \"attention_distillation\": {\"weight\": 0.1, \"every\": 5}" : "";
        FgdmTrainingSettings s = settings(kind, extra);
        Block branch = branch(s, 1);
        ToyWorldFgdmFactor factor = new ToyWorldFgdmFactor(sd, s, branch, new SceneBatches(2, s.imageSize()));
        Trainer.Objective fixed = (step, rng) -> factor.loss(0, new Rng(7));   // one batch, one noise; step 0 distils (seg)
        double first = fixed.loss(0, null).item_double();
        assertTrue(Double.isFinite(first), kind + " loss " + first);
        Trainer trainer = new Trainer(branch, new Trainer.Options(20, new LrSchedule(1e-3, 0, 20, false, 1), 1.0, 0, 0, 20, 5, 0, dir));
        double last = trainer.run(fixed, 20);
        assertTrue(last < 0.9 * first, kind + ": loss " + first + " -> " + last + " over 20 steps");
    }

    @Test void zeroedBranchesLeaveTheBaseUNetAndLiveOnesChangeIt() throws Exception {
        try (PointerScope scope = new PointerScope(); NoGradGuard g = new NoGradGuard()) {
            Rng rng = new Rng(5);
            Tensor z = rng.randn(2, 4, 4, 4), t = torch.tensor(new long[]{10, 700});
            Tensor ctx = sd.textEncoder.promptEmbeds(torch.tensor(new long[]{1, 2, 3}).unsqueeze(0).expand(2, 3), 0);
            Tensor plain = sd.unet.forward(z, t, ctx, UNetExtras.NONE);

            FgdmTrainingSettings seg = settings(FgdmFactorKind.SEG, "");
            Block adapter = branch(seg, 2);
            ToyWorldFgdmFactor factor = new ToyWorldFgdmFactor(sd, seg, adapter, new SceneBatches(2, 16));
            perturb(adapter, 3);
            Tensor live = sd.unet.forward(z, t, ctx, UNetExtras.adapter(factor.adapterFeatures(z, t)));
            assertTrue(live.sub(plain).abs().max().item_double() > 1e-4, "a non-zero adapter must change the UNet");
            zero(adapter);
            Tensor off = sd.unet.forward(z, t, ctx, UNetExtras.adapter(factor.adapterFeatures(z, t)));
            assertEquals(0.0, off.sub(plain).abs().max().item_double(), 1e-6, "zero adapter features = the base UNet");

            FgdmTrainingSettings image = settings(FgdmFactorKind.IMAGE, "");
            ControlNetModel net = (ControlNetModel) branch(image, 4);
            Tensor hint = new Rng(6).rand(2, 3, 8, 8);
            Tensor fresh = sd.unet.forward(z, t, ctx, net.forward(z, t, ctx, hint, 1.0, false).toExtras());
            assertEquals(0.0, fresh.sub(plain).abs().max().item_double(), 1e-6, "zero convs at zero: ControlNet starts as the base UNet");
            perturb(net.controlnetMidBlock, 7);
            Tensor trained = sd.unet.forward(z, t, ctx, net.forward(z, t, ctx, hint, 1.0, false).toExtras());
            assertTrue(trained.sub(plain).abs().max().item_double() > 1e-4);
            // initialised from the UNet's encoder: same conv_in and first down block
            assertTrue(torch.equal(net.convIn.weight.t(), sd.unet.convIn.weight.t()));
        }
    }

    @Test void distillationIsZeroForTheTeacherItselfAndHasGradientOtherwise() throws Exception {
        FgdmTrainingSettings same = settings(FgdmFactorKind.SEG, ", \"attention_distillation\": {\"weight\": 0.1, \"teacher_scale\": 1}");
        Block adapter = branch(same, 8);
        zero(adapter);
        try (PointerScope scope = new PointerScope()) {
            ToyWorldFgdmFactor factor = new ToyWorldFgdmFactor(sd, same, adapter, new SceneBatches(2, 16));
            Tensor kl = factor.losses(3, new Rng(9), true).kl();
            assertEquals(0.0, kl.item_double(), 1e-7, "student == teacher");
        }
        FgdmTrainingSettings doubled = settings(FgdmFactorKind.SEG, ", \"attention_distillation\": {\"weight\": 0.1}");
        Block live = branch(doubled, 8);
        live.requiresGrad(true);
        try (PointerScope scope = new PointerScope()) {
            ToyWorldFgdmFactor factor = new ToyWorldFgdmFactor(sd, doubled, live, new SceneBatches(2, 16));
            ToyWorldFgdmFactor.Losses l = factor.losses(3, new Rng(9), true);
            assertTrue(l.kl().item_double() > 0, "KL " + l.kl().item_double());
            l.kl().backward();
            double grad = 0;
            for (Param p : live.namedParameters().values()) if (p.t().grad().defined()) grad += p.t().grad().abs().sum().item_double();
            assertTrue(grad > 0, "the KL must reach the adapter (the student maps keep their graph)");
        }
    }

    @Test void exportedFactorsLoadBackAndTheManifestKeepsOtherFactors(@TempDir Path dir) throws Exception {
        Path folder = dir.resolve("fgdm");
        java.nio.file.Files.createDirectories(folder);
        java.nio.file.Files.writeString(folder.resolve("fgdm.json"), """
                {"_class_name": "FactorGraph", "base_model": "../tiny",
                 "factors": [{"name": "sketch", "role": "condition", "map": "sketch", "parents": [], "conditioning": "noisy_latent_adapter",
                              "weights": "sketch/adapter.safetensors", "scale": 0.5, "width": 8, "height": 8, "steps": 10, "guidance_scale": 3.0}]}
                """);
        Path base = dir.resolve("tiny");
        Rng rng = new Rng(11);
        Tensor z = rng.randn(1, 4, 4, 4), t = torch.tensor(new long[]{300});

        FgdmTrainingSettings depth = settings(FgdmFactorKind.DEPTH, "");
        Block adapter = branch(depth, 12);
        perturb(adapter, 13);
        FgdmManifest written = FgdmExport.export(folder, depth, adapter, base, Map.of("step", "20"));
        assertEquals(Map.of("depth", List.of("seg")), written.missingParents(), "a child may be exported before its parent");
        assertEquals(written, manifest(folder));
        FgdmTrainingSettings seg = settings(FgdmFactorKind.SEG, "");
        FgdmExport.export(folder, seg, branch(seg, 14), base, Map.of());
        FgdmTrainingSettings image = settings(FgdmFactorKind.IMAGE, "");
        ControlNetModel net = (ControlNetModel) branch(image, 15);
        perturb(net, 16);
        FgdmExport.export(folder, image, net, base, Map.of());

        try (NoGradGuard g = new NoGradGuard(); WeightSource w = WeightSource.open(folder.resolve("depth/adapter.safetensors"))) {
            FeatureAdapter loaded = AdapterLoader.loadFgdm(w, sd.unet, sd.unet.config.normNumGroups());
            assertInstanceOf(TimeAdapter.class, loaded);
            ToyWorldFgdmFactor f = new ToyWorldFgdmFactor(sd, depth, adapter, new SceneBatches(1, 16));
            ToyWorldFgdmFactor g2 = new ToyWorldFgdmFactor(sd, depth, (Block) loaded, new SceneBatches(1, 16));
            List<Tensor> a = f.adapterFeatures(z, t), b = g2.adapterFeatures(z, t);
            for (int i = 0; i < a.size(); i++) assertClose(a.get(i), b.get(i), "adapter feature " + i);

            ControlNetModel back = ControlNetLoader.load(folder.resolve("image"), Dtypes.device("cpu"), torch.ScalarType.Float);
            Tensor ctx = sd.textEncoder.promptEmbeds(torch.tensor(new long[]{1, 2}).unsqueeze(0), 0);
            Tensor hint = new Rng(17).rand(1, 3, 8, 8);
            assertClose(sd.unet.forward(z, t, ctx, net.forward(z, t, ctx, hint, 1.0, false).toExtras()),
                    sd.unet.forward(z, t, ctx, back.forward(z, t, ctx, hint, 1.0, false).toExtras()), "UNet + ControlNet");
        }

        FgdmManifest manifest = manifest(folder);
        assertEquals("../tiny", manifest.baseModel());
        assertEquals(List.of("sketch", "seg", "depth", "image"), manifest.names(), "parents first, the other factor kept");
        assertEquals(0.5, manifest.factor("sketch").scale(), "sketch's entry untouched");
        assertEquals(8, manifest.factor("seg").width(), "seg at half the image side");
        assertEquals(FgdmExport.entry(image), manifest.factor("image"));
        FgdmExport.export(folder, seg, branch(seg, 18), base, Map.of());
        assertEquals(manifest, manifest(folder), "re-export replaces, does not add");

        // the methods module's reader builds the graph from what was exported (sketch gets seg's adapter to load)
        java.nio.file.Files.createDirectories(folder.resolve("sketch"));
        java.nio.file.Files.copy(folder.resolve("seg/adapter.safetensors"), folder.resolve("sketch/adapter.safetensors"));
        FactorGraph graph = FgdmFolder.read(folder).load(sd, ToyWorldMaps.palette());
        assertEquals(manifest.names(), graph.factors().stream().map(Factor::name).toList());

        byte[] before = java.nio.file.Files.readAllBytes(folder.resolve("seg/adapter.safetensors"));
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> FgdmExport.export(folder, seg, branch(seg, 1), dir.resolve("other"), Map.of()));
        assertTrue(e.getMessage().contains("base_model"), e.getMessage());
        assertArrayEquals(before, java.nio.file.Files.readAllBytes(folder.resolve("seg/adapter.safetensors")), "a refused export writes nothing");
        java.nio.file.Files.writeString(folder.resolve("fgdm.json"), "{\"_class_name\": \"FactorGraph\", \"base_model\": \"../tiny\", \"factors\": [], \"colour\": 1}");
        e = assertThrows(IllegalArgumentException.class, () -> FgdmExport.export(folder, seg, branch(seg, 1), base, Map.of()));
        assertTrue(e.getMessage().contains("\"colour\"") && e.getMessage().contains("fgdm.json"), e.getMessage());
    }

    /**
     * ControlNet's sd_locked=False: training moves the ControlNet and the UNet copy's decoder, never the copy's encoder
     * nor the base UNet; the export names the copy as the image factor's "unet" and the loaded graph denoises with it.
     */
    @Test void anUnlockedDecoderTrainsOnlyTheDecoderOfACopyAndTheGraphDenoisesWithIt(@TempDir Path dir) throws Exception {
        FgdmTrainingSettings s = settings(FgdmFactorKind.IMAGE, ", \"branch\": \"controlnet_decoder\"");
        assertEquals("image/unet", s.unetWeights());
        ControlNetWithUnetCopy b = (ControlNetWithUnetCopy) branch(s, 21);
        assertNotSame(sd.unet, b.unet);
        java.util.Set<String> names = b.namedParameters().keySet();
        assertTrue(names.stream().allMatch(n -> n.startsWith("controlnet.") || n.startsWith("unet.up_blocks.")
                || n.startsWith("unet.conv_norm_out.") || n.startsWith("unet.conv_out.")), names.toString());
        assertTrue(names.contains("unet.conv_out.weight") && names.contains("controlnet.conv_in.weight"), names.toString());
        Map<String, Tensor> base = new java.util.LinkedHashMap<>();
        sd.unet.namedParameters().forEach((n, p) -> base.put(n, p.t().detach().clone()));

        ToyWorldFgdmFactor factor = new ToyWorldFgdmFactor(sd, s, b, new SceneBatches(2, s.imageSize()));
        new Trainer(b, new Trainer.Options(3, new LrSchedule(1e-3, 0, 3, false, 1), 1.0, 0, 0, 3, 3, 0, dir.resolve("run"))).run(factor, 3);
        int decoderMoved = 0;
        for (Map.Entry<String, Param> e : b.unet.namedParameters().entrySet()) {
            String n = e.getKey();
            boolean same = torch.equal(e.getValue().t(), base.get(n));
            if (n.startsWith("up_blocks.") || n.startsWith("conv_norm_out.") || n.startsWith("conv_out.")) {
                if (!same) decoderMoved++;
            } else {
                assertTrue(same, "the copy's encoder stays the base's: " + n);
            }
            assertTrue(torch.equal(sd.unet.namedParameters().get(n).t(), base.get(n)), "the base UNet is untouched: " + n);
        }
        assertTrue(decoderMoved > 0, "the decoder trains");

        Path folder = dir.resolve("fgdm");
        java.nio.file.Files.createDirectories(folder);
        java.nio.file.Files.createSymbolicLink(dir.resolve("tiny"), shared.resolve("tiny"));   // the base, beside the folder
        FgdmTrainingSettings seg = settings(FgdmFactorKind.SEG, "");
        FgdmExport.export(folder, seg, branch(seg, 22), dir.resolve("tiny"), Map.of());
        FgdmExport.export(folder, s, b, dir.resolve("tiny"), Map.of());
        assertEquals("image/unet", manifest(folder).factor("image").unet());
        FactorGraph graph = FgdmFolder.read(folder).load(sd, ToyWorldMaps.palette());
        Factor image = graph.factors().stream().filter(f -> f.name().equals("image")).findFirst().orElseThrow();
        org.ldm4j.models.unet.UNet2DConditionModel loaded = image.unet(sd.unet);
        assertNotSame(sd.unet, loaded, "the image factor denoises with its own UNet");
        try (NoGradGuard g = new NoGradGuard()) {
            Rng rng = new Rng(23);
            Tensor z = rng.randn(1, 4, 4, 4), t = torch.tensor(new long[]{400});
            Tensor ctx = sd.textEncoder.promptEmbeds(torch.tensor(new long[]{1, 2}).unsqueeze(0), 0);
            assertClose(b.unet.forward(z, t, ctx, UNetExtras.NONE), loaded.forward(z, t, ctx, UNetExtras.NONE), "exported UNet");
        }

        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> settings(FgdmFactorKind.SEG, ", \"branch\": \"controlnet_decoder\""));
        assertTrue(e.getMessage().contains("\"branch\"") && e.getMessage().contains("[adapter, unet]"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> FgdmManifest.parse("""
                {"base_model": "b", "factors": [{"name": "seg", "role": "condition", "map": "segmentation", "conditioning": "own_unet",
                 "weights": "seg/unet", "unet": "seg/other", "width": 8, "height": 8, "steps": 5, "guidance_scale": 2}]}""", "m.json"));
        assertTrue(e.getMessage().contains("\"unet\" is for a controlnet_on_maps image factor"), e.getMessage());
    }

    /**
     * "controlnet_unet": every weight of the UNet copy trains beside the ControlNet, under the UNet's own names, and the
     * base UNet stays untouched.
     */
    @Test void aWholeUnetCopyTrainsEveryPartOfTheCopyAndNeverTheBase(@TempDir Path dir) throws Exception {
        FgdmTrainingSettings s = settings(FgdmFactorKind.IMAGE, ", \"branch\": \"controlnet_unet\"");
        assertEquals(FgdmTrainingSettings.UnetCopy.WHOLE, s.unetCopy());
        assertEquals("image/unet", s.unetWeights());
        ControlNetWithUnetCopy b = (ControlNetWithUnetCopy) branch(s, 24);
        java.util.Set<String> names = b.namedParameters().keySet();
        for (String n : b.unet.namedParameters().keySet()) assertTrue(names.contains("unet." + n), "the copy's " + n + " trains");
        assertEquals(b.controlNet.namedParameters().size() + b.unet.namedParameters().size(), names.size(), names.toString());
        Map<String, Tensor> before = new java.util.LinkedHashMap<>();
        b.unet.namedParameters().forEach((n, p) -> before.put(n, p.t().detach().clone()));
        Map<String, Tensor> base = new java.util.LinkedHashMap<>();
        sd.unet.namedParameters().forEach((n, p) -> base.put(n, p.t().detach().clone()));

        ToyWorldFgdmFactor factor = new ToyWorldFgdmFactor(sd, s, b, new SceneBatches(2, s.imageSize()));
        new Trainer(b, new Trainer.Options(3, new LrSchedule(1e-3, 0, 3, false, 1), 1.0, 0, 0, 3, 3, 0, dir.resolve("run"))).run(factor, 3);
        for (String part : new String[]{"conv_in.", "down_blocks.", "mid_block.", "up_blocks.", "conv_out."}) {
            assertTrue(b.unet.namedParameters().entrySet().stream().anyMatch(e -> e.getKey().startsWith(part)
                    && !torch.equal(e.getValue().t(), before.get(e.getKey()))), "the copy's " + part + "* trains");
        }
        sd.unet.namedParameters().forEach((n, p) -> assertTrue(torch.equal(p.t(), base.get(n)), "the base UNet is untouched: " + n));
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> settings(FgdmFactorKind.DEPTH, ", \"branch\": \"controlnet_unet\""));
        assertTrue(e.getMessage().contains("\"branch\""), e.getMessage());
    }

    static FgdmManifest manifest(Path folder) throws java.io.IOException {
        Path file = folder.resolve(FgdmFolder.MANIFEST);
        return FgdmManifest.parse(java.nio.file.Files.readString(file), file.toString());
    }

    @Test void configErrorsNameTheKey() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> settings(FgdmFactorKind.SEG, ", \"lr_warm\": 3"));
        assertTrue(e.getMessage().contains("test.json") && e.getMessage().contains("'lr_warm'"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> settings(FgdmFactorKind.DEPTH, ", \"attention_distillation\": {\"weight\": 0.1}"));
        assertTrue(e.getMessage().contains("attention_distillation"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> settings(FgdmFactorKind.SEG, ", \"attention_distillation\": {\"wieght\": 0.1}"));
        assertTrue(e.getMessage().contains("'attention_distillation.wieght'"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> settings(FgdmFactorKind.SEG, ", \"null_condition_modes\": [\"parents\"]"));
        assertTrue(e.getMessage().contains("no parents"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> settings(FgdmFactorKind.IMAGE, ", \"controlnet\": {\"conditioning_embedding_out_channels\": [16, 32, 96]}"));
        assertTrue(e.getMessage().contains("VAE factor"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> FgdmFactorKind.of("normals"));
        assertTrue(e.getMessage().contains("seg, depth, sketch, normal, image"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> settings(FgdmFactorKind.IMAGE, ", \"sample\": {\"scale\": 0}"));
        assertTrue(e.getMessage().contains("sample.scale"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> settings(FgdmFactorKind.SEG, ", \"sample\": {\"hint_unlabeled\": \"fill\"}"));
        assertTrue(e.getMessage().contains("\"hint_unlabeled\" is for a controlnet_on_maps image factor"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> settings(FgdmFactorKind.IMAGE, ", \"sample\": {\"hint_unlabeled\": \"fills\"}"));
        assertTrue(e.getMessage().contains("'fills'"), e.getMessage());
    }

    /** The image factor's hint setting goes into the exported entry (before, an export reset it to keep). */
    @Test void theImageFactorsHintSettingIsExported() throws Exception {
        assertEquals(FgdmManifest.HintUnlabeled.FILL,
                FgdmExport.entry(settings(FgdmFactorKind.IMAGE, ", \"sample\": {\"hint_unlabeled\": \"fill\"}")).hintUnlabeled());
        assertEquals(FgdmManifest.HintUnlabeled.KEEP, FgdmExport.entry(settings(FgdmFactorKind.IMAGE, "")).hintUnlabeled());
    }

    @Test void theSegFactorsSmallRegionSettingIsExportedAndCheckedBeforeTraining() throws Exception {
        assertEquals(new FgdmManifest.SmallRegions(8, 3),
                FgdmExport.entry(settings(FgdmFactorKind.SEG, ", \"sample\": {\"min_region_pixels\": 8, \"min_object_pixels\": 3}")).smallRegions());
        assertEquals(FgdmManifest.SmallRegions.KEEP, FgdmExport.entry(settings(FgdmFactorKind.SEG, "")).smallRegions());
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> settings(FgdmFactorKind.DEPTH, ", \"sample\": {\"min_region_pixels\": 8}"));
        assertTrue(e.getMessage().contains("segmentation factor"), e.getMessage());
    }

    @ParameterizedTest
    @EnumSource(FgdmFactorKind.class)
    void shippedConfigsParseForTheToyWorldModel(FgdmFactorKind kind) throws Exception {
        Path file = Path.of("..", "configs", "train", "toyworld-fgdm-" + kind.id() + ".json");
        var c = new ObjectMapper().readTree(file.toFile());
        FgdmTrainingSettings s = FgdmTrainingSettings.parse(c, file.toString(), kind, 64, 4);   // 64x64 images, VAE factor 4
        assertEquals(kind == FgdmFactorKind.IMAGE ? 64 : 32, s.factorSize());
        assertEquals(0.2, s.nullDropout());
        assertEquals(kind == FgdmFactorKind.SEG ? 0.1 : 0.0, s.distillWeight());
        assertTrue(c.get("_comment").asText().contains("ldm4j train fgdm --factor " + kind.id()));
        // sketch and normals sample with guidance toward their parent map (session 9, `eval fgdm children`); the export keeps it
        double mapGuidance = kind == FgdmFactorKind.SKETCH || kind == FgdmFactorKind.NORMAL ? 5.0 : 1.0;
        assertEquals(mapGuidance, s.sampleMapGuidance());
        assertEquals(mapGuidance, FgdmExport.entry(s).mapGuidance());
        assertEquals(mapGuidance, org.ldm4j.methods.fgdm.FgdmFolder.read(Path.of("..", "models", "toyworld-fgdm")).manifest.factor(kind.id()).mapGuidance(),
                "the committed fgdm.json samples as the config says");
    }

    /**
     * The fine-tunes on the current base start from the committed folder and balance the loss per object; the
     * full-size ones (session 12) train the seg factor and the image factor on maps at the image's side, and their
     * folder holds those two, on the same base and map decoder as the half-size graph.
     */
    @ParameterizedTest
    @org.junit.jupiter.params.provider.CsvSource({"seg,finetune", "image,finetune", "seg,full", "image,full"})
    void shippedFineTuneConfigsStartFromTheCommittedFactors(String id, String variant) throws Exception {
        String name = "toyworld-fgdm-" + id + "-" + variant + ".json";
        Path file = Path.of("..", "configs", "train", name);
        var c = new ObjectMapper().readTree(file.toFile());
        FgdmTrainingSettings s = FgdmTrainingSettings.parse(c, file.toString(), FgdmFactorKind.of(id), 64, 4);
        assertEquals("models/toyworld-fgdm", c.get("init").asText());
        assertEquals(2.0, s.objectWeighting().strength());
        assertTrue(c.get("first_seed").asLong() > 0, "fresh scenes");
        assertTrue(c.get("_comment").asText().contains("ldm4j train fgdm --factor " + id + " --config configs/train/" + name));
        if (!variant.equals("full")) return;
        assertEquals(64, s.factorSize());
        if (id.equals("image")) assertEquals(64, s.hintMapSize(), "the ControlNet learns from 64x64 class maps");
        assertTrue(c.get("_comment").asText().contains("--export models/toyworld-fgdm-full"));
        FgdmFolder full = FgdmFolder.read(Path.of("..", "models", "toyworld-fgdm-full"));
        FgdmFolder half = FgdmFolder.read(Path.of("..", "models", "toyworld-fgdm"));
        assertEquals(List.of("seg", "image"), full.manifest.names());
        assertEquals(64, full.manifest.factor(id).width());
        assertEquals(half.baseModel(), full.baseModel());
        assertTrue(java.nio.file.Files.isRegularFile(full.weights(full.manifest.factor("seg"))));
    }

    /**
     * Each committed folder's segmentation entry is what the last config of its reproduce chain exports, sample
     * settings included: session 16 lowered both root factors' guidance (`eval fgdm fidelity` sweeps), in the configs
     * and the folders alike.
     */
    @ParameterizedTest
    @org.junit.jupiter.params.provider.CsvSource({"toyworld-fgdm-seg-finetune.json, toyworld-fgdm, 3.0",
            "toyworld-fgdm-seg-unet-stage3.json, toyworld-fgdm-unet, 2.0"})
    void committedSegmentationEntriesAreWhatTheirLastConfigExports(String config, String folder, double guidance) throws Exception {
        Path file = Path.of("..", "configs", "train", config);
        FgdmTrainingSettings s = FgdmTrainingSettings.parse(new ObjectMapper().readTree(file.toFile()), file.toString(), FgdmFactorKind.SEG, 64, 4);
        var committed = FgdmFolder.read(Path.of("..", "models", folder)).manifest.factor("seg");
        assertEquals(FgdmExport.entry(s), committed, config + " exports " + folder + "'s entry");
        assertEquals(guidance, committed.guidanceScale());
    }

    /**
     * The graph on the 8-channel base (scripts/toyworld-fgdm8.sh) starts its factors fresh from that base (no
     * 'init': a 4-channel factor cannot be its start) or, in a later stage, from its own export; at full size, and
     * samples as the committed own-UNet graph.
     */
    @ParameterizedTest
    @org.junit.jupiter.params.provider.CsvSource({"seg, toyworld-fgdm8-seg-unet.json", "image, toyworld-fgdm8-image.json",
            "image, toyworld-fgdm8-image-stage2.json", "seg, toyworld-fgdm8-seg-unet-stage2.json",
            "seg, toyworld-fgdm8-seg-unet-stage3.json", "image, toyworld-fgdm8-image-stage3.json", "image, toyworld-fgdm8-image-decoder.json",
            "image, toyworld-fgdm8-image-decoder-stage2.json", "image, toyworld-fgdm8-image-whole.json", "image, toyworld-fgdm8-image-decoder-stage3.json"})
    void eightChannelGraphConfigsStartFromTheirBaseAndSampleAsTheCommittedGraph(String id, String config) throws Exception {
        Path file = Path.of("..", "configs", "train", config);
        var c = new ObjectMapper().readTree(file.toFile());
        FgdmTrainingSettings s = FgdmTrainingSettings.parse(c, file.toString(), FgdmFactorKind.of(id), 64, 4);
        assertTrue(!c.has("init") || c.get("init").asText().equals("models/toyworld-fgdm8"), "fresh from the 8-channel base or its own graph");
        assertEquals(64, s.factorSize());
        assertEquals(2.0, s.objectWeighting().strength());
        String comment = c.get("_comment").asText();
        assertTrue(comment.contains("ldm4j train fgdm --factor " + id + " --config configs/train/" + config)
                && comment.contains("--base models/toyworld-ldm8") && comment.contains("--export models/toyworld-fgdm8"), comment);
        var committed = FgdmFolder.read(Path.of("..", "models", "toyworld-fgdm-unet")).manifest.factor(id);
        var entry = FgdmExport.entry(s);
        assertEquals(committed.guidanceScale(), entry.guidanceScale());
        assertEquals(committed.conditioning(), entry.conditioning());
        assertEquals(config.contains("-decoder") ? FgdmTrainingSettings.UnetCopy.DECODER : config.contains("-whole")
                ? FgdmTrainingSettings.UnetCopy.WHOLE : FgdmTrainingSettings.UnetCopy.NONE, s.unetCopy(), "the config's name says what of the UNet trains");
        if (id.equals("image")) {
            assertEquals(64, s.hintMapSize());
            assertEquals(committed.scale(), entry.scale());
            assertEquals(committed.hintUnlabeled(), entry.hintUnlabeled());
        }
    }

    /** The committed 8-channel graph's image entry is what its last step (the unlocked decoder's third stage, session 28) exports. */
    @Test void theEightChannelGraphsImageFactorIsTheUnlockedDecodersExport() throws Exception {
        Path file = Path.of("..", "configs", "train", "toyworld-fgdm8-image-decoder-stage3.json");
        FgdmTrainingSettings s = FgdmTrainingSettings.parse(new ObjectMapper().readTree(file.toFile()), file.toString(), FgdmFactorKind.IMAGE, 64, 4);
        FgdmFolder folder = FgdmFolder.read(Path.of("..", "models", "toyworld-fgdm8"));   // checks the files it names, image/unet included
        assertEquals(FgdmExport.entry(s), folder.manifest.factor("image"));
        assertEquals("image/unet", folder.manifest.factor("image").unet());
        assertEquals("10", java.nio.file.Files.readString(Path.of("..", "models", "toyworld-fgdm8", "training-stage.txt")).strip());
    }

    static void assertClose(Tensor expected, Tensor actual, String what) {
        double scale = Math.max(1e-3, expected.abs().max().item_double());
        double diff = expected.sub(actual).abs().max().item_double();
        assertTrue(diff <= 5e-3 * scale, what + ": max diff " + diff + " (scale " + scale + ") beyond fp16 rounding");
    }
}
