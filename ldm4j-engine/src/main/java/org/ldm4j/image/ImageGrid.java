package org.ldm4j.image;

import java.awt.Color;
import java.awt.Graphics2D;
import java.awt.image.BufferedImage;
import java.util.List;

/**
 * A contact sheet of a batch: images in row-major order on a {@code rows x cols} grid, {@code padding} pixels
 * between cells and around the border. Cells are as large as the largest image; smaller images sit top-left.
 */
public final class ImageGrid {
    private ImageGrid() {}

    /** A grid with {@code cols} columns and as many rows as needed, 0 padding, black background. */
    public static BufferedImage of(List<BufferedImage> images, int cols) {
        return of(images, rowsFor(images.size(), cols), cols, 0, Color.BLACK);
    }

    public static BufferedImage of(List<BufferedImage> images, int rows, int cols, int padding, Color background) {
        if (images.isEmpty()) throw new IllegalArgumentException("no images for a grid");
        if (rows <= 0 || cols <= 0) throw new IllegalArgumentException("grid must have positive rows and columns, got " + rows + "x" + cols);
        if ((long) rows * cols < images.size()) {
            throw new IllegalArgumentException(images.size() + " images do not fit a " + rows + "x" + cols + " grid");
        }
        if (padding < 0) throw new IllegalArgumentException("padding must be >= 0, got " + padding);
        int cellW = images.stream().mapToInt(BufferedImage::getWidth).max().orElseThrow();
        int cellH = images.stream().mapToInt(BufferedImage::getHeight).max().orElseThrow();
        BufferedImage grid = new BufferedImage(cols * cellW + (cols + 1) * padding, rows * cellH + (rows + 1) * padding,
                BufferedImage.TYPE_INT_RGB);
        Graphics2D g = grid.createGraphics();
        try {
            g.setColor(background);
            g.fillRect(0, 0, grid.getWidth(), grid.getHeight());
        } finally {
            g.dispose();
        }
        // Pixels are copied, not drawn: Graphics2D would colour-convert grey images and could dither.
        for (int i = 0; i < images.size(); i++) {
            BufferedImage img = images.get(i);
            int w = img.getWidth(), h = img.getHeight();
            int[] argb = Pixels.compositeRgb(Pixels.rgba8(img), background);
            int[] xy = cellOrigin(i, cols, cellW, cellH, padding);
            grid.setRGB(xy[0], xy[1], w, h, argb, 0, w);
        }
        return grid;
    }

    /** Top-left pixel of cell {@code index} (row-major). */
    public static int[] cellOrigin(int index, int cols, int cellW, int cellH, int padding) {
        int r = index / cols, c = index % cols;
        return new int[]{padding + c * (cellW + padding), padding + r * (cellH + padding)};
    }

    /** Rows needed for {@code n} images in {@code cols} columns. */
    public static int rowsFor(int n, int cols) {
        if (cols <= 0) throw new IllegalArgumentException("columns must be positive, got " + cols);
        return Math.max(1, (n + cols - 1) / cols);
    }

    /** A near-square column count for {@code n} images: ceil(sqrt(n)). */
    public static int squareColumns(int n) {
        return Math.max(1, (int) Math.ceil(Math.sqrt(n)));
    }
}
