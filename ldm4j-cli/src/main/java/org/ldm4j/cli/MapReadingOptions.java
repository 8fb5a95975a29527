package org.ldm4j.cli;

import org.ldm4j.methods.fgdm.FgdmFolder;
import org.ldm4j.methods.fgdm.FgdmManifest;
import org.ldm4j.methods.fgdm.MapReadout;
import org.ldm4j.methods.fgdm.Palette;
import picocli.CommandLine.Option;

/**
 * How a generated segmentation map is read before the graph hands it on ({@link MapReadout#cleaned}): without the
 * decoder's blend rims and without small regions, each over the manifest's setting. Shared by {@code fgdm sample} and
 * the {@code eval fgdm} tables, so a table measures exactly what a sample draws.
 */
final class MapReadingOptions {
    @Option(names = "--min-region-pixels", description = "Segmentation maps are read without background regions smaller than this many pixels, "
            + "filled from their surroundings (default: the manifest's \"min_region_pixels\"; 0 keeps every region).")
    Integer minRegionPixels;
    @Option(names = "--min-object-pixels", description = "The same for object regions (default: the manifest's \"min_object_pixels\").")
    Integer minObjectPixels;
    @Option(names = "--blend-rims", description = "Read the segmentation map without its blend rims: thin regions of a class whose "
            + "colour is the midpoint of two classes around them (the decoder's border of sun and cloud reads as a rim of moon), "
            + "filled from their surroundings.")
    boolean blendRims;

    /** Checks the options before anything loads. */
    void check() {
        if (minRegionPixels != null && minRegionPixels < 0) throw new Ldm4j.UsageError("--min-region-pixels must be >= 0, got " + minRegionPixels);
        if (minObjectPixels != null && minObjectPixels < 0) throw new Ldm4j.UsageError("--min-object-pixels must be >= 0, got " + minObjectPixels);
    }

    /** The readout for segmentation factor {@code seg}, or null when no option is given (the manifest's own stands). */
    MapReadout readout(FgdmManifest.Entry seg, Palette palette) {
        if (minRegionPixels == null && minObjectPixels == null && !blendRims) return null;
        FgdmManifest.SmallRegions small = new FgdmManifest.SmallRegions(
                minRegionPixels != null ? minRegionPixels : seg.smallRegions().backgroundPixels(),
                minObjectPixels != null ? minObjectPixels : seg.smallRegions().objectPixels());
        return MapReadout.cleaned(palette, FgdmFolder.tolerance(palette), small, blendRims);
    }

    /** The options given, in a report. */
    void record(com.fasterxml.jackson.databind.node.ObjectNode report) {
        report.put("blend_rims", blendRims);
        if (minRegionPixels != null) report.put("min_region_pixels", minRegionPixels);
        if (minObjectPixels != null) report.put("min_object_pixels", minObjectPixels);
    }
}
