package org.ldm4j.studio;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/** The modes the server accepts, by name. */
public final class Modes {
    private Modes() {}

    /**
     * EXTENSION POINT: register new modes here (and in {@code MODES} of modes.js). {@code mapedit} and
     * {@code maptext} have no tab of their own: the Factor graph tab's Regenerate and Edit by text send them.
     */
    public static final List<Mode> ALL = List.of(new Txt2ImgMode(), new Img2ImgMode(), new Stroke2ImgMode(),
            new EditMode(), new FactorGraphMode(), new MapEditMode(), new MapTextEditMode());

    private static final Map<String, Mode> BY_NAME = byName(ALL);

    /** The mode named, or an {@link ApiError} 400 listing the known ones. */
    public static Mode get(String name) {
        if (name == null) throw ApiError.badRequest("mode is missing (one of " + BY_NAME.keySet() + ")");
        Mode m = BY_NAME.get(name);
        if (m == null) throw ApiError.badRequest("unknown mode '" + name + "' (one of " + BY_NAME.keySet() + ")");
        return m;
    }

    private static Map<String, Mode> byName(List<Mode> modes) {
        Map<String, Mode> m = new LinkedHashMap<>();
        for (Mode mode : modes) m.put(mode.name(), mode);
        return Map.copyOf(m);
    }
}
