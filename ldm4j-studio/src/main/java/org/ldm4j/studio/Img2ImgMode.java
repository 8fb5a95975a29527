package org.ldm4j.studio;

import org.bytedeco.pytorch.Tensor;
import org.ldm4j.image.Images;
import org.ldm4j.pipeline.GenerationRequest;
import org.ldm4j.pipeline.Img2Img;

import java.awt.image.BufferedImage;
import java.util.Set;

/**
 * Image to image (SDEdit, {@link Img2Img}): the canvas, sent as {@code initImage} (a PNG data URL), is the start.
 * The output size is the image's unless width/height are given, and then they must match it.
 */
final class Img2ImgMode implements Mode {
    static final String INIT_IMAGE = "initImage";
    /** What the recorded request says instead of a path: the pixels came from the page. */
    static final String FROM_CANVAS = "studio canvas";

    @Override public String name() { return "img2img"; }

    @Override public String title() { return "Image to image"; }

    @Override public Set<String> extraFields() { return Set.of(INIT_IMAGE, "strength"); }

    @Override
    public Prepared prepare(RequestFields f) {
        BufferedImage init = DataUrls.decodePng(f.requiredText(INIT_IMAGE), INIT_IMAGE, f.limits().maxSide());
        Double strength = f.optionalDouble("strength");
        GenerationRequest request = f.toRequest(name(), init.getWidth(), init.getHeight(),
                strength == null ? 0.8 : strength, FROM_CANVAS);
        if (request.width() != init.getWidth() || request.height() != init.getHeight()) {
            throw ApiError.badRequest("initImage is " + init.getWidth() + "x" + init.getHeight() + " but width/height ask for "
                    + request.width() + "x" + request.height() + " (leave them out to use the image's size)");
        }
        return new Prepared(request, (sd, hooks, cancelled, phases) -> {
            Tensor x = Images.toTensor(init);
            return Output.plain(Img2Img.run(sd, request, x, hooks, cancelled), request);
        });
    }
}
