package org.ldm4j.studio;

import org.ldm4j.pipeline.GenerationRequest;
import org.ldm4j.pipeline.StableDiffusion;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;

/**
 * A submitted job: its request, state, progress, results, and the clients listening to its events.
 *
 * <p>States move queued -> running -> done | failed | cancelled (or queued -> cancelled). Events are emitted under
 * the job's lock, so a client that subscribes gets the current state first and every later event after it, in order.
 */
public final class Job {
    public enum State { QUEUED, RUNNING, DONE, FAILED, CANCELLED;
        public String json() { return name().toLowerCase(java.util.Locale.ROOT); }
        public boolean finished() { return this == DONE || this == FAILED || this == CANCELLED; }
    }

    /** Receives a job's server-sent events; {@code event} is "state" (the job's JSON) or "progress". */
    public interface Listener {
        void event(String event, Map<String, Object> data);

        /** Called once after the final "state" event. */
        void finished();
    }

    public final String id;
    public final String mode;
    public final GenerationRequest request;
    /** What the job JSON shows as its parameters: the request, or the method's full record. */
    public final Object parameters;
    final int loopsPerImage;
    /** Phases reported after the loops ({@link Mode.Prepared#phasesAfterLoops}): each one loop's share of the fraction. */
    final int phasesAfterLoops;
    /** Decodes the previews (null: the studio's model). */
    final StableDiffusion previews;
    final Mode.Run run;
    private final long createdMillis = System.currentTimeMillis();
    private final List<Listener> listeners = new CopyOnWriteArrayList<>();
    private volatile boolean cancelRequested;
    private State state = State.QUEUED;
    private String error;
    private List<String> results = List.of();
    private List<String> labels = List.of();
    private List<Object> details = List.of();
    private Map<String, Object> progress = Map.of("phase", DENOISE, "step", 0, "total", 0, "image", 0, "images", 0, "fraction", 0.0);
    private String lastPreview;
    private final List<String> phasesSeen = new ArrayList<>();

    /** The {@code phase} of the progress events of the denoising loops. */
    static final String DENOISE = "denoise";

    Job(String id, Mode mode, Mode.Prepared prepared) {
        this.id = id;
        this.mode = mode.name();
        this.request = prepared.request();
        this.parameters = prepared.parameters();
        this.loopsPerImage = prepared.loopsPerImage();
        this.phasesAfterLoops = prepared.phasesAfterLoops();
        this.previews = prepared.previews();
        this.run = prepared.run();
    }

    public boolean cancelRequested() { return cancelRequested; }

    public synchronized State state() { return state; }

    public synchronized List<String> results() { return results; }

    /** Asks the job to stop; a queued job is cancelled at once, a running one at its next step. */
    public synchronized boolean cancel() {
        if (state.finished()) return false;
        cancelRequested = true;
        if (state == State.QUEUED) finish(State.CANCELLED, null, List.of());
        return true;
    }

    /** @return false when the job was cancelled while queued (the worker skips it) */
    synchronized boolean start() {
        if (state != State.QUEUED) return false;
        state = State.RUNNING;
        emit("state", toJson());
        return true;
    }

    /** The fraction's denominator: every image's loops, then the phases after them. */
    int units() { return Math.max(1, request.count()) * Math.max(1, loopsPerImage) + phasesAfterLoops; }

    synchronized void progress(int step, int total, int image, int images, double fraction, String previewDataUrl) {
        progress(DENOISE, step, total, image, images, fraction, previewDataUrl);
    }

    /**
     * A step of work after the loops ({@link Mode.PhaseProgress}): the event names the phase, its step and total;
     * the fraction goes on from where the loops ended, one unit per phase.
     */
    synchronized void phase(String phase, int done, int total) {
        if (!phasesSeen.contains(phase)) phasesSeen.add(phase);
        int loops = units() - phasesAfterLoops;
        int index = Math.min(phasesSeen.indexOf(phase), Math.max(0, phasesAfterLoops - 1));
        double fraction = Math.min(1.0, (loops + index + (double) done / Math.max(1, total)) / units());
        int images = Math.max(1, request.count());
        progress(phase, done, total, images - 1, images, fraction, null);
    }

    private void progress(String phase, int step, int total, int image, int images, double fraction, String previewDataUrl) {
        progress = Map.of("phase", phase, "step", step, "total", total, "image", image, "images", images, "fraction", fraction);
        Map<String, Object> event = new LinkedHashMap<>(progress);
        if (previewDataUrl != null) {
            lastPreview = previewDataUrl;
            event.put("preview", previewDataUrl);
        }
        emit("progress", event);
    }

    synchronized void finish(State end, String message, List<String> files) {
        finish(end, message, files, List.of());
    }

    /** @param captions one short caption per file (null entries allowed), or empty */
    synchronized void finish(State end, String message, List<String> files, List<String> captions) {
        finish(end, message, files, captions, List.of());
    }

    /** @param extras per file, what the job JSON shows beside it ({@link Mode.Output#details}; null entries allowed), or empty */
    synchronized void finish(State end, String message, List<String> files, List<String> captions, List<Object> extras) {
        if (state.finished()) return;
        details = new ArrayList<>(extras);
        state = end;
        error = message;
        results = List.copyOf(files);
        labels = new ArrayList<>(captions);
        emit("state", toJson());
        for (Listener l : listeners) l.finished();
        listeners.clear();
    }

    /** Sends the current state (and last preview) to {@code l}, then every later event until the job ends. */
    public synchronized void subscribe(Listener l) {
        l.event("state", toJson());
        if (lastPreview != null && !state.finished()) {
            Map<String, Object> event = new LinkedHashMap<>(progress);
            event.put("preview", lastPreview);
            l.event("progress", event);
        }
        if (state.finished()) l.finished();
        else listeners.add(l);
    }

    public void unsubscribe(Listener l) { listeners.remove(l); }

    private void emit(String event, Map<String, Object> data) {
        for (Listener l : listeners) {
            try {
                l.event(event, data);
            } catch (RuntimeException e) {
                listeners.remove(l);   // a client that went away must not stop the job
            }
        }
    }

    /** The job as {@code GET /api/jobs/{id}} answers it. */
    public synchronized Map<String, Object> toJson() {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("id", id);
        m.put("mode", mode);
        m.put("state", state.json());
        m.put("progress", progress);
        m.put("created", createdMillis);
        List<String> urls = new ArrayList<>();
        for (String f : results) urls.add(Gallery.URL_PREFIX + f);
        m.put("results", urls);
        List<Map<String, Object>> outputs = new ArrayList<>();
        for (int k = 0; k < results.size(); k++) {
            Map<String, Object> o = new LinkedHashMap<>();
            o.put("url", urls.get(k));
            if (k < labels.size() && labels.get(k) != null) o.put("label", labels.get(k));
            if (k < details.size() && details.get(k) != null) o.put("details", details.get(k));
            outputs.add(o);
        }
        m.put("outputs", outputs);
        if (error != null) m.put("error", error);
        if (cancelRequested && !state.finished()) m.put("cancelRequested", true);
        m.put("parameters", parameters);
        return m;
    }
}
