package org.ldm4j.methods.gradop;

/**
 * What every stroke-to-image method's settings share, so an app can fill its generic request (steps, CFG, strength)
 * from whichever method ran: {@link GradOpPlusSettings}, {@link GradOpSettings} or {@link BaselineSettings}.
 */
public sealed interface Stroke2ImgSettings permits GradOpPlusSettings, GradOpSettings, BaselineSettings {
    /** DDIM steps of each reverse pass. */
    int steps();

    /** Classifier-free guidance w. */
    double guidanceScale();
}
