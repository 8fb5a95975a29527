package org.ldm4j.studio;

import org.ldm4j.methods.fgdm.Factor;
import org.ldm4j.methods.fgdm.FactorSettings;
import org.ldm4j.methods.fgdm.Palette;
import org.ldm4j.methods.fgdm.SbpcSettings;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * What {@code GET /api/models} says about the served FG-DM, for the page: its factors (graph order, with their
 * default sizes and settings), which draws the segmentation map and the image, the map's classes and colours, and
 * whether SBPC's image check is on (the server has a segmenter), whether images can be guided toward their maps (the
 * server has a guide segmenter, field {@code guide}), and the job fields of ldm4j's fast SBPC candidates
 * ({@link SbpcSettings#fast}), which the page sends as they are.
 */
record FactorGraphInfo(List<FactorInfo> factors, String segmentation, String image, List<ClassInfo> classes, int tolerance, boolean imageCheck,
                       Map<String, Object> fastCandidates, boolean guide) {
    record FactorInfo(String name, String role, List<String> parents, int width, int height, int steps, double guidanceScale) {}

    record ClassInfo(String name, String colour, boolean object) {}

    static FactorGraphInfo of(FactorGraphModel fg) {
        List<FactorInfo> factors = new ArrayList<>();
        for (Factor f : fg.graph().factors()) {
            FactorSettings s = f.settings();
            factors.add(new FactorInfo(f.name(), f.role().name().toLowerCase(Locale.ROOT), f.parents(), s.width(), s.height(), s.steps(), s.guidanceScale()));
        }
        Palette p = fg.palette();
        List<ClassInfo> classes = new ArrayList<>();
        for (int c = 0; c < p.size(); c++) classes.add(new ClassInfo(p.name(c), String.format("#%06x", p.colour(c)), p.isObject(c)));
        return new FactorGraphInfo(factors, fg.segmentationFactor(), fg.imageFactor(), classes, FactorGraphModel.TOLERANCE, fg.segmenter() != null,
                fastCandidateFields(), fg.guide() != null && fg.segmentationFactor() != null);
    }

    /** {@link SbpcSettings#fast} as factorgraph job fields. */
    static Map<String, Object> fastCandidateFields() {
        SbpcSettings fast = SbpcSettings.fast(2, FactorGraphModel.TOLERANCE);
        Map<String, Object> fields = new LinkedHashMap<>();
        fields.put("conditionSteps", fast.conditionSteps());
        fields.put("conditionGuidance", fast.conditionGuidance());
        fields.put("conditionScheduler", fast.conditionScheduler());
        fields.put("mapMinArea", SbpcSettings.FAST_MAP_MIN_AREA);
        fields.put("preferLargerObjects", true);
        return fields;
    }
}
