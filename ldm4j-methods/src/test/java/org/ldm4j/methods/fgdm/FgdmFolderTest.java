package org.ldm4j.methods.fgdm;

import org.bytedeco.pytorch.InferenceMode;
import org.bytedeco.pytorch.global.torch;
import org.bytedeco.pytorch.global.torch.ScalarType;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.ldm4j.models.adapter.TimeAdapter;
import org.ldm4j.nn.Dtypes;
import org.ldm4j.nn.Engine;
import org.ldm4j.pipeline.TinyControl;
import org.ldm4j.pipeline.TinyStableDiffusion;
import org.ldm4j.weights.WeightFormatException;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.function.UnaryOperator;

import static org.junit.jupiter.api.Assertions.*;

/** Reading, checking and loading an FG-DM folder ({@link TinyFgdm}). */
class FgdmFolderTest {
    @TempDir static Path dir;
    static Path folder;
    static String json;

    @BeforeAll static void write() throws IOException {
        Engine.threads(1);
        folder = TinyFgdm.write(dir, 0);
        json = Files.readString(folder.resolve(FgdmFolder.MANIFEST));
    }

    @Test void theManifestRoundTripsThroughJsonAndTheFolder() throws IOException {
        FgdmManifest m = TinyFgdm.manifest();
        assertEquals(m, FgdmManifest.parse(m.toJson(), "x"));
        FgdmFolder f = FgdmFolder.read(folder);
        assertEquals(m, f.manifest);
        assertEquals(dir.resolve("tiny-ldm").normalize(), f.baseModel());
        assertEquals(FgdmManifest.MapKind.DEPTH, f.manifest.factor("depth").map());
        assertEquals(List.of("seg", "depth"), f.manifest.factor("image").parents());
    }

    /** Writes {@code edit(json)} as the manifest of a copy of the folder and reads it; returns the error message. */
    static String readError(UnaryOperator<String> edit) throws IOException {
        Path copy = copyWith(edit);
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> FgdmFolder.read(copy));
        assertTrue(e.getMessage().contains(FgdmFolder.MANIFEST), "names the file: " + e.getMessage());
        return e.getMessage();
    }

    /** A copy of the folder with {@code edit(json)} as its manifest. */
    static Path copyWith(UnaryOperator<String> edit) throws IOException {
        Path copy = Files.createTempDirectory(dir, "edited");
        for (Path p : Files.walk(folder).toList()) {
            Path to = copy.resolve(folder.relativize(p).toString());
            if (Files.isDirectory(p)) Files.createDirectories(to);
            else Files.copy(p, to);
        }
        String edited = edit.apply(json);
        assertNotEquals(json, edited, "the edit applies");
        Files.writeString(copy.resolve(FgdmFolder.MANIFEST), edited);
        return copy;
    }

    static void assertContains(String message, String... parts) {
        for (String p : parts) assertTrue(message.contains(p), "'" + p + "' in: " + message);
    }

    @Test void eachBadManifestGetsAMessageNamingTheKey() throws IOException {
        assertContains(readError(s -> s.replaceFirst("\"scale\"", "\"guidance\" : 3, \"scale\"")), "unknown key \"guidance\"", "factors[0] ('seg')");
        assertContains(readError(s -> s.replace("\"base_model\"", "\"base_model\" : \"x\", \"extra\"")), "unknown key \"extra\"");
        assertContains(readError(s -> s.replace("parent_latent_adapter", "parent_latents")), "unknown conditioning 'parent_latents'", "factors[1] ('depth')");
        assertContains(readError(s -> s.replace("\"map\" : \"depth\"", "\"map\" : \"height\"")), "unknown map 'height'", "factors[1]");
        assertContains(readError(s -> s.replace("\"role\" : \"image\"", "\"role\" : \"picture\"")), "unknown role 'picture'");
        assertContains(readError(s -> s.replace("depth/adapter.safetensors", "depth/missing.safetensors")), "\"weights\"", "missing.safetensors", "factors[1]");
        assertContains(readError(s -> s.replace("\"parents\" : [ \"seg\" ]", "\"parents\" : [ \"image\" ]")), "parent 'image'", "not declared before");
        assertContains(readError(s -> s.replace("noisy_latent_adapter", "parent_latent_adapter")), "factor 'seg'", "needs \"parents\"");
        assertContains(readError(s -> s.replace("controlnet_on_maps", "noisy_latent_adapter")), "factor 'image'", "root factor");
        assertContains(readError(s -> s.replace("\"width\" : 16", "\"width\" : \"16\"")), "\"width\" must be an integer");
        assertContains(readError(s -> s.replace("\"FactorGraph\"", "\"UNet2DConditionModel\"")), "_class_name");
        assertContains(readError(s -> s.replace("{", "[")), "not valid JSON");
    }

    /**
     * "map_guidance" (DualGuidance toward the parents' maps) is read, written back and used by the factors it is set
     * on only: the root's map is the same, its children change; a root cannot have it; 1 is the same as no key.
     */
    @Test void mapGuidanceIsReadWrittenAndChangesOnlyTheChildFactorsItIsSetOn() throws IOException {
        Path guided = copyWith(s -> s.replace("\"guidance_scale\" : 5.0\n  }, {\n    \"name\" : \"image\"",
                "\"guidance_scale\" : 5.0,\n    \"map_guidance\" : 2.5\n  }, {\n    \"name\" : \"image\""));
        FgdmFolder f = FgdmFolder.read(guided);
        assertEquals(2.5, f.manifest.factor("depth").mapGuidance());
        assertEquals(1.0, f.manifest.factor("image").mapGuidance());
        assertEquals(f.manifest, FgdmManifest.parse(f.manifest.toJson(), "x"));
        assertFalse(json.contains("map_guidance"), "1 is not written");
        assertContains(readError(s -> s.replaceFirst("\"scale\"", "\"map_guidance\" : 2, \"scale\"")), "factors[0] ('seg')", "\"map_guidance\" needs \"parents\"");
        FactorGraph plain = FgdmFolder.read(folder).load(Dtypes.device("cpu"), ScalarType.Float, TinyFgdm.palette());
        FactorGraph withMaps = f.load(Dtypes.device("cpu"), ScalarType.Float, TinyFgdm.palette());
        try (InferenceMode ignored = new InferenceMode()) {
            FactorGraphRequest r = FactorGraphRequest.of("a red house", 3, FactorGraphRequest.Mode.SEQUENTIAL);
            FactorGraphResult a = FactorGraphSampler.run(plain, r, null, null), b = FactorGraphSampler.run(withMaps, r, null, null);
            assertTrue(torch.equal(a.latents("seg"), b.latents("seg")), "the root has no maps to guide toward");
            assertFalse(torch.allclose(a.latents("depth"), b.latents("depth"), 1e-3, 1e-4, false), "depth is guided toward its seg map");
            // the ControlNet factor's null condition is a black hint
            Path imageGuided = copyWith(s -> s.replaceAll("(\"conditioning\" : \"controlnet_on_maps\",[^}]*\"guidance_scale\" : [0-9.]+)", "$1, \"map_guidance\" : 3"));
            FactorGraphResult c = FactorGraphSampler.run(FgdmFolder.read(imageGuided).load(Dtypes.device("cpu"), ScalarType.Float, TinyFgdm.palette()), r, null, null);
            for (String m : List.of("seg", "depth")) assertTrue(torch.equal(a.latents(m), c.latents(m)), m);
            assertFalse(torch.allclose(a.latents("image"), c.latents("image"), 1e-3, 1e-4, false), "the image is guided toward its maps");
        }
    }

    /**
     * "hint_unlabeled": read, written back ("keep", the default, is not written), refused on a factor that draws no
     * hint and for an unknown value; "fill" changes the image only where the decoded map has unlabeled pixels (the
     * tiny graph's maps are random, so they have some).
     */
    @Test void hintUnlabeledIsReadWrittenCheckedAndUsedByTheImageFactor() throws IOException {
        Path filled = copyWith(s -> s.replaceAll("(\"conditioning\" : \"controlnet_on_maps\",)", "$1 \"hint_unlabeled\" : \"fill\","));
        FgdmFolder f = FgdmFolder.read(filled);
        assertEquals(FgdmManifest.HintUnlabeled.FILL, f.manifest.factor("image").hintUnlabeled());
        assertEquals(FgdmManifest.HintUnlabeled.KEEP, FgdmFolder.read(folder).manifest.factor("image").hintUnlabeled());
        assertEquals(f.manifest, FgdmManifest.parse(f.manifest.toJson(), "x"));
        assertTrue(f.manifest.toJson().contains("\"hint_unlabeled\" : \"fill\""));
        assertFalse(json.contains("hint_unlabeled"), "keep is not written");
        assertContains(readError(s -> s.replaceFirst("\"scale\"", "\"hint_unlabeled\" : \"fill\", \"scale\"")), "factors[0] ('seg')",
                "\"hint_unlabeled\" is for a controlnet_on_maps image factor");
        assertContains(readError(s -> s.replaceAll("(\"conditioning\" : \"controlnet_on_maps\",)", "$1 \"hint_unlabeled\" : \"blur\",")),
                "hint_unlabeled", "blur");
        FactorGraph plain = FgdmFolder.read(folder).load(Dtypes.device("cpu"), ScalarType.Float, TinyFgdm.palette());
        FactorGraph withFill = f.load(Dtypes.device("cpu"), ScalarType.Float, TinyFgdm.palette());
        try (InferenceMode ignored = new InferenceMode()) {
            FactorGraphRequest r = FactorGraphRequest.of("a red house", 3, FactorGraphRequest.Mode.SEQUENTIAL);
            FactorGraphResult a = FactorGraphSampler.run(plain, r, null, null), b = FactorGraphSampler.run(withFill, r, null, null);
            for (String m : List.of("seg", "depth")) assertTrue(torch.equal(a.latents(m), b.latents(m)), m);
            ClassMap seg = SegmentationMaps.decode(a.decoded("seg"), TinyFgdm.palette(), FgdmFolder.tolerance(TinyFgdm.palette()));
            assertTrue(seg.area(ClassMap.UNLABELED) > 0, "the random tiny factor's map has unlabeled pixels");
            assertFalse(torch.allclose(a.latents("image"), b.latents("image"), 1e-3, 1e-4, false), "the image factor sees the filled hint");
        }
    }

    /**
     * "min_region_pixels" / "min_object_pixels": read, written back (0, the default, is not written), refused on a
     * factor whose map has no classes and when negative; the seg map handed on has no region below the minimum, and
     * the image factor draws from the cleaned map (the tiny graph's random maps are full of specks).
     */
    @Test void smallRegionsAreReadWrittenCheckedAndLeaveTheMapHandedOn() throws IOException {
        Path cleaned = copyWith(s -> s.replaceFirst("\"scale\"", "\"min_region_pixels\" : 6, \"min_object_pixels\" : 4, \"scale\""));
        FgdmFolder f = FgdmFolder.read(cleaned);
        assertEquals(new FgdmManifest.SmallRegions(6, 4), f.manifest.factor("seg").smallRegions());
        assertEquals(FgdmManifest.SmallRegions.KEEP, FgdmFolder.read(folder).manifest.factor("seg").smallRegions());
        assertEquals(f.manifest, FgdmManifest.parse(f.manifest.toJson(), "x"));
        assertFalse(json.contains("min_region_pixels") || json.contains("min_object_pixels"), "0 is not written");
        assertContains(readError(s -> s.replaceFirst("(\"map\" : \"depth\",)", "$1 \"min_region_pixels\" : 4,")), "factors[1] ('depth')",
                "are for a segmentation factor");
        assertContains(readError(s -> s.replaceFirst("\"scale\"", "\"min_object_pixels\" : -1, \"scale\"")), "factors[0] ('seg')", "must be >= 0");
        Palette palette = TinyFgdm.palette();
        FactorGraph plain = FgdmFolder.read(folder).load(Dtypes.device("cpu"), ScalarType.Float, palette);
        FactorGraph withCleaning = f.load(Dtypes.device("cpu"), ScalarType.Float, palette);
        try (InferenceMode ignored = new InferenceMode()) {
            FactorGraphRequest r = FactorGraphRequest.of("a red house", 3, FactorGraphRequest.Mode.SEQUENTIAL);
            FactorGraphResult a = FactorGraphSampler.run(plain, r, null, null), b = FactorGraphSampler.run(withCleaning, r, null, null);
            assertTrue(torch.equal(a.latents("seg"), b.latents("seg")), "the seg factor samples the same latents");
            int tolerance = FgdmFolder.tolerance(palette);
            ClassMap raw = SegmentationMaps.decode(a.decoded("seg"), palette, tolerance), handedOn = SegmentationMaps.decode(b.decoded("seg"), palette, tolerance);
            ClassMap expected = MapEdits.removeSmallRegions(raw, c -> palette.isObject(c) ? 4 : 6);
            assertNotEquals(raw, expected, "the random tiny factor's map has small regions");
            assertEquals(expected, handedOn);
            assertTrue(torch.equal(a.latents("depth"), b.latents("depth")), "depth reads the seg latents, not the map");
            assertFalse(torch.allclose(a.latents("image"), b.latents("image"), 1e-3, 1e-4, false), "the image factor's hint is the cleaned map");
        }
    }

    /** Factors are trained and exported one at a time: a child may be in the file before its parent. */
    @Test void factorsAddedOneAtATimeEndParentsFirstAndAGraphWithoutAParentIsRefused() throws IOException {
        FgdmManifest full = TinyFgdm.manifest();
        FgdmManifest.Entry seg = full.factor("seg"), depth = full.factor("depth"), image = full.factor("image");
        FgdmManifest noSeg = new FgdmManifest(full.baseModel(), List.of(depth)).withFactor(image);
        assertEquals(List.of("depth", "image"), noSeg.names());
        assertEquals(java.util.Map.of("depth", List.of("seg"), "image", List.of("seg")), noSeg.missingParents());
        assertEquals(full, noSeg.withFactor(seg), "seg moves before its children");
        assertEquals(java.util.Map.of(), full.missingParents());
        FgdmManifest.Entry rescaled = new FgdmManifest.Entry("depth", depth.role(), depth.map(), depth.parents(), depth.conditioning(),
                depth.weights(), 0.5, depth.width(), depth.height(), depth.steps(), depth.guidanceScale());
        assertEquals(List.of(seg, rescaled, image), full.withFactor(rescaled).factors(), "replaced in place");
        // a parent listed after its child is still an error in a file (only absent parents are allowed)
        assertContains(assertThrows(IllegalArgumentException.class, () -> new FgdmManifest("b", List.of(depth, seg))).getMessage(),
                "parent 'seg'", "not declared before");
        FgdmManifest.Entry a = new FgdmManifest.Entry("a", Factor.Role.CONDITION, FgdmManifest.MapKind.DEPTH, List.of("b"),
                FgdmManifest.Conditioning.PARENT_LATENT_ADAPTER, "a.safetensors", 1, 8, 8, 2, 5);
        FgdmManifest.Entry b = new FgdmManifest.Entry("b", Factor.Role.CONDITION, FgdmManifest.MapKind.DEPTH, List.of("a"),
                FgdmManifest.Conditioning.PARENT_LATENT_ADAPTER, "b.safetensors", 1, 8, 8, 2, 5);
        assertContains(assertThrows(IllegalArgumentException.class, () -> new FgdmManifest("b", List.of(a)).withFactor(b)).getMessage(), "cycle");

        Path partial = dir.resolve("partial");
        TinyFgdm.write(partial, 0);
        Path fgdm = partial.resolve("tiny-fgdm");
        FgdmFolder.write(fgdm, noSeg);
        FgdmFolder f = FgdmFolder.read(fgdm);
        assertEquals(noSeg, f.manifest);
        assertContains(assertThrows(IllegalArgumentException.class, () -> f.load(Dtypes.device("cpu"), ScalarType.Float, TinyFgdm.palette())).getMessage(),
                FgdmFolder.MANIFEST, "factor 'depth' needs parent [seg]", "--factor seg");
        // the exporter's view: adding seg back on the same base model restores the full manifest
        assertEquals(full, FgdmFolder.manifestWith(fgdm, partial.resolve("tiny-ldm"), seg));
        assertContains(assertThrows(IllegalArgumentException.class, () -> FgdmFolder.manifestWith(fgdm, partial.resolve("other"), seg)).getMessage(),
                FgdmFolder.MANIFEST, "base_model");
        // a link to the base model is the base model (the studio and the exporter ask the same question)
        Path link = Files.createSymbolicLink(dir.resolve("linked-ldm"), partial.resolve("tiny-ldm").toAbsolutePath());
        assertTrue(f.isBaseModel(link) && f.isBaseModel(partial.resolve("x/../tiny-ldm")), "a link or another spelling is the same model");
        assertFalse(f.isBaseModel(partial.resolve("fresh")), "a missing folder elsewhere is not");
        assertEquals(full, FgdmFolder.manifestWith(fgdm, link, seg));
        Path fresh = partial.resolve("fresh");
        assertEquals(new FgdmManifest("../tiny-ldm", List.of(depth)), FgdmFolder.manifestWith(fresh, partial.resolve("tiny-ldm"), depth),
                "a new folder's manifest names the base model relative to it");
    }

    @Test void weightsOfTheWrongKindOrWidthAreRefusedNamingTheFactor() throws IOException {
        Path copy = dir.resolve("wrong");
        TinyFgdm.write(copy, 0);
        Path fgdm = copy.resolve("tiny-fgdm");
        // the ControlNet's weights where depth's adapter should be
        Files.copy(fgdm.resolve("image/diffusion_pytorch_model.safetensors"), fgdm.resolve("depth/adapter.safetensors"),
                java.nio.file.StandardCopyOption.REPLACE_EXISTING);
        WeightFormatException kind = assertThrows(WeightFormatException.class,
                () -> FgdmFolder.read(fgdm).load(Dtypes.device("cpu"), ScalarType.Float, TinyFgdm.palette()));
        assertContains(kind.getMessage(), "factor 'depth'", "FG-DM adapter");
        // an adapter over two latents for a factor with one parent
        torch.manual_seed(5);
        TinyFgdm.writeAdapter(fgdm.resolve("depth/adapter.safetensors"), new TimeAdapter(8, List.of(32, 64), 1, 128, 16));
        WeightFormatException width = assertThrows(WeightFormatException.class,
                () -> FgdmFolder.read(fgdm).load(Dtypes.device("cpu"), ScalarType.Float, TinyFgdm.palette()));
        assertContains(width.getMessage(), "factor 'depth'", "8 input channels", "make 4");
        // a ControlNet for one parent map under an image factor with two parents
        TinyFgdm.writeAdapter(fgdm.resolve("depth/adapter.safetensors"), TinyFgdm.timeAdapter(2));
        TinyControl.writeControlNet(fgdm.resolve("image"), TinyFgdm.controlNet(4, 3));
        WeightFormatException hints = assertThrows(WeightFormatException.class,
                () -> FgdmFolder.read(fgdm).load(Dtypes.device("cpu"), ScalarType.Float, TinyFgdm.palette()));
        assertContains(hints.getMessage(), "factor 'image'", "3-channel hints", "make 6");
    }

    @Test void theLoadedGraphSamplesEveryFactorAtItsManifestSizeDeterministically() throws IOException {
        FactorGraph graph = FgdmFolder.read(folder).load(Dtypes.device("cpu"), ScalarType.Float, TinyFgdm.palette());
        assertEquals(List.of("seg", "depth", "image"), graph.factors().stream().map(Factor::name).toList());
        assertInstanceOf(FactorConditioning.NoisyLatentAdapter.class, graph.factor("seg").conditioning());
        assertInstanceOf(FactorConditioning.ParentLatentAdapter.class, graph.factor("depth").conditioning());
        FactorConditioning.ControlNetOnMaps c = assertInstanceOf(FactorConditioning.ControlNetOnMaps.class, graph.factor("image").conditioning());
        assertEquals(2, c.renderers().size());
        FactorSettings s = graph.factor("seg").settings();
        assertEquals(new FactorSettings(TinyFgdm.MAP_SIZE, TinyFgdm.MAP_SIZE, TinyFgdm.STEPS, 5.0, "ddim", 0, "", ""), s);
        try (InferenceMode ignored = new InferenceMode()) {
            FactorGraphRequest r = FactorGraphRequest.of("a red house", 3, FactorGraphRequest.Mode.SEQUENTIAL);
            FactorGraphResult a = FactorGraphSampler.run(graph, r, null, null), b = FactorGraphSampler.run(graph, r, null, null);
            FactorGraphResult other = FactorGraphSampler.run(graph, r.withSeed(4), null, null);
            for (String f : List.of("seg", "depth")) {
                assertArrayEquals(new long[]{1, 3, TinyFgdm.MAP_SIZE, TinyFgdm.MAP_SIZE}, a.decoded(f).sizes().vec().get(), f);
            }
            assertArrayEquals(new long[]{1, 3, TinyFgdm.IMAGE_SIZE, TinyFgdm.IMAGE_SIZE}, a.decoded("image").sizes().vec().get());
            for (String f : a.factors()) {
                assertTrue(torch.equal(a.decoded(f), b.decoded(f)), f + " reproduces with its seed");
                assertFalse(torch.equal(a.decoded(f), other.decoded(f)), f + " changes with the seed");
            }
        }
    }

    /**
     * "own_unet": the root factor denoises with the UNet folder it names instead of the shared one. Its latents are
     * exactly those of a text-only root over a base model whose UNet is that folder (same text encoder, VAE, seed),
     * and not those of a text-only root over the shared UNet; a UNet of the wrong latent width is refused.
     */
    @Test void aRootFactorWithItsOwnUnetDenoisesWithThatUnet() throws IOException {
        Path root = dir.resolve("own-unet");
        Path fgdm = TinyFgdm.write(root, 0);
        Path other = org.ldm4j.pipeline.TinyStableDiffusion.write(root.resolve("other"), 7);
        TinyStableDiffusion.copyTree(other.resolve("unet"), fgdm.resolve("seg/unet"));
        UnaryOperator<FgdmManifest.Entry> seg = e -> new FgdmManifest.Entry(e.name(), e.role(), e.map(), e.parents(),
                FgdmManifest.Conditioning.OWN_UNET, "seg/unet", e.scale(), e.width(), e.height(), e.steps(), e.guidanceScale());
        FgdmFolder.write(fgdm, withRoot(TinyFgdm.manifest(), seg));
        // the same base with its UNet swapped, and a text-only root over it
        Path mixed = root.resolve("mixed");
        TinyStableDiffusion.copyTree(root.resolve("tiny-ldm"), mixed);
        TinyStableDiffusion.copyTree(other.resolve("unet"), mixed.resolve("unet"));
        Path textOnly = root.resolve("text-only"), shared = root.resolve("shared");
        for (Path f : List.of(textOnly, shared)) TinyStableDiffusion.copyTree(fgdm, f);
        UnaryOperator<FgdmManifest.Entry> text = e -> new FgdmManifest.Entry(e.name(), e.role(), e.map(), e.parents(),
                FgdmManifest.Conditioning.TEXT_ONLY, null, e.scale(), e.width(), e.height(), e.steps(), e.guidanceScale());
        FgdmManifest sharedManifest = withRoot(TinyFgdm.manifest(), text);
        FgdmFolder.write(shared, sharedManifest);
        FgdmFolder.write(textOnly, new FgdmManifest("../mixed", sharedManifest.factors()));

        FactorGraph own = FgdmFolder.read(fgdm).load(Dtypes.device("cpu"), ScalarType.Float, TinyFgdm.palette());
        assertInstanceOf(FactorConditioning.OwnUnet.class, own.factor("seg").conditioning());
        FactorGraph swapped = FgdmFolder.read(textOnly).load(Dtypes.device("cpu"), ScalarType.Float, TinyFgdm.palette());
        FactorGraph plain = FgdmFolder.read(shared).load(Dtypes.device("cpu"), ScalarType.Float, TinyFgdm.palette());
        FactorGraphRequest r = FactorGraphRequest.of("a red house", 3, FactorGraphRequest.Mode.SEQUENTIAL).withSwitchedOff(java.util.Set.of("depth", "image"));
        try (InferenceMode ignored = new InferenceMode()) {
            org.bytedeco.pytorch.Tensor a = FactorGraphSampler.run(own, r, null, null).latents("seg");
            assertTrue(torch.allclose(a, FactorGraphSampler.run(swapped, r, null, null).latents("seg"), 1e-5, 1e-6, false), "the own UNet's latents");
            assertFalse(torch.allclose(a, FactorGraphSampler.run(plain, r, null, null).latents("seg"), 1e-3, 1e-3, false), "not the shared UNet's");
        }
        // a UNet over 8-channel latents cannot denoise the base VAE's 4-channel ones
        Path wide = fgdm.resolve("seg/unet/config.json");
        Files.writeString(wide, Files.readString(wide).replaceFirst("\"in_channels\"\\s*:\\s*4", "\"in_channels\": 8"));
        Exception e = assertThrows(Exception.class, () -> FgdmFolder.read(fgdm).load(Dtypes.device("cpu"), ScalarType.Float, TinyFgdm.palette()));
        assertContains(e.getMessage(), "factor 'seg'");
    }

    private static FgdmManifest withRoot(FgdmManifest m, UnaryOperator<FgdmManifest.Entry> change) {
        List<FgdmManifest.Entry> factors = new java.util.ArrayList<>(m.factors());
        factors.set(0, change.apply(factors.get(0)));
        return new FgdmManifest(m.baseModel(), factors);
    }

    /**
     * "map_vae": condition maps are read back with the map decoder, the image with the base VAE; the key survives a
     * factor's re-export and a JSON round trip; a missing folder is an error naming the key.
     */
    @Test void aMapVaeDecodesTheConditionMapsAndTheBaseVaeTheImage() throws IOException {
        Path copy = Files.createTempDirectory(dir, "mapvae");
        for (Path p : Files.walk(folder).toList()) {
            Path to = copy.resolve(folder.relativize(p).toString());
            if (Files.isDirectory(p)) Files.createDirectories(to);
            else Files.copy(p, to);
        }
        Path other = org.ldm4j.pipeline.TinyStableDiffusion.write(Files.createTempDirectory(dir, "other"), 7);
        Path mapVae = copy.resolve("map_vae");
        Files.createDirectories(mapVae);
        for (Path p : Files.list(other.resolve("vae")).toList()) Files.copy(p, mapVae.resolve(p.getFileName().toString()));
        FgdmManifest m = TinyFgdm.manifest().withMapVae("map_vae");
        assertEquals(m, FgdmManifest.parse(m.toJson(), "x"));
        assertEquals("map_vae", m.withFactor(m.factor("seg")).mapVae(), "re-exporting a factor keeps the map decoder");
        // the base model is one folder up from the copy, as for the original
        FgdmFolder.write(copy, new FgdmManifest("../tiny-ldm", m.factors(), "map_vae"));
        FactorGraph graph = FgdmFolder.read(copy).load(Dtypes.device("cpu"), ScalarType.Float, TinyFgdm.palette());
        var decoder = org.ldm4j.pipeline.ModelLoader.loadVae(mapVae, Dtypes.device("cpu"), ScalarType.Float);
        try (InferenceMode ignored = new InferenceMode()) {
            var z = new org.ldm4j.nn.Rng(5).randn(1, 4, 4, 4);
            var expected = decoder.decode(z.div(new org.bytedeco.pytorch.Scalar(decoder.config().scalingFactor())));
            assertTrue(torch.allclose(expected, graph.decode("seg", z), 1e-5, 1e-6, false), "seg through the map decoder");
            assertFalse(torch.allclose(graph.sd.decodeLatents(z), graph.decode("seg", z), 1e-3, 1e-3, false), "not through the base VAE");
            assertTrue(torch.equal(graph.sd.decodeLatents(z), graph.decode("image", z)), "the image through the base VAE");
        }
        FgdmFolder.write(copy, new FgdmManifest("../tiny-ldm", m.factors(), "no_such_vae"));
        assertContains(assertThrows(IllegalArgumentException.class,
                () -> FgdmFolder.read(copy).load(Dtypes.device("cpu"), ScalarType.Float, TinyFgdm.palette())).getMessage(), "\"map_vae\"", "no_such_vae");
        assertContains(assertThrows(IllegalArgumentException.class, () -> TinyFgdm.manifest().withMapVae(" ")).getMessage(), "\"map_vae\" is empty");
    }
}
