package org.ldm4j.cli;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import org.ldm4j.image.ImageGrid;
import org.ldm4j.image.Images;

import java.awt.Color;
import java.awt.image.BufferedImage;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;

/**
 * The {@code --grid FILE} of the evaluation commands: a PNG with one row per test case and one column per named
 * image (e.g. painting | SDEdit | GradOP+ | ground truth), cells separated by white lines so that neighbouring
 * scenes do not merge. The column names go to the console and to the JSON report; the PNG carries pixels only.
 */
final class PictureGrid {
    /** White separator between cells, in pixels. */
    static final int PADDING = 2;

    private PictureGrid() {}

    /** Fails early (before any model runs) on a grid path that cannot be a PNG. Null (no grid) passes. */
    static void check(Path file) {
        if (file == null) return;
        if (!file.getFileName().toString().toLowerCase(Locale.ROOT).endsWith(".png")) {
            throw new Ldm4j.UsageError("--grid must name a .png file, got " + file);
        }
        if (Files.isDirectory(file)) throw new Ldm4j.UsageError("--grid " + file + " is a folder");
    }

    /** A packed 0xRRGGBB image as a picture tile. */
    static BufferedImage image(int[] rgb, int width, int height) {
        if (rgb.length != width * height) throw new IllegalArgumentException(rgb.length + " pixels for a " + width + "x" + height + " tile");
        BufferedImage img = new BufferedImage(width, height, BufferedImage.TYPE_INT_RGB);
        img.setRGB(0, 0, width, height, rgb, 0, width);
        return img;
    }

    /** A mid-grey tile: a cell whose image does not exist (e.g. an edit a preset skipped). */
    static BufferedImage blank(int width, int height) {
        int[] grey = new int[width * height];
        Arrays.fill(grey, 0x808080);
        return image(grey, width, height);
    }

    /**
     * Writes the tiles (row-major, {@code columns.size()} per row) atomically to {@code file}, says so on the console
     * and records file, columns and rows under "grid" in the report.
     */
    static void write(Path file, List<BufferedImage> tiles, List<String> columns, ObjectNode report) throws IOException {
        if (tiles.isEmpty()) {
            System.out.println("no grid written: no rows to show");
            report.putObject("grid").put("file", file.toString()).put("rows", 0);
            return;
        }
        int cols = columns.size();
        if (tiles.size() % cols != 0) throw new IllegalArgumentException(tiles.size() + " tiles do not fill rows of " + cols);
        int rows = tiles.size() / cols;
        BufferedImage grid = ImageGrid.of(tiles, rows, cols, PADDING, Color.WHITE);
        Path parent = file.toAbsolutePath().getParent();
        if (parent != null) Files.createDirectories(parent);
        Images.writePng(grid, file);
        System.out.printf("wrote %s (%d rows; columns: %s)%n", file, rows, String.join(" | ", columns));
        ObjectNode g = report.putObject("grid").put("file", file.toString()).put("rows", rows);
        ArrayNode names = g.putArray("columns");
        columns.forEach(names::add);
    }
}
