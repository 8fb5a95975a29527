package org.ldm4j.methods.gradop;

import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.assertFalse;

class GradOpParametersTest {
    static final GradOpParameters NONE = new GradOpParameters(null, null, null, null, null, null, null, null, null, null,
            null, null, null, null, null);

    @Test
    void nothingGivenIsEachMethodsDefaults() {
        assertEquals(GradOpPlusSettings.official(), NONE.toSettings("gradop+"));
        assertEquals(GradOpSettings.defaults(), NONE.toSettings("gradop"));
        assertEquals(BaselineSettings.official(), NONE.toSettings("sdedit"));
        assertEquals(BaselineSettings.official(), NONE.toSettings("text"));
        assertEquals(PaintingSettings.official(), NONE.painting());
        assertFalse(NONE.hasGradOpOnly());
    }

    @Test
    void everyParameterGivenReachesTheSettings() {
        GradOpParameters p = new GradOpParameters("Recommended", "euler", 20, 5.0, 0.6, 2, 7, 0.05, 0.01, 2,
                "median-palette", 9, 2.0, 5, 8);
        PaintingSettings paint = new PaintingSettings("median-palette", 9, 2.0, 5, 8, 0.005);
        assertEquals(paint, p.painting());
        assertEquals(new GradOpPlusSettings(20, 5.0, 0.6, 2, 7, 0.05, paint, GradOpPlusSettings.Optimised.PREDICTED_X0,
                GradOpPlusSettings.StartLatent.NOISED_ZEROS, 2, "euler"), p.toSettings("gradop+"));
        assertEquals(new GradOpSettings(20, 5.0, 7, 0.01, 0.05, 0.6, paint, 2, "euler"), p.toSettings("gradop"));
        assertEquals(new BaselineSettings(20, 5.0, 0.6, "euler", 2), p.toSettings("iterative-sdedit"));
        assertTrue(p.hasGradOpOnly());
    }

    @Test
    void strengthIsEachMethodsOwnAndNoneForTheTextPreview() {
        GradOpParameters p = new GradOpParameters(null, null, null, null, 0.3, null, null, null, null, null, null, null, null, null, null);
        assertEquals(0.3, GradOpParameters.strengthOf("gradop+", p.toSettings("gradop+")));
        assertEquals(0.3, GradOpParameters.strengthOf("gradop", p.toSettings("gradop")));
        assertEquals(0.3, GradOpParameters.strengthOf("sdedit", p.toSettings("sdedit")));
        assertNull(GradOpParameters.strengthOf("text", p.toSettings("text")));
        assertInstanceOf(BaselineSettings.class, p.toSettings("text"));
    }

    @Test
    void badValuesNameTheirParameter() {
        GradOpParameters preset = new GradOpParameters("fastest", null, null, null, null, null, null, null, null, null, null, null, null, null, null);
        assertTrue(assertThrows(IllegalArgumentException.class, () -> preset.toSettings("gradop+")).getMessage().contains("unknown preset 'fastest'"));
        GradOpParameters fast = new GradOpParameters("fast", null, null, null, null, null, null, null, null, null, null, null, null, null, null);
        assertEquals(GradOpPlusSettings.official().withGradSteps(5).withLr(0.4), fast.toSettings("gradop+"));
        GradOpParameters kernel = new GradOpParameters(null, null, null, null, null, null, null, null, null, null, null, 4, null, null, null);
        assertTrue(assertThrows(IllegalArgumentException.class, () -> kernel.toSettings("gradop")).getMessage().contains("blur kernel"));
        GradOpParameters steps = new GradOpParameters(null, null, 0, null, null, null, null, null, null, null, null, null, null, null, null);
        assertTrue(assertThrows(IllegalArgumentException.class, () -> steps.toSettings("sdedit")).getMessage().contains("steps"));
        assertThrows(IllegalArgumentException.class, () -> NONE.toSettings("img2img"));
    }
}
