package org.ldm4j.models.adapter;

import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.LongOptional;
import org.bytedeco.pytorch.Scalar;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.TensorOptional;
import org.bytedeco.pytorch.global.torch;
import org.bytedeco.pytorch.global.torch.ScalarType;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.ldm4j.models.unet.UNet2DConditionModel;
import org.ldm4j.nn.Conv2d;
import org.ldm4j.nn.Dtypes;
import org.ldm4j.nn.Param;
import org.ldm4j.nn.Rng;
import org.ldm4j.pipeline.TinyControl;
import org.ldm4j.weights.SafetensorsWriter;
import org.ldm4j.weights.WeightFormatException;

import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.junit.jupiter.api.Assertions.*;

class AdapterTest {
    @TempDir Path dir;

    @BeforeAll static void threads() { torch.set_num_threads(1); }

    static Tensor conv(Tensor x, Conv2d c) {
        return torch.conv2d(x, c.weight.t(), new TensorOptional(c.bias.t()), new long[]{c.stride, c.stride},
                new long[]{c.padding, c.padding}, new long[]{1, 1}, 1);
    }

    static Tensor pool(Tensor x) {
        return torch.avg_pool2d(x, new long[]{2, 2}, new long[]{2, 2}, new long[]{0, 0}, false, true, new LongOptional());
    }

    static boolean close(Tensor a, Tensor b) { return torch.allclose(a, b, 1e-5, 1e-6, false); }

    @Test void fullAdapterIsUnshuffleConvAndResnetsComposedByHand() {
        try (PointerScope scope = new PointerScope()) {
            T2IAdapter adapter = TinyControl.adapter(5);
            Tensor img = new Rng(1).rand(1, 3, 16, 16);
            List<Tensor> f = adapter.forward(img);
            FullAdapter full = (FullAdapter) adapter.children().get("adapter");
            Tensor x = conv(torch.pixel_unshuffle(img, 2), full.convIn);
            List<Tensor> expected = new java.util.ArrayList<>();
            for (AdapterBlock b : full.body.items()) {
                if (b.down) x = pool(x);
                if (b.inConv != null) x = conv(x, b.inConv);
                for (AdapterResnetBlock r : b.resnets.items()) x = conv(torch.relu(conv(x, r.block1)), r.block2).add(x);
                expected.add(x);
            }
            assertEquals(2, f.size());
            for (int i = 0; i < 2; i++) assertTrue(close(expected.get(i), f.get(i)), "feature " + i);
            assertArrayEquals(new long[]{1, 32, 8, 8}, f.get(0).sizes().vec().get());
            assertArrayEquals(new long[]{1, 64, 4, 4}, f.get(1).sizes().vec().get());
            assertEquals(4, adapter.totalDownscaleFactor());
        }
    }

    @Test void lightAdapterHasOneMoreLevel() {
        try (PointerScope scope = new PointerScope()) {
            T2IAdapter light = new T2IAdapter(new T2IAdapterConfig(3, List.of(32, 64), 2, 2, T2IAdapterConfig.LIGHT));
            List<Tensor> f = light.forward(new Rng(1).rand(1, 3, 16, 16));
            assertEquals(3, f.size());
            assertArrayEquals(new long[]{1, 64, 2, 2}, f.get(2).sizes().vec().get());
            assertEquals(List.of(32, 64, 64), light.featureChannels());
            assertEquals("adapter.body.2.resnets.1.block2.bias", OriginalT2IAdapter.lightName("body.2.body.1.block2.bias"));
            assertEquals("adapter.body.0.out_conv.weight", OriginalT2IAdapter.lightName("body.0.out_conv.weight"));
        }
    }

    /** diffusers name -> original flat name, written independently of the converter. */
    static String toOriginal(String n, int perLevel) {
        if (n.startsWith("adapter.conv_in.")) return n.substring("adapter.".length());
        Matcher m = Pattern.compile("adapter\\.body\\.(\\d+)\\.resnets\\.(\\d+)\\.(.+)").matcher(n);
        if (m.matches()) return "body." + (Integer.parseInt(m.group(1)) * perLevel + Integer.parseInt(m.group(2))) + "." + m.group(3);
        m = Pattern.compile("adapter\\.body\\.(\\d+)\\.in_conv\\.(.+)").matcher(n);
        if (m.matches()) return "body." + (Integer.parseInt(m.group(1)) * perLevel) + ".in_conv." + m.group(2);
        throw new AssertionError(n);
    }

    @Test void originalLayoutConvertsToIdenticalTensorsWithAnInferredConfig() throws Exception {
        T2IAdapter adapter = new T2IAdapter(new T2IAdapterConfig(1, List.of(32, 64), 2, 2, T2IAdapterConfig.FULL));
        Map<String, Tensor> original = new LinkedHashMap<>();
        adapter.stateDict().forEach((n, t) -> original.put(toOriginal(n, 2), t));
        assertTrue(original.containsKey("body.2.in_conv.weight") && original.containsKey("body.3.block2.bias"), original.keySet().toString());
        SafetensorsWriter.write(dir.resolve("t2iadapter_sketch.safetensors"), original, Map.of());
        T2IAdapter loaded = AdapterLoader.loadT2I(dir.resolve("t2iadapter_sketch.safetensors"), 2, 2, Dtypes.device("cpu"), ScalarType.Float);
        assertEquals(adapter.config, loaded.config);
        Map<String, Param> l = loaded.namedParameters();
        adapter.namedParameters().forEach((n, p) -> assertTrue(torch.equal(p.t(), l.get(n).t()), n));

        Path folder = TinyControl.writeAdapter(dir.resolve("diffusers"), adapter);
        T2IAdapter again = AdapterLoader.loadT2I(folder, 2, 8, Dtypes.device("cpu"), ScalarType.Float);
        assertEquals(adapter.config, again.config, "a folder's config.json wins over the hints");
    }

    @Test void wrongKindIsNamed() throws Exception {
        UNet2DConditionModel unet = TinyControl.unet(1);
        SafetensorsWriter.write(dir.resolve("unet.safetensors"), unet.stateDict(), Map.of());
        Exception e = assertThrows(WeightFormatException.class,
                () -> AdapterLoader.loadT2I(dir.resolve("unet.safetensors"), 2, 2, Dtypes.device("cpu"), ScalarType.Float));
        assertTrue(e.getMessage().contains("is a diffusers UNet2DConditionModel, not a T2I-Adapter"), e.getMessage());
    }

    @Test void timeAdapterBlocksAreTheLdmResBlockAndStartAsTheirSkipPath() {
        try (PointerScope scope = new PointerScope()) {
            UNet2DConditionModel unet = TinyControl.unet(1);
            torch.manual_seed(2);
            TimeAdapter adapter = new TimeAdapter(4, List.of(32, 64), 2, 128, 32);
            Rng rng = new Rng(1);
            Tensor z = rng.randn(1, 4, 8, 8), emb = rng.randn(1, 128);
            // at initialisation every block is its skip path: identity, or pool + 1x1 conv when it changes width
            Tensor x = conv(z, adapter.convIn);
            List<Tensor> f = adapter.features(z, emb);
            assertTrue(close(x, f.get(0)), "level 0 = conv_in(z): both blocks are identities");
            TimeAdapterResBlock down = adapter.body.get(2);
            assertTrue(close(conv(pool(x), down.skipConnection), f.get(1)), "level 1 = skip(pool(x))");

            // with a trained output conv, a block is the hand-composed LDM ResBlock
            TinyControl.randomise(down.outConv, 0.1);
            Tensor h = conv(pool(torch.silu(torch.group_norm(x, 32, new TensorOptional(down.inNorm.weight.t()),
                    new TensorOptional(down.inNorm.bias.t()), 1e-5, false))), down.inConv);
            h = h.add(torch.linear(torch.silu(emb), down.embProj.weight.t(), new TensorOptional(down.embProj.bias.t())).unsqueeze(2).unsqueeze(3));
            h = conv(torch.silu(torch.group_norm(h, 32, new TensorOptional(down.outNorm.weight.t()),
                    new TensorOptional(down.outNorm.bias.t()), 1e-5, false)), down.outConv);
            assertTrue(close(conv(pool(x), down.skipConnection).add(h), down.forward(x, emb)));
        }
    }

    @Test void fgdmAdaptersLoadFromTheCheckpointKeys() {
        UNet2DConditionModel unet = TinyControl.unet(1);
        torch.manual_seed(3);
        TimeAdapter time = new TimeAdapter(4, unet.config.blockOutChannels(), 2, unet.config.timeEmbedDim(), 32);
        Map<String, Tensor> ckpt = new LinkedHashMap<>();
        time.stateDict().forEach((n, t) -> ckpt.put(AdapterLoader.FGDM_PREFIX + n, t));
        ckpt.put("model.diffusion_model.input_blocks.0.0.weight", torch.zeros(1));
        assertTrue(ckpt.containsKey("model.diffusion_model.adapter.body.2.skip_connection.weight"));
        assertTrue(ckpt.containsKey("model.diffusion_model.adapter.body.3.out_layers.3.bias"));
        assertTrue(ckpt.containsKey("model.diffusion_model.adapter.body.1.emb_layers.1.weight"));
        FeatureAdapter loaded = AdapterLoader.loadFgdm(new MapSource(ckpt), unet, 32);
        assertInstanceOf(TimeAdapter.class, loaded);
        Map<String, Param> l = ((TimeAdapter) loaded).namedParameters();
        time.namedParameters().forEach((n, p) -> assertTrue(torch.equal(p.t(), l.get(n).t()), n));

        T2IAdapter plain = T2IAdapter.fgdmLatentAdapter(4, unet.config.blockOutChannels(), 2);
        Map<String, Tensor> flat = new LinkedHashMap<>();
        plain.stateDict().forEach((n, t) -> flat.put(AdapterLoader.FGDM_PREFIX + toOriginal(n, 2), t));
        FeatureAdapter p2 = AdapterLoader.loadFgdm(new MapSource(flat), unet, 32);
        assertInstanceOf(T2IAdapter.class, p2);
        Map<String, Param> l2 = ((T2IAdapter) p2).namedParameters();
        plain.namedParameters().forEach((n, p) -> assertTrue(torch.equal(p.t(), l2.get(n).t()), n));
        Tensor z = new Rng(2).randn(1, 4, 8, 8);
        assertEquals(1, p2.downscaleFactor());
        assertArrayEquals(new long[]{1, 32, 8, 8}, p2.features(z, null).get(0).sizes().vec().get(), "features at latent size");
    }

    /** An in-memory weight source. */
    record MapSource(Map<String, Tensor> map) implements org.ldm4j.weights.WeightSource {
        @Override public java.util.Set<String> names() { return map.keySet(); }
        @Override public org.ldm4j.weights.TensorInfo info(String name) {
            Tensor t = map.get(name);
            return new org.ldm4j.weights.TensorInfo("F32", t.sizes().vec().get());
        }
        @Override public Tensor read(String name) { return map.get(name).clone(); }
        @Override public void close() {}
    }
}
