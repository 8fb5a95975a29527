package org.ldm4j.methods.blended;

import org.junit.jupiter.api.Test;

import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class BlendSettingsTest {
    @Test
    void presetsByNameInAnyCase() {
        assertEquals(BlendSettings.recommended(), BlendSettings.preset("recommended"));
        assertEquals(BlendSettings.official(), BlendSettings.preset("Official"));
        String msg = assertThrows(IllegalArgumentException.class, () -> BlendSettings.preset("best")).getMessage();
        assertTrue(msg.contains("unknown preset 'best'"), msg);
        // mask attention is ldm4j's addition: on in the recommended preset, never in the official reproduction
        assertEquals(List.of(0.0, 2.0), BlendSettings.recommended().maskAttention());
        assertEquals(List.of(0.0), BlendSettings.official().maskAttention());
        // several weights are cycled over the samples of an edit
        BlendSettings mixed = BlendSettings.recommended().withMaskAttention(0, 4);
        assertEquals(List.of(0.0, 4.0, 0.0, 4.0), List.of(mixed.maskAttention(0), mixed.maskAttention(1), mixed.maskAttention(2), mixed.maskAttention(3)));
        // the repair: per-region means, background weight 4 (recommended); the official preset has none
        assertEquals(new BackgroundRepair.Settings(75, 1e-4, 4.0, BackgroundRepair.Averaging.REGION), BlendSettings.recommended().repair());
        assertTrue(!BlendSettings.official().repair().enabled());
    }

    @Test
    void repairOnKeepsThePresetsRepairOrTakesTheOfficialOne() {
        // recommended has the repair on: its own settings, steps replaced if given
        assertEquals(BlendSettings.recommended().repair(), BlendSettings.recommended().withRepairOn(null).repair());
        assertEquals(10, BlendSettings.recommended().withRepairOn(10).repair().steps());
        // official has it off: switching it on uses the official repair
        assertEquals(BackgroundRepair.Settings.official(), BlendSettings.official().withRepairOn(null).repair());
        assertEquals(BackgroundRepair.Settings.official().withSteps(5), BlendSettings.official().withRepairOn(5).repair());
        assertEquals(BlendSettings.official().blendStart(), BlendSettings.official().withRepairOn(5).blendStart());
    }
}
