package org.ldm4j.toyworld;

import java.awt.image.BufferedImage;
import java.util.List;

/**
 * One ToyWorld scene and its pixel-aligned ground truth. Arrays are row-major, {@code width * height} long
 * (normals: 3 per pixel). Treat them as read-only; record equality compares array identity, use
 * {@link java.util.Arrays#equals} to compare contents.
 *
 * @param seed      the seed it was sampled from
 * @param rgb       image, packed 0xRRGGBB
 * @param seg       class index per pixel ({@link ToyClass#ordinal()})
 * @param instances instance id per pixel; object i of {@link #objects()} has {@code objects().get(i).instanceId()}
 * @param depth     nearness 0 (sky, far) .. 1 (bottom of the ground plane, near)
 * @param sketch    line pixels: object outlines and inner detail lines
 * @param normals   unit surface normals from the depth, x right, y up, z towards the viewer
 * @param captions  three captions, the first the plainest
 * @param objects   visible objects, far to near
 */
public record Scene(long seed, int width, int height, TimeOfDay time, GroundType ground, WaterType water,
                    int[] rgb, int[] seg, int[] instances, float[] depth, boolean[] sketch, float[] normals,
                    List<String> captions, List<SceneObject> objects) {

    /** The first caption. */
    public String caption() { return captions.get(0); }

    public BufferedImage image() { return SceneImages.rgb(width, height, rgb); }

    /** Segmentation in the fixed palette ({@link ToyClass#colour()}). */
    public BufferedImage segColourImage() { return SceneImages.segColour(width, height, seg); }

    /** Segmentation as 8-bit grey, value = class index. */
    public BufferedImage segIndexImage() { return SceneImages.grey(width, height, seg); }

    /** Depth as 8-bit grey, near = bright. */
    public BufferedImage depthImage() { return SceneImages.depth(width, height, depth); }

    /** Sketch: white lines on black, as ControlNet scribble/HED conditions are drawn. */
    public BufferedImage sketchImage() { return SceneImages.sketch(width, height, sketch); }

    /** Normals as RGB = (n + 1) / 2 per axis; a surface facing the viewer is (128, 128, 255). */
    public BufferedImage normalsImage() { return SceneImages.normals(width, height, normals); }

    /** A simulated user painting of this scene. */
    public Painting painting(long paintSeed, PaintingOptions options) { return StrokePainter.paint(this, paintSeed, options); }

    /** Pixels of the given object, exactly. */
    public Mask objectMask(SceneObject object) { return EditMasks.object(this, object); }

    /** The number of pixels of class c. */
    public int classPixels(ToyClass c) {
        int n = 0;
        for (int v : seg) if (v == c.ordinal()) n++;
        return n;
    }
}
