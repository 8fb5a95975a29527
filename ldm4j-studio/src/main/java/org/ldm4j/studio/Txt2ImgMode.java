package org.ldm4j.studio;

import org.ldm4j.pipeline.GenerationRequest;
import org.ldm4j.pipeline.Txt2Img;

/** Text to image ({@link Txt2Img}); the canvas is not used. */
final class Txt2ImgMode implements Mode {
    @Override public String name() { return "txt2img"; }

    @Override public String title() { return "Text to image"; }

    @Override
    public Prepared prepare(RequestFields f) {
        GenerationRequest request = f.toRequest(name(), f.defaultSize(), f.defaultSize(), null, null);
        return new Prepared(request, (sd, hooks, cancelled, phases) -> Output.plain(Txt2Img.run(sd, request, hooks, cancelled), request));
    }
}
