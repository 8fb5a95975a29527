package org.ldm4j.models;

import com.fasterxml.jackson.databind.node.ObjectNode;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class DiffusersConfigJsonTest {
    @Test
    void acceptsItsOwnClassOrNoneAndRejectsAnotherByName() {
        assertEquals(3, DiffusersConfigJson.object("{\"_class_name\": \"T2IAdapter\", \"in_channels\": 3}", "a", "T2IAdapter")
                .get("in_channels").asInt());
        assertEquals(1, DiffusersConfigJson.object("{\"in_channels\": 1}", "a", "T2IAdapter").get("in_channels").asInt());
        String msg = assertThrows(IllegalArgumentException.class,
                () -> DiffusersConfigJson.object("{\"_class_name\": \"UNet2DConditionModel\"}", "unet/config.json", "ControlNetModel")).getMessage();
        assertEquals("unet/config.json: this is a UNet2DConditionModel config, not a ControlNetModel", msg);
    }

    /** Published configs and the committed models' are read key for key; a key no config reads is named. */
    @Test
    void unreadKeysAreTheOnesNoConfigFieldTakes() throws Exception {
        String unet = org.ldm4j.models.unet.UNet2DConditionConfig.SD15_JSON;
        assertEquals(List.of(), org.ldm4j.models.unet.UNet2DConditionConfig.unreadKeys(unet));
        assertEquals(List.of("bogus_key"), org.ldm4j.models.unet.UNet2DConditionConfig.unreadKeys(unet.replace("{", "{\"bogus_key\": 3, ")));
        assertEquals(List.of("layer_per_block"), org.ldm4j.models.unet.UNet2DConditionConfig.unreadKeys(
                unet.replace("\"layers_per_block\"", "\"layer_per_block\"")), "a typo is named");
        assertEquals(List.of("latents_mean"), org.ldm4j.models.vae.AutoencoderKLConfig.unreadKeys(
                "{\"_class_name\": \"AutoencoderKL\", \"scaling_factor\": 0.13, \"force_upcast\": true, \"latents_mean\": null}"));
        for (String model : List.of("toyworld-ldm8", "toyworld-ldm")) {
            Path root = Path.of("..", "models", model);
            assertEquals(List.of(), org.ldm4j.models.unet.UNet2DConditionConfig.unreadKeys(java.nio.file.Files.readString(root.resolve("unet/config.json"))), model);
            assertEquals(List.of(), org.ldm4j.models.vae.AutoencoderKLConfig.unreadKeys(java.nio.file.Files.readString(root.resolve("vae/config.json"))), model);
        }
        assertEquals(List.of(), org.ldm4j.models.unet.UNet2DConditionConfig.unreadKeys("[1]"), "not an object: the parse reports it");
    }

    @Test
    void badJsonAndNonObjectsNameTheSource() {
        assertTrue(assertThrows(IllegalArgumentException.class, () -> DiffusersConfigJson.object("{", "x.json", "T2IAdapter"))
                .getMessage().startsWith("x.json: invalid JSON"));
        assertEquals("x.json: not a JSON object", assertThrows(IllegalArgumentException.class,
                () -> DiffusersConfigJson.object("[1, 2]", "x.json", "T2IAdapter")).getMessage());
    }

    /** A value of the wrong type is one line naming the file and the key, never Jackson's "at [Source: ...]" form. */
    @Test
    void wrongValueTypesAreOneLineNamingTheFileAndKey() {
        String unet = org.ldm4j.models.unet.UNet2DConditionConfig.SD15_JSON;
        assertEquals("unet/config.json: not a valid UNet2DConditionModel config: key 'layers_per_block': expected an integer "
                        + "(or a list of them), got \"two\"",
                assertThrows(IllegalArgumentException.class, () -> org.ldm4j.models.unet.UNet2DConditionConfig.parse(
                        unet.replaceFirst("\"layers_per_block\":\\s*2", "\"layers_per_block\": \"two\""), "unet/config.json")).getMessage());
        String listItem = assertThrows(IllegalArgumentException.class, () -> org.ldm4j.models.unet.UNet2DConditionConfig.parse(
                unet.replaceFirst("\"block_out_channels\":\\s*\\[\\s*320", "\"block_out_channels\": [\"wide\""), "u.json")).getMessage();
        assertTrue(listItem.endsWith("key 'block_out_channels[0]': expected an integer, got \"wide\""), listItem);
        assertEquals("vae/config.json: key 'latent_channels': expected an integer, got \"four\"", assertThrows(IllegalArgumentException.class,
                () -> org.ldm4j.models.vae.AutoencoderKLConfig.parse("{\"latent_channels\": \"four\"}", "vae/config.json")).getMessage());
        assertEquals("te/config.json: key 'hidden_size': expected an integer, got a list", assertThrows(IllegalArgumentException.class,
                () -> org.ldm4j.models.clip.CLIPTextConfig.parse("{\"hidden_size\": [1]}", "te/config.json")).getMessage());
        String fraction = assertThrows(IllegalArgumentException.class, () -> org.ldm4j.models.unet.UNet2DConditionConfig.parse(
                unet.replaceFirst("\"layers_per_block\":\\s*2", "\"layers_per_block\": 2.5"), "unet/config.json")).getMessage();
        assertTrue(fraction.contains("key 'layers_per_block'") && fraction.contains("2.5"), "a fraction is not rounded to an integer: " + fraction);
        assertTrue(assertThrows(IllegalArgumentException.class, () -> org.ldm4j.models.vae.AutoencoderKLConfig.parse(
                "{\"latent_channels\": 4.5}", "vae/config.json")).getMessage().contains("key 'latent_channels'"));
        String syntax = assertThrows(IllegalArgumentException.class,
                () -> org.ldm4j.models.vae.AutoencoderKLConfig.parse("{\n\"latent_channels\": 4,,\n}", "v.json")).getMessage();
        assertTrue(syntax.startsWith("v.json: ") && syntax.contains("(line 2, column"), syntax);
        for (String m : List.of(listItem, syntax, fraction)) {
            assertEquals(1, m.lines().count(), m);
            assertTrue(!m.contains("[Source:") && !m.contains("reference chain"), m);
        }
    }

    @Test
    void intListsFallBackWhenAbsentOrNull(@TempDir Path dir) {
        ObjectNode c = DiffusersConfigJson.object("{\"channels\": [8, 16], \"other\": null}", "c", "T2IAdapter");
        assertEquals(List.of(8, 16), DiffusersConfigJson.ints(c, "channels", List.of(1)));
        assertEquals(List.of(1), DiffusersConfigJson.ints(c, "other", List.of(1)));
        assertEquals(List.of(1), DiffusersConfigJson.ints(c, "missing", List.of(1)));
        Path missing = dir.resolve("config.json");
        assertTrue(assertThrows(IllegalArgumentException.class, () -> DiffusersConfigJson.read(missing, "ControlNet config"))
                .getMessage().startsWith("cannot read ControlNet config " + missing));
    }
}
