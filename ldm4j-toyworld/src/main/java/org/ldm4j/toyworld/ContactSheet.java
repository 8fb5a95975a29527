package org.ldm4j.toyworld;

import java.awt.Color;
import java.awt.Graphics2D;
import java.awt.RenderingHints;
import java.awt.image.BufferedImage;
import java.util.List;

/**
 * A grid for looking at scenes: one row per scene, columns image | segmentation | depth | sketch | normals |
 * painting, each cell enlarged by an integer factor with nearest-neighbour sampling (no blur hides errors).
 */
public final class ContactSheet {
    public static final List<String> COLUMNS = List.of("image", "seg", "depth", "sketch", "normals", "painting");

    private ContactSheet() {}

    public static BufferedImage of(List<Scene> scenes, int zoom, PaintingOptions painting) {
        if (scenes.isEmpty()) throw new IllegalArgumentException("contact sheet needs at least one scene");
        if (zoom < 1) throw new IllegalArgumentException("zoom must be >= 1, got " + zoom);
        int cw = scenes.get(0).width() * zoom, ch = scenes.get(0).height() * zoom, gap = 2;
        int cols = COLUMNS.size();
        BufferedImage sheet = new BufferedImage(cols * (cw + gap) + gap, scenes.size() * (ch + gap) + gap, BufferedImage.TYPE_INT_RGB);
        Graphics2D g = sheet.createGraphics();
        g.setColor(new Color(40, 40, 40));
        g.fillRect(0, 0, sheet.getWidth(), sheet.getHeight());
        g.setRenderingHint(RenderingHints.KEY_INTERPOLATION, RenderingHints.VALUE_INTERPOLATION_NEAREST_NEIGHBOR);
        for (int row = 0; row < scenes.size(); row++) {
            Scene s = scenes.get(row);
            BufferedImage[] cells = {s.image(), s.segColourImage(), s.depthImage(), s.sketchImage(), s.normalsImage(),
                    s.painting(s.seed(), painting).image()};
            for (int col = 0; col < cols; col++) {
                g.drawImage(cells[col], gap + col * (cw + gap), gap + row * (ch + gap), cw, ch, null);
            }
        }
        g.dispose();
        return sheet;
    }
}
