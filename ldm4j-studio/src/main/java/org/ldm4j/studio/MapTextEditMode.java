package org.ldm4j.studio;

import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import org.ldm4j.methods.fgdm.ClassMap;
import org.ldm4j.methods.fgdm.FactorGraph;
import org.ldm4j.methods.fgdm.FactorSettings;
import org.ldm4j.methods.fgdm.MapTextEdit;
import org.ldm4j.methods.fgdm.ObjectRecall;
import org.ldm4j.pipeline.GenerationRequest;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Edit the segmentation map by text, then regenerate (as {@code ldm4j fgdm edit --op text}, then {@code fgdm sample
 * --given seg=MAP}): {@code map} (a PNG data URL in the palette's colours, at the segmentation factor's size, as the
 * factorgraph job returned it) is inverted through the segmentation factor under {@code prompt}, the caption it was
 * drawn from, and regenerated under {@code toPrompt} ({@link MapTextEdit#edit}: pixels the edit did not change keep
 * their class); the other factors are then sampled on the edited map with {@code toPrompt} and the request's seed.
 * {@code inversion}: "edit-friendly" (default, exact for an unchanged caption) or "ddim". {@code semantic}: an edit scale
 * for LEDITS++'s semantic guidance instead of re-prompting (edit-friendly only; the captions must differ in the objects
 * they name). The result is the image with
 * the details of {@link FactorGraphMode}'s, the edited map marked {@code given}; its recorded request carries
 * {@code toPrompt}, the caption of what it shows.
 */
final class MapTextEditMode implements Mode {
    static final String MAP = "map", TO_PROMPT = "toPrompt", INVERSION = "inversion", SEMANTIC = "semantic";
    static final String FROM_PAGE = "studio map text edit";

    @Override public String name() { return "maptext"; }

    @Override public String title() { return "Factor graph: edit the map by text, then regenerate"; }

    @Override public boolean needsFactorGraph() { return true; }

    @Override public Set<String> extraFields() { return Set.of(MAP, TO_PROMPT, INVERSION, SEMANTIC, FactorGraphMode.GUIDE); }

    @Override
    public Prepared prepare(RequestFields f) {
        FactorGraphModel fg = f.factorGraph();
        String seg = fg.segmentationFactor();
        if (seg == null || !fg.graph().factor(seg).parents().isEmpty()) {
            throw ApiError.badRequest("this FG-DM has no root segmentation factor: there is no map to edit by text");
        }
        GenerationRequest source = FactorGraphMode.request(f, fg, name());
        String to = f.requiredText(TO_PROMPT);
        if (to.isBlank()) throw ApiError.badRequest(TO_PROMPT + " is empty: give the caption with the change");
        if (to.length() > f.limits().maxPromptChars()) {
            throw ApiError.badRequest(TO_PROMPT + " is " + to.length() + " characters, the limit is " + f.limits().maxPromptChars());
        }
        MapTextEdit.Inversion inversion;
        try {
            inversion = f.optionalText(INVERSION) == null ? MapTextEdit.Inversion.EDIT_FRIENDLY : MapTextEdit.Inversion.parse(f.optionalText(INVERSION));
        } catch (IllegalArgumentException e) {
            throw ApiError.badRequest(e.getMessage());
        }
        FactorGraph graph = FactorGraphMode.tuned(fg.graph(), f);
        FactorSettings settings = graph.factor(seg).settings();
        ClassMap map = SegmentationEdits.read(f.requiredText(MAP), MAP, fg.palette(), f.limits().maxSide());
        Double semanticScale = f.optionalDouble(SEMANTIC);
        MapTextEdit edit;
        try {
            MapTextEdit.requireFactorSize(graph, seg, map);   // refused now, not in the job
            MapTextEdit.Semantic semantic = semanticScale == null ? null : new MapTextEdit.Semantic(semanticScale, MapTextEdit.Semantic.LEDITS_DEFAULTS.threshold());
            if (semantic != null) MapTextEdit.Concepts.between(source.prompt(), to, fg.palette());   // refused now, not in the job
            edit = new MapTextEdit(settings.steps(), Math.max(1.0, settings.guidanceScale()), inversion, semantic);
        } catch (IllegalArgumentException e) {
            throw ApiError.badRequest(e.getMessage());
        }
        GenerationRequest request = new GenerationRequest(source.mode(), source.model(), to, source.negativePrompt(), source.width(),
                source.height(), source.steps(), source.guidanceScale(), source.scheduler(), source.seed(), 1, 0, 0, null, null);
        List<String> wanted = new ArrayList<>();
        for (int c : ObjectRecall.namedIn(to, fg.palette(), true)) wanted.add(fg.palette().name(c));
        ObjectNode described = JsonNodeFactory.instance.objectNode().put("op", "text").put("prompt", source.prompt()).put(TO_PROMPT, to)
                .put(INVERSION, inversion.id()).put("steps", edit.steps()).put("guidance", edit.guidance());
        if (semanticScale != null) described.put(SEMANTIC, semanticScale);
        boolean guide = FactorGraphMode.guided(f, fg);
        FactorGraphMode.FactorGraphRecord record = FactorGraphMode.FactorGraphRecord.given(request, wanted, FROM_PAGE,
                JsonNodeFactory.instance.arrayNode().add(described), guide);
        return new Prepared(request, record, graph.factors().size() - 1, graph.sd, (sd, hooks, cancelled, phases) -> {
            ClassMap edited = edit.edit(graph, seg, map, fg.palette(), FactorGraphModel.TOLERANCE, source.prompt(), to, cancelled).map();
            // the image is drawn under the edited caption: the request's prompt
            return MapEditMode.regenerate(fg, graph, edited, request, record, Map.of("unchanged", MapTextEdit.Edited.sameFraction(map, edited)),
                    fg.guidance(graph, guide), hooks, cancelled);
        });
    }
}
