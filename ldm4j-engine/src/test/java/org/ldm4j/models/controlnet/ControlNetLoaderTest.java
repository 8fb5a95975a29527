package org.ldm4j.models.controlnet;

import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch;
import org.bytedeco.pytorch.global.torch.ScalarType;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.ldm4j.models.unet.UNet2DConditionConfig;
import org.ldm4j.models.unet.UNet2DConditionModel;
import org.ldm4j.nn.Dtypes;
import org.ldm4j.nn.Param;
import org.ldm4j.pipeline.TinyControl;
import org.ldm4j.pipeline.TinyStableDiffusion;
import org.ldm4j.weights.SafetensorsWriter;
import org.ldm4j.weights.WeightFormatException;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.junit.jupiter.api.Assertions.*;

class ControlNetLoaderTest {
    @TempDir Path dir;

    @BeforeAll static void threads() { torch.set_num_threads(1); }

    // ---- the inverse of the conversion, written independently: diffusers name -> cldm name ----
    static final String[][] RESNET = {{"norm1", "in_layers.0"}, {"conv1", "in_layers.2"}, {"time_emb_proj", "emb_layers.1"},
            {"norm2", "out_layers.0"}, {"conv2", "out_layers.3"}, {"conv_shortcut", "skip_connection"}};

    static String resnet(String rest) {
        for (String[] r : RESNET) if (rest.startsWith(r[0] + ".")) return r[1] + rest.substring(r[0].length());
        throw new AssertionError(rest);
    }

    static String toCldm(String n, int layers, int lastHint) {
        Matcher m;
        if (n.startsWith("conv_in.")) return "input_blocks.0.0." + n.substring(8);
        if (n.startsWith("time_embedding.linear_1.")) return "time_embed.0." + n.substring(24);
        if (n.startsWith("time_embedding.linear_2.")) return "time_embed.2." + n.substring(24);
        if ((m = Pattern.compile("controlnet_down_blocks\\.(\\d+)\\.(.+)").matcher(n)).matches()) return "zero_convs." + m.group(1) + ".0." + m.group(2);
        if (n.startsWith("controlnet_mid_block.")) return "middle_block_out.0." + n.substring(21);
        if (n.startsWith("controlnet_cond_embedding.conv_in.")) return "input_hint_block.0." + n.substring(34);
        if (n.startsWith("controlnet_cond_embedding.conv_out.")) return "input_hint_block." + lastHint + "." + n.substring(35);
        if ((m = Pattern.compile("controlnet_cond_embedding\\.blocks\\.(\\d+)\\.(.+)").matcher(n)).matches()) {
            return "input_hint_block." + (2 * Integer.parseInt(m.group(1)) + 2) + "." + m.group(2);
        }
        if ((m = Pattern.compile("down_blocks\\.(\\d+)\\.(resnets|attentions|downsamplers)\\.(\\d+)\\.(.+)").matcher(n)).matches()) {
            int b = Integer.parseInt(m.group(1)), l = Integer.parseInt(m.group(3));
            int first = 1 + b * (layers + 1);
            return switch (m.group(2)) {
                case "resnets" -> "input_blocks." + (first + l) + ".0." + resnet(m.group(4));
                case "attentions" -> "input_blocks." + (first + l) + ".1." + m.group(4);
                default -> "input_blocks." + (first + layers) + ".0.op." + m.group(4).substring("conv.".length());
            };
        }
        if (n.startsWith("mid_block.resnets.0.")) return "middle_block.0." + resnet(n.substring(20));
        if (n.startsWith("mid_block.attentions.0.")) return "middle_block.1." + n.substring(23);
        if (n.startsWith("mid_block.resnets.1.")) return "middle_block.2." + resnet(n.substring(20));
        throw new AssertionError("no cldm name for " + n);
    }

    static Map<String, Tensor> cldm(ControlNetModel net, String prefix) {
        int layers = net.config.encoder().layersPerBlockList().get(0);
        int lastHint = 2 * net.controlnetCondEmbedding.blocks.size() + 2;
        Map<String, Tensor> out = new LinkedHashMap<>();
        net.stateDict().forEach((n, t) -> out.put(prefix + toCldm(n, layers, lastHint), t));
        return out;
    }

    static void assertSameWeights(ControlNetModel expected, ControlNetModel actual) {
        Map<String, Param> a = actual.namedParameters();
        expected.namedParameters().forEach((n, p) -> assertTrue(torch.equal(p.t(), a.get(n).t()), n));
        assertEquals(expected.namedParameters().size(), a.size());
    }

    @Test void cldmCheckpointWithPrefixLoadsToIdenticalTensors() throws Exception {
        ControlNetModel net = TinyControl.controlNet(TinyControl.unet(1), 2);
        Map<String, Tensor> tensors = cldm(net, "control_model.");
        assertTrue(tensors.containsKey("control_model.input_hint_block.4.weight"), "hint convs 0, 2, 4 (conv_out): " + tensors.keySet());
        assertTrue(tensors.containsKey("control_model.zero_convs.3.0.bias") && tensors.containsKey("control_model.middle_block_out.0.weight"));
        tensors.put("model.diffusion_model.out.2.weight", torch.zeros(4));   // the rest of a cldm training checkpoint is ignored
        SafetensorsWriter.write(dir.resolve("control_tiny.safetensors"), tensors, Map.of());
        Files.writeString(dir.resolve("config.json"), net.config.toJson());
        ControlNetModel loaded = ControlNetLoader.load(dir.resolve("control_tiny.safetensors"), Dtypes.device("cpu"), ScalarType.Float);
        assertSameWeights(net, loaded);
    }

    @Test void lllyasvielStylePthLoadsThroughTheWeightsOnlyReader() throws Exception {
        ControlNetModel net = TinyControl.controlNet(TinyControl.unet(1), 2);
        Path pth = dir.resolve("pth").resolve("control_tiny.pth");
        Files.createDirectories(pth.getParent());
        org.ldm4j.weights.TorchZipWriter.write(pth, cldm(net, "control_model."));
        Files.writeString(pth.resolveSibling("config.json"), net.config.toJson());
        assertSameWeights(net, ControlNetLoader.load(pth, Dtypes.device("cpu"), ScalarType.Float));
    }

    @Test void unprefixedCldmFileWithoutConfigGetsItsConfigFromTheShapes() throws Exception {
        UNet2DConditionConfig wide = UNet2DConditionConfig.parse(TinyStableDiffusion.UNET, "tiny")
                .with("{\"block_out_channels\": [64, 128], \"norm_num_groups\": 32}");
        torch.manual_seed(4);
        ControlNetModel net = ControlNetModel.fromUnet(new UNet2DConditionModel(wide), List.of(8, 16, 24), 3);
        TinyControl.randomise(net.controlnetDownBlocks, 0.5);
        SafetensorsWriter.write(dir.resolve("c.safetensors"), cldm(net, ""), Map.of());
        ControlNetModel loaded = ControlNetLoader.load(dir.resolve("c.safetensors"), Dtypes.device("cpu"), ScalarType.Float);
        assertSameWeights(net, loaded);
        ControlNetConfig c = loaded.config;
        assertEquals(List.of(64, 128), c.encoder().blockOutChannels());
        assertEquals(List.of("CrossAttnDownBlock2D", "DownBlock2D"), c.encoder().downBlockTypes());
        assertEquals(List.of(1), c.encoder().layersPerBlock());
        assertEquals(List.of(32), c.encoder().crossAttentionDim());
        assertEquals(List.of(8, 16, 24), c.conditioningEmbeddingOutChannels());
        assertEquals(4, c.hintDownscale());
    }

    @Test void diffusersFolderLoadsAndOtherKindsAreNamed() throws Exception {
        ControlNetModel net = TinyControl.controlNet(TinyControl.unet(1), 2);
        Path folder = TinyControl.writeControlNet(dir.resolve("cn"), net);
        assertSameWeights(net, ControlNetLoader.load(folder, Dtypes.device("cpu"), ScalarType.Float));

        Path sd = TinyStableDiffusion.write(dir.resolve("sd"), 0);
        Exception e = assertThrows(IllegalArgumentException.class, () -> ControlNetLoader.load(sd.resolve("unet"), Dtypes.device("cpu"), ScalarType.Float));
        assertTrue(e.getMessage().contains("UNet2DConditionModel config, not a ControlNetModel"), e.getMessage());
        e = assertThrows(WeightFormatException.class, () -> ControlNetLoader.load(sd.resolve("unet/diffusion_pytorch_model.safetensors"),
                Dtypes.device("cpu"), ScalarType.Float));
        assertTrue(e.getMessage().contains("is a diffusers UNet2DConditionModel, not a ControlNet"), e.getMessage());
        e = assertThrows(WeightFormatException.class, () -> ControlNetLoader.load(sd, Dtypes.device("cpu"), ScalarType.Float));
        assertTrue(e.getMessage().contains("pipeline folder"), e.getMessage());
        assertThrows(java.nio.file.NoSuchFileException.class, () -> ControlNetLoader.load(dir.resolve("nothing"), Dtypes.device("cpu"), ScalarType.Float));
    }
}
