package org.ldm4j.toyworld;

import java.util.Map;

/**
 * One visible object of a scene.
 *
 * @param toyClass   an object class ({@link ToyClass#isObject()})
 * @param instanceId the value of its pixels in {@link Scene#instances()}
 * @param attributes caption attributes: "colour", "size" (small, big, tall or absent), "species" for trees
 * @param box        bounding box of its visible pixels
 * @param depth      nearness at its base, 0 (far) .. 1 (near), as in the depth map
 * @param pixels     number of visible pixels
 */
public record SceneObject(ToyClass toyClass, int instanceId, Map<String, String> attributes, Box box, float depth, int pixels) {
    public String attribute(String key) { return attributes.get(key); }
}
