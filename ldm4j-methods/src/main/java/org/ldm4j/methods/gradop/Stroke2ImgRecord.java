package org.ldm4j.methods.gradop;

import org.ldm4j.pipeline.GenerationRequest;

import java.util.List;

/**
 * What a stroke-to-image PNG's request JSON holds, the same from {@code ldm4j stroke2img} and the studio: the generic
 * request, the method and its settings, the colour → phrase regions as given, and where the painting came from.
 *
 * @param preset         GradOP+'s preset; null for the other methods
 * @param settings       {@link GradOpPlusSettings}, {@link GradOpSettings} or {@link BaselineSettings}
 * @param regions        the regions as {@code #RRGGBB=phrase[:weight]}; null for none
 * @param painting       the painting's file, or what made it
 * @param background     the colour transparent pixels were composited on
 */
public record Stroke2ImgRecord(GenerationRequest generation, String method, String preset, Object settings,
                               List<String> regions, double regionStrength, double regionTolerance, String painting,
                               String background) {
    /** The record of one image of the request: its own request (seed). */
    public Stroke2ImgRecord forImage(GenerationRequest single) {
        return new Stroke2ImgRecord(single, method, preset, settings, regions, regionStrength, regionTolerance, painting, background);
    }
}
