package org.ldm4j.studio;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/** The modes the server accepts, by name. */
public final class Modes {
    private Modes() {}

    /**
     * EXTENSION POINT: register new modes here (and in {@code MODES} of studio.js). Planned:
     * <ul>
     *   <li>{@code stroke2img}: GradOP stroke-to-image (shared/design/gradop.md) — the canvas is the stroke guide;</li>
     *   <li>{@code edit}: Blended Latent Diffusion (shared/design/blended.md) — the canvas plus a painted mask;</li>
     *   <li>{@code factorgraph}: factor-graph diffusion (shared/design/fgdm.md).</li>
     * </ul>
     */
    public static final List<Mode> ALL = List.of(new Txt2ImgMode(), new Img2ImgMode());

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
