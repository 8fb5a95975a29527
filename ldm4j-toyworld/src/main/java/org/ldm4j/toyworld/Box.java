package org.ldm4j.toyworld;

/** Pixel bounding box, inclusive min and exclusive max: {@code x0 <= x < x1}, {@code y0 <= y < y1}. */
public record Box(int x0, int y0, int x1, int y1) {
    public int width() { return x1 - x0; }
    public int height() { return y1 - y0; }
    public double centreX() { return (x0 + x1) / 2.0; }
    public double centreY() { return (y0 + y1) / 2.0; }
}
