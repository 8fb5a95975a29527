package org.ldm4j.studio;

import com.fasterxml.jackson.databind.JsonNode;
import org.bytedeco.pytorch.Tensor;
import org.ldm4j.methods.fgdm.ClassMap;
import org.ldm4j.methods.fgdm.FactorGraph;
import org.ldm4j.methods.fgdm.FactorGraphRequest;
import org.ldm4j.methods.fgdm.FactorGraphResult;
import org.ldm4j.methods.fgdm.FactorGraphSampler;
import org.ldm4j.methods.fgdm.FactorHooks;
import org.ldm4j.methods.fgdm.ObjectRecall;
import org.ldm4j.methods.fgdm.SegmentationMaps;
import org.ldm4j.pipeline.GenerationRequest;
import org.ldm4j.pipeline.StepHook;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.BooleanSupplier;

/**
 * Regenerate from an edited segmentation map (the FG-DM editor's loop, as {@code ldm4j fgdm sample --given seg=MAP}):
 * {@code map} (PNG data URL in the palette's colours, any size that is a multiple of the VAE factor), edited first by
 * the operations in {@code edits} ({@link SegmentationEdits}), is given as the segmentation factor's value; the other
 * factors are sampled on it, sequentially, with the request's seed (send the factorgraph job's chosen seed to keep
 * everything else as it was). The result is the image with the same details as {@link FactorGraphMode}'s, the edited
 * map marked {@code given}.
 */
final class MapEditMode implements Mode {
    static final String MAP = "map", EDITS = "edits";
    static final String FROM_PAGE = "studio map edit";

    @Override public String name() { return "mapedit"; }

    @Override public String title() { return "Factor graph: regenerate from an edited map"; }

    @Override public boolean needsFactorGraph() { return true; }

    @Override public Set<String> extraFields() { return Set.of(MAP, EDITS, FactorGraphMode.GUIDE); }

    @Override
    public Prepared prepare(RequestFields f) {
        FactorGraphModel fg = f.factorGraph();
        String seg = fg.segmentationFactor();
        if (seg == null) throw ApiError.badRequest("this FG-DM has no segmentation factor: there is no map to edit");
        GenerationRequest request = FactorGraphMode.request(f, fg, name());
        ClassMap map = SegmentationEdits.read(f.requiredText(MAP), MAP, fg.palette(), f.limits().maxSide());
        int vae = f.model().vaeScaleFactor();
        if (map.width() % vae != 0 || map.height() % vae != 0) {
            throw ApiError.badRequest("map is " + map.width() + "x" + map.height() + ": its sides must be multiples of the VAE factor " + vae);
        }
        JsonNode edits = f.node(EDITS);
        ClassMap edited = SegmentationEdits.apply(map, edits, fg.palette());
        FactorGraph graph = FactorGraphMode.tuned(fg.graph(), f);
        List<String> wanted = new ArrayList<>();
        for (int c : ObjectRecall.namedIn(request.prompt(), fg.palette(), true)) wanted.add(fg.palette().name(c));
        boolean guide = FactorGraphMode.guided(f, fg);
        FactorGraphMode.FactorGraphRecord record = FactorGraphMode.FactorGraphRecord.given(request, wanted, FROM_PAGE, edits, guide);
        return new Prepared(request, record, graph.factors().size() - 1, graph.sd,
                (sd, hooks, cancelled, phases) -> regenerate(fg, graph, edited, request, record, Map.of(), fg.guidance(graph, guide), hooks, cancelled));
    }

    /**
     * The image from a given segmentation map: the other factors sampled on it under the request's prompt and seed;
     * the map's recall reported as the one candidate, with {@code candidateDetails} added to it.
     */
    static List<Output> regenerate(FactorGraphModel fg, FactorGraph graph, ClassMap map, GenerationRequest request,
                                   FactorGraphMode.FactorGraphRecord record, Map<String, Object> candidateDetails, FactorHooks steering,
                                   List<? extends StepHook> hooks, BooleanSupplier cancelled) {
        String seg = fg.segmentationFactor();
        Tensor given = SegmentationMaps.toImageTensor(map, fg.palette());
        FactorGraphResult result = FactorGraphSampler.run(graph, new FactorGraphRequest(request.prompt(), request.seed(),
                FactorGraphRequest.Mode.SEQUENTIAL, Set.of(), Map.of(seg, new FactorGraphRequest.Given(null, given))),
                FactorGraphMode.progress(hooks), cancelled, steering);
        Map<String, Object> recall = FactorGraphMode.recallOf(result, fg, request);
        recall.putAll(candidateDetails);
        return List.of(FactorGraphMode.output(fg, result, request, record.ran(request, List.of((Double) recall.get("recall")), 0, request.seed()),
                List.of(recall), Set.of(seg)));
    }
}
